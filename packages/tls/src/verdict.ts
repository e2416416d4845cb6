/**
 * Certificate verdicts: the toolkit's SSLClientAuthentication / SSLServerAuthentication
 * arguments (encoded certificate, subject, issuer, status, accept). OpenSSL's verification
 * result arrives pre-set in `accept`; handlers may overturn it either way, synchronously or
 * asynchronously, and the final `accept` decides whether the connection stays up.
 */
import type { X509Certificate } from 'node:crypto';
import { X509Certificate as X509 } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { type CertificatePin, pinMatches } from './pin.js';
import { formatDn, readX509Fields } from './x509-fields.js';

/** Status used when the peer sent no certificate. */
export const NO_CERTIFICATE = 'NO_PEER_CERTIFICATE';

export class CertificateVerdict {
  /** The peer's certificate, if it sent one. */
  readonly certificate: X509Certificate | undefined;
  /** The certificates above it that the peer sent or OpenSSL found (nearest first). */
  readonly chain: readonly X509Certificate[];
  /** `'OK'`, or why verification failed (OpenSSL verify code such as `CERT_HAS_EXPIRED`). */
  readonly status: string;
  /** Pre-set to the verification result; handlers may change it. Final `false` closes the connection. */
  accept: boolean;
  #subject: string | undefined;
  #issuer: string | undefined;

  constructor(init: { certificate?: X509Certificate; chain?: readonly X509Certificate[]; status: string; accept?: boolean }) {
    this.certificate = init.certificate;
    this.chain = init.chain ?? [];
    this.status = init.status;
    this.accept = init.accept ?? init.status === 'OK';
  }

  /** PEM of the certificate (`''` when none). */
  get certEncoded(): string {
    return this.certificate ? this.certificate.toString() : '';
  }
  /** DER of the certificate (empty when none). */
  get certEncodedB(): Buffer {
    return this.certificate ? Buffer.from(this.certificate.raw) : Buffer.alloc(0);
  }
  /** Subject DN, `CN=..., O=...` (`''` when none). */
  get subject(): string {
    if (this.#subject === undefined) this.#fillNames();
    return this.#subject!;
  }
  get issuer(): string {
    if (this.#issuer === undefined) this.#fillNames();
    return this.#issuer!;
  }
  #fillNames(): void {
    if (!this.certificate) {
      this.#subject = '';
      this.#issuer = '';
      return;
    }
    const f = readX509Fields(Buffer.from(this.certificate.raw));
    this.#subject = formatDn(f.subject);
    this.#issuer = formatDn(f.issuer);
  }
}

/** A handler of an args object with a mutable `accept` (verdicts, connection requests). */
export type AcceptHandler<T extends { accept: boolean }, X extends unknown[] = []> = (args: T, ...extra: X) => unknown;

function isThenable(r: unknown): r is PromiseLike<unknown> {
  return r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function';
}

/**
 * Runs handlers in order; each sees what the previous ones decided. A handler returning a
 * promise is awaited before the next runs. A throwing or rejecting handler sets
 * `accept = false` and is reported through `onError`. Returns the final `accept`
 * synchronously when no handler was asynchronous (no extra tick on the common path).
 * `extra` arguments are passed to every handler after the args object.
 */
export function runAcceptHandlers<T extends { accept: boolean }, X extends unknown[] = []>(
  args: T,
  handlers: readonly AcceptHandler<T, X>[] | readonly ((...a: never[]) => unknown)[],
  onError?: (err: unknown) => void,
  ...extra: X
): boolean | Promise<boolean> {
  const list = handlers as readonly AcceptHandler<T, X>[];
  for (let i = 0; i < list.length; i++) {
    let r: unknown;
    try {
      r = list[i]!(args, ...extra);
    } catch (err) {
      args.accept = false;
      onError?.(err);
      return false;
    }
    if (isThenable(r)) {
      return (async () => {
        try {
          await r;
          for (let j = i + 1; j < list.length; j++) await list[j]!(args, ...extra);
        } catch (err) {
          args.accept = false;
          onError?.(err);
        }
        return args.accept;
      })();
    }
  }
  return args.accept;
}

/** The peer's certificate chain as X509Certificates (leaf excluded), from Node's detailed peer certificate. */
export function peerChain(socket: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  let c = socket.getPeerCertificate(true) as (ReturnType<TLSSocket['getPeerCertificate']> & { issuerCertificate?: unknown }) | undefined;
  const seen = new Set<unknown>();
  while (c && typeof c === 'object' && 'raw' in c && !seen.has(c)) {
    seen.add(c);
    const next = (c as { issuerCertificate?: typeof c }).issuerCertificate;
    if (!next || next === c || !('raw' in next)) break;
    out.push(new X509(next.raw));
    c = next;
  }
  return out;
}

interface VerifyHandle {
  verifyError?: () => (Error & { code?: string }) | null;
}

/**
 * OpenSSL's verification result for the peer of a server-side TLSSocket built by hand
 * (`new TLSSocket(socket, { isServer: true })`), where Node leaves `authorized` unset. It
 * reads the same `verifyError()` that `tls.Server` itself consults.
 */
export function serverSideVerifyStatus(socket: TLSSocket): string {
  if (socket.authorized) return 'OK';
  if (socket.authorizationError) return String(socket.authorizationError);
  const handle =
    (socket as unknown as { ssl?: VerifyHandle; _handle?: VerifyHandle }).ssl ?? (socket as unknown as { _handle?: VerifyHandle })._handle;
  const err = handle?.verifyError?.();
  if (!err) return 'OK';
  return err.code ?? err.message;
}

/**
 * Verdict for a client's certificate on a server-side socket after the handshake (the
 * SSLClientAuthentication arguments). No certificate → status {@link NO_CERTIFICATE}, accept false.
 */
export function clientCertificateVerdict(socket: TLSSocket): CertificateVerdict {
  const cert = socket.getPeerX509Certificate();
  if (!cert) return new CertificateVerdict({ status: NO_CERTIFICATE, accept: false });
  return new CertificateVerdict({ certificate: cert, chain: peerChain(socket), status: serverSideVerifyStatus(socket) });
}

/**
 * Verdict for the server's certificate on a client socket after `secureConnect` (the
 * SSLServerAuthentication arguments). A certificate matching `acceptServerCert` is accepted
 * whatever the verification said (the toolkit's SSLAcceptServerCert).
 */
export function serverCertificateVerdict(
  socket: TLSSocket,
  acceptServerCert?: CertificatePin | readonly CertificatePin[],
): CertificateVerdict {
  const cert = socket.getPeerX509Certificate();
  const status = cert
    ? socket.authorized
      ? 'OK'
      : String(socket.authorizationError ?? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE')
    : NO_CERTIFICATE;
  const pinned = acceptServerCert !== undefined && pinMatches(cert, acceptServerCert);
  return new CertificateVerdict({
    ...(cert ? { certificate: cert, chain: peerChain(socket) } : {}),
    status,
    accept: status === 'OK' || pinned,
  });
}
