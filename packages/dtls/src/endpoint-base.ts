import { EventEmitter } from 'node:events';
import { appendFile } from 'node:fs/promises';
import { type DatagramEndpoint, type DatagramInfo, type PeerAddress, peerKey, UdpEndpoint } from '@iotwire/udp';
import type { CloseReason, Connection, ConnectionHost } from './connection.js';
import type { DtlsError } from './errors.js';
import type { DtlsCommonOptions, ResolvedCommon } from './options.js';
import type { DtlsSessionInfo } from './session-info.js';
import { createStats, type DtlsStats } from './stats.js';
import type { CertificateVerdict } from './verdict.js';

/** Events common to {@link DtlsServer} and {@link DtlsClient}, on top of the datagram endpoint's. */
export interface DtlsEndpointEvents {
  /** Decrypted application data from `peer`; `info.securityContext` identifies the session and epoch. */
  message: [data: Buffer, peer: PeerAddress, info: DatagramInfo];
  error: [error: Error];
  listening: [address: PeerAddress];
  close: [];
  /** A handshake completed (new or resumed session). */
  session: [session: DtlsSessionInfo];
  /** An established session ended (`close_notify`, fatal alert, idle expiry, eviction, replacement, local close). */
  sessionClose: [peer: PeerAddress, reason: CloseReason, error: DtlsError | undefined];
  /** A handshake failed or timed out. The server keeps serving; the client also rejects the pending `connect`/`send`. */
  handshakeError: [error: DtlsError, peer: PeerAddress];
  /** Seed `SSLStatus`: handshake progress (and, with `logPackets`, every record). */
  sslStatus: [message: string, peer: PeerAddress];
  /** A key log line (NSS format, with newline) for each new master secret; also appended to `keyLogFile`. */
  keylog: [line: Buffer, peer: PeerAddress];
}

/**
 * Plumbing shared by the DTLS server and client endpoints: the inner datagram endpoint, the
 * connection table, counters, key logging and status events. Implements the same
 * `DatagramEndpoint` seam as `UdpEndpoint`, carrying application data.
 */
export abstract class DtlsEndpointBase<E extends DtlsEndpointEvents & Record<keyof E, unknown[]> = DtlsEndpointEvents>
  extends EventEmitter
  implements DatagramEndpoint, ConnectionHost
{
  readonly config: ResolvedCommon;
  /** Counters: records in/out and every drop reason, handshakes, alerts. */
  readonly stats: DtlsStats = createStats();
  protected readonly inner: DatagramEndpoint;
  readonly #ownsInner: boolean;
  protected readonly connections = new Map<string, Connection>();
  protected isClosed = false;
  #keylogChain: Promise<void> = Promise.resolve();

  protected constructor(options: DtlsCommonOptions, config: ResolvedCommon, defaultPort: number) {
    super();
    this.config = config;
    this.#ownsInner = !options.endpoint;
    this.inner = options.endpoint ?? new UdpEndpoint({ host: options.host ?? '0.0.0.0', port: options.port ?? defaultPort });
    this.inner.on('message', (data, peer) => this.onDatagram(data, peer));
    this.inner.on('error', (err) => this.emitError(err));
    this.inner.on('listening', (addr) => this.#emit('listening', addr));
    this.inner.on('close', () => this.#emit('close'));
  }

  // Typed listener methods over the untyped EventEmitter base.
  override on<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }
  override once<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }
  override off<K extends keyof E & string>(event: K, listener: (...args: E[K]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }
  override emit<K extends keyof E & string>(event: K, ...args: E[K]): boolean {
    return super.emit(event, ...args);
  }

  /** Typed emit of the shared events. */
  #emit<K extends keyof DtlsEndpointEvents>(event: K, ...args: DtlsEndpointEvents[K]): boolean {
    return super.emit(event, ...args);
  }

  protected abstract onDatagram(data: Buffer, peer: PeerAddress): void;

  bind(): Promise<PeerAddress> {
    return this.inner.bind();
  }

  address(): PeerAddress | undefined {
    return this.inner.address();
  }

  get pendingSendBytes(): number {
    return this.inner.pendingSendBytes + this.queuedBytes();
  }

  /** Application bytes held back (client: waiting for a handshake). */
  protected queuedBytes(): number {
    return 0;
  }

  /** Number of sessions, established or handshaking. */
  get sessionCount(): number {
    return this.connections.size;
  }

  /** The established session with `peer`, if any. */
  session(peer: Pick<PeerAddress, 'address' | 'port'>): DtlsSessionInfo | undefined {
    const c = this.connections.get(peerKey(peer));
    return c?.state === 'established' ? c.info : undefined;
  }

  /** All established sessions. */
  sessions(): DtlsSessionInfo[] {
    const out: DtlsSessionInfo[] = [];
    for (const c of this.connections.values()) if (c.state === 'established' && c.info) out.push(c.info);
    return out;
  }

  /**
   * The security context that data sent to `peer` now would carry (the current session and
   * epoch), for matching responses (RFC 7252 §9.1.1); undefined without an established session.
   */
  securityContextOf(peer: Pick<PeerAddress, 'address' | 'port'>): object | undefined {
    return this.session(peer)?.securityContext;
  }

  /** Sends close_notify to `peer` and forgets the session. Resolves false if there was none. */
  closeSession(peer: Pick<PeerAddress, 'address' | 'port'>): boolean {
    const c = this.connections.get(peerKey(peer));
    if (!c) return false;
    c.closeNotify('local');
    return true;
  }

  abstract send(data: Uint8Array, peer: PeerAddress): Promise<void>;

  /**
   * Protects and sends `data` with no Promise (the seam's hot path): false, counted in
   * `sendDrops`, when it cannot go now (closed, no session to carry it, or the transport
   * refused the record under backpressure).
   */
  abstract trySend(data: Uint8Array, peer: PeerAddress): boolean;

  /** Application datagrams `trySend` refused. */
  get sendDrops(): number {
    return this.droppedSends;
  }

  protected droppedSends = 0;

  /** Sends close_notify on every session, then releases the transport (if we created it). Idempotent. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.onClosing();
    for (const c of [...this.connections.values()]) c.closeNotify('endpoint_closed');
    this.connections.clear();
    // Let the close_notify datagrams leave before the socket goes.
    await new Promise((r) => setImmediate(r));
    await this.#keylogChain;
    if (this.#ownsInner) await this.inner.close();
  }

  protected onClosing(): void {}

  // ConnectionHost -----------------------------------------------------------------------------

  transmit(data: Buffer, peer: PeerAddress): Promise<void> {
    return this.inner.send(data, peer);
  }

  transmitNow(data: Buffer, peer: PeerAddress): boolean {
    return this.inner.trySend(data, peer);
  }

  get wantsStatus(): boolean {
    return this.listenerCount('sslStatus') > 0;
  }

  status(message: string, peer: PeerAddress): void {
    this.#emit('sslStatus', message, peer);
  }

  keylog(line: string, peer: PeerAddress): void {
    this.#emit('keylog', Buffer.from(line, 'latin1'), peer);
    const file = this.config.keyLogFile;
    if (file) {
      this.#keylogChain = this.#keylogChain
        .then(() => appendFile(file, line, { mode: 0o600 }))
        .catch((err: Error) => this.emitError(new Error(`cannot append to key log file ${file}: ${err.message}`)));
    }
  }

  abstract verdict(v: CertificateVerdict): Promise<boolean>;

  established(conn: Connection): void {
    this.stats.handshakes.completed++;
    if (conn.info?.resumed) this.stats.handshakes.resumed++;
    this.#emit('session', conn.info!);
  }

  applicationData(conn: Connection, data: Buffer): void {
    this.#emit('message', data, conn.peer, conn.messageInfo!);
  }

  closed(conn: Connection, reason: CloseReason, error?: DtlsError): void {
    if (this.connections.get(conn.peerKey) === conn) this.connections.delete(conn.peerKey);
    if (conn.info) this.#emit('sessionClose', conn.peer, reason, error);
    else {
      this.stats.handshakes.failed++;
      if (error) this.#emit('handshakeError', error, conn.peer);
    }
  }

  protected emitError(err: Error): void {
    // An `error` with no listener must not kill the host process.
    if (this.listenerCount('error') > 0) this.#emit('error', err);
    else process.emitWarning(`@iotwire/dtls: ${err.message}`, { code: 'IOTWIRE_DTLS_ERROR' });
  }
}
