/**
 * SSL error codes. The numbers are the reference toolkit's SSL error group, so code written
 * against its documentation can match on them.
 */
export const TlsErrorCode = {
  /** A certificate store (PFX or PEM data, file) cannot be opened or parsed, or the password is wrong. */
  CannotOpenStore: 271,
  /** No certificate in the store matches the subject selection, or a private key is missing. */
  CertificateNotFound: 272,
  /** The TLS settings cannot be turned into credentials (bad protocol set, unknown cipher suite). */
  CannotAcquireCredentials: 273,
  /** No chain from the certificate to a trusted anchor. */
  ChainNotFound: 274,
  /** A chain was found but does not verify (signature, validity, CA flags). */
  CannotVerifyChain: 275,
  /** The TLS handshake failed or timed out. */
  HandshakeError: 276,
  /** The peer's certificate was rejected. */
  CertificateVerifyError: 280,
  /** A client certificate was required but none was sent. */
  ClientCertificateNotFound: 281,
  /** The server presented no certificate. */
  ServerCertificateNotFound: 282,
} as const;
export type TlsErrorCode = (typeof TlsErrorCode)[keyof typeof TlsErrorCode];

export class TlsError extends Error {
  override readonly name = 'TlsError';
  constructor(
    readonly code: TlsErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`[${code}] ${message}`, options);
  }
}
