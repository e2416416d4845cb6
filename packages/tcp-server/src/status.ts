/**
 * System error → status code mapping: Node errno names to the Winsock numbers the reference
 * toolkit reports in Connected/Disconnected/Error, with their descriptions.
 */
import { TcpServerError, TcpServerErrorCode } from './errors.js';

const BY_ERRNO: Readonly<Record<string, readonly [number, string]>> = {
  EAGAIN: [10035, 'Operation would block'],
  EWOULDBLOCK: [10035, 'Operation would block'],
  EACCES: [10013, 'Permission denied'],
  EPERM: [10013, 'Permission denied'],
  EINVAL: [10022, 'Invalid argument'],
  EMFILE: [10024, 'Too many open files'],
  ENFILE: [10024, 'Too many open files'],
  EADDRINUSE: [10048, 'Address already in use'],
  EADDRNOTAVAIL: [10049, 'Cannot assign requested address'],
  ENETDOWN: [10050, 'Network is down'],
  ENETUNREACH: [10051, 'Network is unreachable'],
  ECONNABORTED: [10053, 'Software caused connection abort'],
  ECONNRESET: [10054, 'Connection reset by peer'],
  ENOBUFS: [10055, 'No buffer space available'],
  ENOTCONN: [10057, 'Socket is not connected'],
  EPIPE: [10058, 'Cannot send after socket shutdown'],
  ERR_STREAM_DESTROYED: [10058, 'Cannot send after socket shutdown'],
  ERR_STREAM_WRITE_AFTER_END: [10058, 'Cannot send after socket shutdown'],
  ETIMEDOUT: [10060, 'Connection timed out'],
  ECONNREFUSED: [10061, 'Connection refused'],
  EHOSTUNREACH: [10065, 'No route to host'],
  ENOTFOUND: [11001, 'Host not found'],
  EAI_AGAIN: [11002, 'Nonauthoritative host not found'],
};

export interface Status {
  readonly code: number;
  readonly description: string;
}

export const OK: Status = { code: 0, description: 'OK' };

/** The toolkit status of a Node system error (unknown errors keep their errno as text with code 10000 + errno). */
export function statusOf(err: unknown): Status {
  if (err instanceof TcpServerError) return { code: err.code, description: err.message.replace(/^\[\d+\] /, '') };
  const e = err as NodeJS.ErrnoException | undefined;
  if (typeof (e as { code?: unknown } | undefined)?.code === 'number') {
    // Our own numbered errors (TlsError and the like) keep their code.
    return { code: (e as unknown as { code: number }).code, description: (e?.message ?? '').replace(/^\[\d+\] /, '') };
  }
  const code = typeof e?.code === 'string' ? e.code : '';
  const known = code ? BY_ERRNO[code] : undefined;
  if (known) return { code: known[0], description: known[1] };
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /SSL|TLS|alert|handshake/i.test(e?.message ?? '')) {
    return { code: TcpServerErrorCode.HandshakeError, description: `TLS error: ${e?.message ?? String(err)}` };
  }
  const errno = typeof e?.errno === 'number' ? Math.abs(e.errno) : 0;
  return { code: errno ? 10000 + errno : 10000, description: e?.message ?? String(err) };
}

/** A TcpServerError carrying the mapped status of a system error. */
export function systemError(err: unknown, context: string, connectionId?: string): TcpServerError {
  const s = statusOf(err);
  return new TcpServerError(s.code as TcpServerErrorCode, `${context}: ${s.description}`, {
    cause: err,
    ...(connectionId !== undefined ? { connectionId } : {}),
  });
}
