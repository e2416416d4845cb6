/**
 * Error codes of the TCPServer component. The numbers are the reference toolkit's, so code
 * written against its documentation can match on them; `name`d codes are our own.
 */
export const TcpServerErrorCode = {
  AlreadyListening: 104,
  CannotChangeLocalPort: 106,
  CannotChangeLocalHost: 107,
  CannotChangeMaxConnections: 108,
  CannotChangeMaxLineLength: 112,
  InvalidConnectionId: 126,
  WouldBlock: 135,
} as const;
export type TcpServerErrorCode = (typeof TcpServerErrorCode)[keyof typeof TcpServerErrorCode];

export class TcpServerError extends Error {
  override readonly name = 'TcpServerError';
  constructor(
    readonly code: TcpServerErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`[${code}] ${message}`, options);
  }
}
