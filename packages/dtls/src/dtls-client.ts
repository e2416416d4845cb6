import { isIP } from 'node:net';
import type { PeerAddress } from '@iotwire/udp';
import { peerKey } from '@iotwire/udp';
import { ClientHandshake, type ClientSessionEntry } from './client-handshake.js';
import { type CloseReason, Connection } from './connection.js';
import { DtlsEndpointBase, type DtlsEndpointEvents } from './endpoint-base.js';
import { DtlsError } from './errors.js';
import { LruCache } from './lru.js';
import { type DtlsClientOptions, type ResolvedClient, resolveClientOptions } from './options.js';
import type { DtlsSessionInfo } from './session-info.js';
import type { CertificateVerdict } from './verdict.js';

export interface DtlsClientEvents extends DtlsEndpointEvents {
  /** Seed `SSLServerAuthentication`: the server presented its certificate (or raw public key). */
  sslServerAuthentication: [verdict: CertificateVerdict];
}

interface Pending {
  waiters: { resolve: (s: DtlsSessionInfo) => void; reject: (e: Error) => void }[];
  queue: { data: Uint8Array; resolve: () => void; reject: (e: Error) => void }[];
  bytes: number;
}

/**
 * A DTLS 1.2 client endpoint over a datagram endpoint. `send(data, peer)` opens a session with
 * `peer` on first use (queuing the data, bounded, until the handshake completes), so a CoAP
 * client runs over it unchanged; `connect(peer)` does the handshake explicitly. One client may
 * hold sessions with several servers. Sessions are resumed from a cache when the server allows.
 */
export class DtlsClient extends DtlsEndpointBase<DtlsClientEvents> {
  declare readonly config: ResolvedClient;
  readonly #cache: LruCache<ClientSessionEntry> | undefined;
  readonly #pending = new Map<string, Pending>();
  /** Per-peer `servername` given to `connect`, for the session cache key. */
  readonly #servernames = new Map<string, string>();
  #queued = 0;

  constructor(options: DtlsClientOptions = {}) {
    const config = resolveClientOptions(options);
    super(options, config, 0);
    const t = config.timers;
    this.#cache = config.sessionCache
      ? new LruCache(config.sessionCache.maxEntries, config.sessionCache.lifetimeMs, () => t.now())
      : undefined;
  }

  /**
   * Performs (or joins) the handshake with `peer`; resolves with the session. `servername`
   * overrides the client's `servername` for a handshake this call starts (SNI and certificate
   * host matching, e.g. the authority of a `coaps://` URI); an existing session is reused as is.
   */
  async connect(peer: PeerAddress, options: { servername?: string } = {}): Promise<DtlsSessionInfo> {
    if (this.isClosed) throw new DtlsError('ERR_DTLS_CLOSED', 'client is closed');
    checkPeer(peer);
    const key = peerKey(peer);
    const existing = this.connections.get(key);
    if (existing?.state === 'established') return existing.info!;
    return new Promise<DtlsSessionInfo>((resolve, reject) => {
      this.#pendingFor(key).waiters.push({ resolve, reject });
      if (!existing) this.#start(peer, key, options.servername).catch((err: Error) => this.#failPending(key, err));
    });
  }

  send(data: Uint8Array, peer: PeerAddress): Promise<void> {
    if (this.isClosed) return Promise.reject(new DtlsError('ERR_DTLS_CLOSED', 'client is closed'));
    const key = peerKey(peer);
    const c = this.connections.get(key);
    if (c?.state === 'established') return c.sendApplicationData(data);
    try {
      checkPeer(peer);
    } catch (err) {
      return Promise.reject(err);
    }
    const p = this.#pendingFor(key);
    if (p.bytes + data.length > this.config.maxQueuedBytes) {
      return Promise.reject(
        new DtlsError('ERR_DTLS_QUEUE_FULL', `more than ${this.config.maxQueuedBytes} bytes queued for ${key} during its handshake`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      p.queue.push({ data, resolve, reject });
      p.bytes += data.length;
      this.#queued += data.length;
      if (!c) this.#start(peer, key).catch((err: Error) => this.#failPending(key, err));
    });
  }

  /**
   * Like `send` without the Promise: sent at once over an established session, otherwise queued
   * (bounded by `maxQueuedBytes`) behind the handshake it starts. False when refused.
   */
  trySend(data: Uint8Array, peer: PeerAddress): boolean {
    if (!this.isClosed) {
      const key = peerKey(peer);
      const c = this.connections.get(key);
      if (c?.state === 'established') {
        if (c.trySendApplicationData(data)) return true;
      } else if (isIP(peer.address) && (this.#pending.get(key)?.bytes ?? 0) + data.length <= this.config.maxQueuedBytes) {
        const p = this.#pendingFor(key);
        p.queue.push({ data, resolve: ignore, reject: ignore });
        p.bytes += data.length;
        this.#queued += data.length;
        if (!c) this.#start(peer, key).catch((err: Error) => this.#failPending(key, err));
        return true;
      }
    }
    this.droppedSends++;
    return false;
  }

  verdict(v: CertificateVerdict): Promise<boolean> {
    this.emit('sslServerAuthentication', v);
    return v.settle();
  }

  /**
   * Forgets the cached session for `peer` so the next handshake is a full one (`servername`:
   * the one passed to `connect`, if any).
   */
  forgetSession(peer: Pick<PeerAddress, 'address' | 'port'>, servername?: string): void {
    this.#cache?.delete(this.#cacheKey(peerKey(peer), servername ?? this.config.servername));
  }

  protected override queuedBytes(): number {
    return this.#queued;
  }

  protected override onClosing(): void {
    for (const key of [...this.#pending.keys()]) this.#failPending(key, new DtlsError('ERR_DTLS_CLOSED', 'client closed'));
  }

  protected onDatagram(data: Buffer, peer: PeerAddress): void {
    const c = this.connections.get(peerKey(peer));
    if (c) c.handleDatagram(data);
    else this.stats.dropped.noSession++;
  }

  #cacheKey(key: string, servername = this.#servernames.get(key) ?? this.config.servername): string {
    return `${key}|${servername ?? ''}`;
  }

  #pendingFor(key: string): Pending {
    let p = this.#pending.get(key);
    if (!p) {
      p = { waiters: [], queue: [], bytes: 0 };
      this.#pending.set(key, p);
    }
    return p;
  }

  async #start(peer: PeerAddress, key: string, servername?: string): Promise<void> {
    const conn = new Connection(this, peer, key, 'client');
    this.connections.set(key, conn);
    if (servername === undefined) this.#servernames.delete(key);
    else this.#servernames.set(key, servername);
    await this.bind();
    if (conn.state === 'closed') return;
    const ck = this.#cacheKey(key);
    const config = servername === undefined ? this.config : { ...this.config, servername };
    const hs = new ClientHandshake(conn, config, this.#cache?.get(ck), (entry) => this.#cache?.set(ck, entry));
    conn.handshake = hs;
    conn.clientRandom = hs.clientRandom;
    this.stats.handshakes.started++;
    hs.start();
  }

  override established(conn: Connection): void {
    super.established(conn);
    const p = this.#pending.get(conn.peerKey);
    if (!p) return;
    this.#pending.delete(conn.peerKey);
    this.#queued -= p.bytes;
    for (const w of p.waiters) w.resolve(conn.info!);
    for (const q of p.queue) conn.sendApplicationData(q.data).then(q.resolve, q.reject);
  }

  override closed(conn: Connection, reason: CloseReason, error?: DtlsError): void {
    super.closed(conn, reason, error);
    if (!conn.info)
      this.#failPending(
        conn.peerKey,
        error ?? new DtlsError('ERR_DTLS_HANDSHAKE_FAILURE', `handshake with ${conn.peerKey} ended: ${reason}`),
      );
    // A session that failed on resumption may have a stale cache entry; start afresh next time.
    if (!conn.info && reason !== 'endpoint_closed') this.#cache?.delete(this.#cacheKey(conn.peerKey));
    if (!this.connections.has(conn.peerKey)) this.#servernames.delete(conn.peerKey);
  }

  #failPending(key: string, err: Error): void {
    const p = this.#pending.get(key);
    if (!p) return;
    this.#pending.delete(key);
    this.#queued -= p.bytes;
    const c = this.connections.get(key);
    if (c && c.state === 'handshaking') c.drop('local');
    for (const w of p.waiters) w.reject(err);
    for (const q of p.queue) q.reject(err);
  }
}

const ignore = (): void => {};

/**
 * Sessions are keyed by the address datagrams come back from, so the peer must be an IP address:
 * a host name would be resolved by the socket and the replies would not match. Resolve first.
 */
function checkPeer(peer: PeerAddress): void {
  if (!isIP(peer.address))
    throw new DtlsError(
      'ERR_DTLS_BAD_PEER',
      `peer address must be an IP address, got ${JSON.stringify(peer.address)}; resolve host names first`,
    );
}
