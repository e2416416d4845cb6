/**
 * Error and status codes of the TCPServer component. The numbers are the reference toolkit's
 * (its TCPServer, SSL and Winsock groups), so code written against its documentation can
 * match on them.
 */
export const TcpServerErrorCode = {
  /** StartListening while already listening. */
  AlreadyListening: 104,
  /** LocalPort cannot change while listening. */
  CannotChangeLocalPort: 106,
  /** LocalHost cannot change while listening. */
  CannotChangeLocalHost: 107,
  /** MaxConnections cannot change while listening. */
  CannotChangeMaxConnections: 108,
  /** MaxLineLength cannot change while a partial line is buffered. */
  CannotChangeMaxLineLength: 112,
  /** No connection with that ConnectionId. */
  InvalidConnectionId: 126,
  /** The send queue is full (only in `wouldBlock: 'throw'` mode). */
  WouldBlock: 135,
  /** A certificate store could not be opened / the TLS credentials could not be built. */
  CannotOpenStore: 271,
  CertificateNotFound: 272,
  CannotAcquireCredentials: 273,
  /** The TLS handshake failed or timed out. */
  HandshakeError: 276,
  /** The client certificate was rejected (SSLClientAuthentication ended with accept = false). */
  CertificateRejected: 280,
  /** Permission denied (binding a privileged port). */
  AccessDenied: 10013,
  /** Invalid argument (a setting out of range, an unknown configuration name). */
  InvalidArgument: 10022,
  /** Too many open files (the process file-descriptor limit). */
  TooManyOpenFiles: 10024,
  /** Address already in use. */
  AddressInUse: 10048,
  /** The local address is not available on this host. */
  AddressNotAvailable: 10049,
  /** The connection was aborted locally. */
  ConnectionAborted: 10053,
  /** Connection reset by peer. */
  ConnectionReset: 10054,
  /** No buffer space: the connection's send queue exceeded `maxSendBuffer` (peer not reading). */
  NoBufferSpace: 10055,
  /** Broken pipe (writing to a closed connection). */
  BrokenPipe: 10058,
  /** Timed out (idle timeout, send timeout). */
  TimedOut: 10060,
  ConnectionRefused: 10061,
  HostUnreachable: 10065,
  HostNotFound: 11001,
} as const;
export type TcpServerErrorCode = (typeof TcpServerErrorCode)[keyof typeof TcpServerErrorCode];

export class TcpServerError extends Error {
  override readonly name = 'TcpServerError';
  /** The connection the error concerns, when there is one. */
  readonly connectionId: string | undefined;
  constructor(
    readonly code: TcpServerErrorCode,
    message: string,
    options?: { cause?: unknown; connectionId?: string },
  ) {
    super(`[${code}] ${message}`, options?.cause !== undefined ? { cause: options.cause } : undefined);
    this.connectionId = options?.connectionId;
  }
}
