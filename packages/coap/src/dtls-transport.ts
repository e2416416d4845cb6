// CoAP over DTLS (RFC 7252 §9): the DTLS endpoints the client and server create for `coaps`,
// the handshake the client runs before a request (so a failure is reported as such, not as a
// CoAP time-out), and the seed's SSL events re-emitted on the CoAP objects.

import type { EventEmitter } from 'node:events';
import { DtlsClient, type DtlsClientOptions, type DtlsServer, type DtlsServerOptions } from '@iotwire/dtls';
import type { PeerAddress } from '@iotwire/udp';
import { CoapError } from './errors.js';

/**
 * DTLS settings of a `CoapClient` for `coaps://`: `psk` (`{ identity, key }` or a callback
 * choosing them from the server's hint), certificates (`cert`, `key`, `ca`, `acceptServerCert`,
 * `servername`), raw public keys (`key`, `useRawPublicKey`, `trustedPeerKeys`) and every other
 * `DtlsClientOptions` setting of `@iotwire/dtls` (cipher suites, groups, timers, key log...).
 * The transport itself (address, port) comes from the CoAP client.
 */
export type CoapDtlsClientOptions = Omit<DtlsClientOptions, 'endpoint' | 'host' | 'port'>;

/**
 * DTLS settings of a `CoapServer` serving `coaps`: `psk` (`{ keys, lookup, hint }`),
 * certificates (`cert`, `key`; `requestClientCert`, `requireClientCert`, `clientCa`), raw public
 * keys (`key`, `useRawPublicKey`, `trustedPeerKeys`), the session table (`maxSessions`,
 * `idleTimeoutMs`) and every other `DtlsServerOptions` setting of `@iotwire/dtls`.
 * The transport itself (host, port, buffers) comes from the CoAP server.
 */
export type CoapDtlsServerOptions = Omit<DtlsServerOptions, 'endpoint' | 'host' | 'port'>;

/** A DTLS client endpoint for one address family. */
export function createDtlsClient(options: CoapDtlsClientOptions, host: string): DtlsClient {
  return new DtlsClient({ ...options, host, port: 0 });
}

/**
 * Makes sure a DTLS session with `peer` exists before a request goes out, so it is matched to
 * that session from the first datagram (RFC 7252 §9.1.1) and a failed handshake rejects the
 * request with `ERR_COAP_DTLS` (and the DTLS error as `cause`) instead of a CoAP time-out.
 */
export async function ensureSession(
  client: DtlsClient,
  peer: PeerAddress,
  servername: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<void> {
  if (client.securityContextOf(peer) !== undefined) return;
  const label = peer.family === 'IPv6' ? `[${peer.address}]:${peer.port}` : `${peer.address}:${peer.port}`;
  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  const stop = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new CoapError('ERR_COAP_TIMEOUT', `no DTLS handshake with ${label} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    if (signal !== undefined) {
      onAbort = () => reject(new CoapError('ERR_COAP_CANCELLED', 'request aborted', { cause: signal.reason }));
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
  try {
    await Promise.race([client.connect(peer, { servername }), stop]);
  } catch (err) {
    if (err instanceof CoapError) throw err;
    throw new CoapError('ERR_COAP_DTLS', `DTLS handshake with ${label} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    clearTimeout(timer);
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Re-emits the seed's SSL events of a DTLS endpoint on the CoAP client or server. The verdict
 * object is passed through, so a listener's `accept` (or `waitFor`) decides the handshake.
 * `sslStatus` is forwarded only while someone listens on `target` (status strings are built
 * only for listeners).
 */
export function forwardSecurityEvents(source: DtlsClient | DtlsServer, target: EventEmitter, verdictEvent: string): void {
  (source as EventEmitter).on(verdictEvent, (v: unknown) => target.emit(verdictEvent, v));
  const status = (message: string, peer: PeerAddress) => target.emit('sslStatus', message, peer);
  const sync = () => {
    const want = target.listenerCount('sslStatus') > 0;
    const has = (source as EventEmitter).listeners('sslStatus').includes(status);
    if (want && !has) (source as EventEmitter).on('sslStatus', status);
    else if (!want && has) (source as EventEmitter).off('sslStatus', status);
  };
  target.on('newListener', (event: string) => {
    if (event === 'sslStatus') queueMicrotask(sync);
  });
  target.on('removeListener', (event: string) => {
    if (event === 'sslStatus') sync();
  });
  sync();
}
