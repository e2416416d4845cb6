/** Stable error codes raised by `@iotwire/udp`. */
export type UdpErrorCode =
  | 'ERR_UDP_NOT_BOUND'
  | 'ERR_UDP_CLOSED'
  | 'ERR_UDP_SEND'
  | 'ERR_UDP_BIND'
  | 'ERR_UDP_DATAGRAM_TOO_LARGE'
  | 'ERR_UDP_BACKPRESSURE';

export class UdpError extends Error {
  override readonly name = 'UdpError';
  constructor(
    readonly code: UdpErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
