/**
 * The TLS upgrade of an accepted socket, shared by implicit TLS (handshake right after
 * accept) and explicit TLS (StartSSL after a STARTTLS-style exchange): one code path that
 * wraps the socket in a server-side TLSSocket, bounds the handshake with a timeout, optionally
 * peeks the ClientHello for the SSLConnectionRequest event, and runs the client-certificate
 * verdict.
 */
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { type CertificateVerdict, ClientHelloCollector, type ClientHelloInfo, clientCertificateVerdict, TlsError } from '@iotwire/tls';
import { type Connection, connectionOf } from './connection.js';
import { TcpServerErrorCode } from './errors.js';
import { type Status, statusOf } from './status.js';

/** The server side of an upgrade. @internal */
export interface TlsHost {
  /** The server's secure context (built once per certificate/settings). */
  secureContext(): tls.SecureContext;
  readonly authenticateClients: boolean;
  readonly handshakeTimeoutMs: number;
  readonly highWaterMark: number | undefined;
  readonly keyLog: ((line: Buffer) => void) | undefined;
  sslStatus(conn: Connection, message: string): void;
  /** Whether anyone listens to sslConnectionRequest (only then is the ClientHello peeked). */
  wantsConnectionRequest(): boolean;
  /** Emits sslConnectionRequest; resolves with the context to use (undefined = the default). */
  connectionRequest(conn: Connection, hello: ClientHelloInfo): tls.SecureContext | undefined | Promise<tls.SecureContext | undefined>;
  /** Emits sslClientAuthentication; the final accept. */
  clientAuthentication(conn: Connection, verdict: CertificateVerdict): boolean | Promise<boolean>;
  /** The handshake and the verdict succeeded. */
  secured(conn: Connection): void;
}

function fail(conn: Connection, status: Status): void {
  conn._fail(status, false);
}

function handshakeStatus(err: unknown): Status {
  if (err instanceof TlsError) return { code: err.code, description: err.message.replace(/^\[\d+\] /, '') };
  const s = statusOf(err);
  if (s.code === TcpServerErrorCode.HandshakeError) return s;
  return { code: TcpServerErrorCode.HandshakeError, description: `TLS handshake failed: ${s.description}` };
}

function onSecure(this: tls.TLSSocket): void {
  const conn = connectionOf(this);
  const host = hosts.get(this);
  if (!conn || !host) return;
  hosts.delete(this);
  conn._handshakeDone();
  const cipher = this.getCipher();
  host.sslStatus(conn, `TLS handshake complete: ${this.getProtocol()} ${cipher?.standardName ?? cipher?.name ?? ''}`);
  if (!host.authenticateClients) {
    host.secured(conn);
    return;
  }
  const verdict = clientCertificateVerdict(this);
  const decide = (accept: boolean) => {
    if (conn._isClosed) return;
    if (accept) host.secured(conn);
    else fail(conn, { code: TcpServerErrorCode.CertificateRejected, description: `Client certificate rejected: ${verdict.status}` });
  };
  const r = host.clientAuthentication(conn, verdict);
  if (typeof r === 'boolean') decide(r);
  else void r.then(decide);
}

function onTlsError(this: tls.TLSSocket, err: Error): void {
  const conn = connectionOf(this);
  // A handshake failure is a 276, whatever errno OpenSSL's alert maps to.
  if (conn?._handshakeInProgress) conn._setStatus(handshakeStatus(err));
}

/** Which host an in-handshake socket belongs to (only until 'secure'). */
const hosts = new WeakMap<tls.TLSSocket, TlsHost>();

function wrap(conn: Connection, raw: Socket, host: TlsHost, context: tls.SecureContext): void {
  let t: tls.TLSSocket;
  try {
    t = new tls.TLSSocket(raw, {
      isServer: true,
      secureContext: context,
      requestCert: host.authenticateClients,
      rejectUnauthorized: false,
      ...(host.highWaterMark !== undefined ? { highWaterMark: host.highWaterMark } : {}),
    });
  } catch (err) {
    conn._bind(raw);
    fail(conn, handshakeStatus(err));
    return;
  }
  // Node caches the peer address on first read; read it now so remoteHost survives the close.
  void t.remoteAddress;
  // Our error listener goes first so the handshake status is recorded before the generic one.
  t.on('error', onTlsError);
  conn._bind(t);
  conn._handshaking(host.handshakeTimeoutMs);
  hosts.set(t, host);
  t.once('secure', onSecure);
  if (host.keyLog) t.on('keylog', host.keyLog);
}

/**
 * Starts TLS on an accepted connection. Events: sslStatus (start), sslConnectionRequest
 * (when listened to), sslStatus (done), sslClientAuthentication, then `host.secured`. Any
 * failure closes the connection with status 276 (handshake) or 280 (certificate rejected).
 */
export function beginTls(conn: Connection, host: TlsHost): void {
  const raw = conn._unbind();
  host.sslStatus(conn, 'TLS handshake started');
  let context: tls.SecureContext;
  try {
    context = host.secureContext();
  } catch (err) {
    conn._bind(raw);
    fail(conn, handshakeStatus(err));
    return;
  }
  if (!host.wantsConnectionRequest()) {
    wrap(conn, raw, host, context);
    return;
  }
  peekClientHello(conn, raw, host, context);
}

/**
 * Reads the ClientHello on the plain socket (bounded in size and time), emits
 * sslConnectionRequest, then puts the bytes back (`unshift`) for the TLS layer, which reads a
 * wrapped socket's buffered data before its own.
 */
function peekClientHello(conn: Connection, raw: Socket, host: TlsHost, context: tls.SecureContext): void {
  const collector = new ClientHelloCollector();
  conn._bind(raw);
  conn._handshaking(host.handshakeTimeoutMs);
  const onChunk = (chunk: Buffer) => {
    let hello: ClientHelloInfo | undefined;
    try {
      hello = collector.push(chunk);
    } catch (err) {
      raw.removeListener('data', onChunk);
      fail(conn, handshakeStatus(err));
      return;
    }
    if (!hello) return;
    raw.removeListener('data', onChunk);
    raw.pause();
    const proceed = (chosen: tls.SecureContext | undefined) => {
      if (conn._closing) return;
      conn._unbind();
      raw.unshift(collector.bytes);
      wrap(conn, raw, host, chosen ?? context);
    };
    let r: ReturnType<TlsHost['connectionRequest']>;
    try {
      r = host.connectionRequest(conn, hello);
    } catch (err) {
      fail(conn, handshakeStatus(err));
      return;
    }
    if (r instanceof Promise) r.then(proceed, (err) => fail(conn, handshakeStatus(err)));
    else proceed(r);
  };
  raw.on('data', onChunk);
  raw.resume();
}
