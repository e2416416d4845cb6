/** Stable error codes of `@iotwire/coap`, with the reference toolkit's error number where it has one. */
export const ERROR_NUMBERS = {
  /** 700: invalid or malformed URI. */
  ERR_COAP_URI: 700,
  /** 701: invalid or malformed option (also: a response carrying an unknown critical option). */
  ERR_COAP_OPTION: 701,
  /** 702: invalid block (block-wise transfer failed or was inconsistent). */
  ERR_COAP_BLOCK: 702,
  /** 703: malformed message. */
  ERR_COAP_MALFORMED: 703,
  /** 704: transmission timed out (CON retransmission exhausted or the request timeout elapsed). */
  ERR_COAP_TIMEOUT: 704,
  /** 705: the peer rejected our message with RST. */
  ERR_COAP_RESET: 705,
  /** 706: unknown request id (cancel or sendResponse). */
  ERR_COAP_UNKNOWN_REQUEST: 706,
  /** 707: invalid response code. */
  ERR_COAP_RESPONSE_CODE: 707,
  /** 709: error response (4.xx/5.xx) when the caller asked for rejection on error codes. */
  ERR_COAP_ERROR_RESPONSE: 709,
  /** 710: no observers / observation not supported. */
  ERR_COAP_NOT_OBSERVABLE: 710,
  /** 711: request cancelled. */
  ERR_COAP_CANCELLED: 711,
} as const;

export type CoapErrorCode =
  | keyof typeof ERROR_NUMBERS
  /** The client or server was closed. */
  | 'ERR_COAP_CLOSED'
  /** The datagram endpoint failed to bind or send. */
  | 'ERR_COAP_TRANSPORT'
  /** No transport for the URI's scheme (e.g. `coaps://` without a DTLS endpoint). */
  | 'ERR_COAP_NO_TRANSPORT'
  /** The host name could not be resolved. */
  | 'ERR_COAP_DNS'
  /** `coaps`: the DTLS handshake failed, or the session carrying the exchange ended (`cause`: the `DtlsError`). */
  | 'ERR_COAP_DTLS'
  /** A configured limit was reached (pending requests, body size, observers...). */
  | 'ERR_COAP_LIMIT'
  /** A method was called in the wrong state (e.g. `listen()` twice). */
  | 'ERR_COAP_STATE';

/** An error raised by the CoAP client or server, with a stable `code`. */
export class CoapError extends Error {
  override readonly name = 'CoapError';
  constructor(
    readonly code: CoapErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The reference toolkit's error number (700–711) for this code, or `undefined`. */
  get errorNumber(): number | undefined {
    return (ERROR_NUMBERS as Record<string, number>)[this.code];
  }
}

/** Emits `error` when someone listens; otherwise logs a process warning (never throws). */
export function reportError(emitter: object, err: Error): void {
  const e = emitter as { listenerCount(e: string): number; emit(e: string, err: Error): boolean };
  if (e.listenerCount('error') > 0) e.emit('error', err);
  else process.emitWarning(`@iotwire/coap: ${err.message}`, { code: 'IOTWIRE_COAP_ERROR' });
}
