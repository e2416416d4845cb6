import { AlertDescription, alertName } from './constants.js';

/** Stable error codes raised by `@iotwire/dtls`. */
export type DtlsErrorCode =
  | 'ERR_DTLS_DECODE'
  | 'ERR_DTLS_HANDSHAKE_FAILURE'
  | 'ERR_DTLS_HANDSHAKE_TIMEOUT'
  | 'ERR_DTLS_ALERT_RECEIVED'
  | 'ERR_DTLS_CERT_REJECTED'
  | 'ERR_DTLS_UNKNOWN_PSK_IDENTITY'
  | 'ERR_DTLS_NO_SHARED_CIPHER'
  | 'ERR_DTLS_PROTOCOL_VERSION'
  | 'ERR_DTLS_BAD_FINISHED'
  | 'ERR_DTLS_BAD_SIGNATURE'
  | 'ERR_DTLS_UNEXPECTED_MESSAGE'
  | 'ERR_DTLS_NO_SESSION'
  | 'ERR_DTLS_BAD_PEER'
  | 'ERR_DTLS_CLOSED'
  | 'ERR_DTLS_SESSION_CLOSED'
  | 'ERR_DTLS_QUEUE_FULL'
  | 'ERR_DTLS_MESSAGE_TOO_LARGE'
  | 'ERR_DTLS_CONFIG'
  | 'ERR_DTLS_CREDENTIALS';

/**
 * An error from the DTLS layer. `alert` is the TLS alert description sent to (or received from)
 * the peer where one applies, so callers can tell a protocol failure from a local one.
 */
export class DtlsError extends Error {
  override readonly name = 'DtlsError';
  constructor(
    readonly code: DtlsErrorCode,
    message: string,
    readonly alert?: number,
    options?: { cause?: unknown },
  ) {
    super(alert === undefined ? message : `${message} (alert ${alertName(alert)})`, options);
  }
}

/** Thrown by decoders on malformed input; the handshake maps it to a `decode_error` alert. */
export class DtlsDecodeError extends DtlsError {
  constructor(message: string) {
    super('ERR_DTLS_DECODE', message, AlertDescription.DecodeError);
  }
}
