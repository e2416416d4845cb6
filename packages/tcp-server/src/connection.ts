/**
 * One accepted connection: the toolkit's Connection fields, receive framing, sending with
 * flow control, pause/resume and close. Kept lean because servers hold many of them: socket
 * listeners are shared module-level functions (no closures per connection), rarely used
 * state lives in a lazily created side object, and the framer exists only once a line or
 * record mode (or a pause) needs it.
 */
import type { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { cipherStrength } from '@iotwire/tls';
import { normalizeAddress } from './access-list.js';
import { TcpServerError, TcpServerErrorCode } from './errors.js';
import { Framer, type FramingMode } from './framing.js';
import { OK, type Status, statusOf } from './status.js';

/** Connection ids are strings, shared with the MQTT broker. */
export type ConnectionId = string;

/** Raw-mode receive callback: every chunk as read from the socket (or the TLS layer). */
export type RawDataHandler = (chunk: Buffer, connection: Connection) => void;

/** What a connection needs from its server (implemented once per server). @internal */
export interface ConnectionHost {
  maxSendBuffer: number;
  wouldBlockThrows: boolean;
  lingerTimeoutMs: number;
  emitDataIn(conn: Connection, data: Buffer, eol: boolean): void;
  emitReadyToSend(conn: Connection): void;
  /** The socket closed; the host removes the connection and reports it. */
  closed(conn: Connection, status: Status): void;
  /** The TLS handshake finished (explicit or implicit). */
  secured(conn: Connection): void;
}

// State bits.
const CONNECTED = 1; // Connected event delivered
const PAUSED = 2;
const SINGLE_LINE = 4;
const CLOSING = 8; // we asked for the close
const CLOSED = 16;
const HANDSHAKING = 32;
const DRAIN_LISTENER = 64;
const WANT_READY = 128; // a send returned false: fire ReadyToSend on drain
const TIMEOUT_LISTENER = 256;
const DATA_LISTENER = 512;
const NO_LINGER = 1024; // Linger=false snapshot: Disconnect resets
const TLS_PENDING = 2048; // handshake or certificate verdict under way

const kConnection = Symbol('iotwire.tcp-server.connection');
type Tagged = Socket & { [kConnection]?: Connection };

/** The connection a socket belongs to. @internal */
export function connectionOf(socket: Socket): Connection | undefined {
  return (socket as Tagged)[kConnection];
}

// Shared socket listeners: `this` is the socket, which carries its connection.
function onData(this: Tagged, chunk: Buffer): void {
  this[kConnection]!._receive(chunk);
}
function onClose(this: Tagged): void {
  this[kConnection]!._closed();
}
function onError(this: Tagged, err: Error): void {
  this[kConnection]!._error(err);
}
function onTimeout(this: Tagged): void {
  this[kConnection]!._timeout();
}
function onDrain(this: Tagged): void {
  this[kConnection]!._drained();
}

/**
 * Per-connection settings. One object is shared by every connection accepted under the same
 * server defaults (the defaults are snapshots: the server makes a new object when one changes);
 * a connection that changes its own value gets a private copy (copy on write).
 */
export interface ConnectionSettings {
  readonly host: ConnectionHost;
  readonly eol: Buffer;
  readonly maxLineLength: number;
  readonly recordLength: number;
  readonly idleTimeout: number;
  readonly timeout: number;
  readonly onData: RawDataHandler | null;
}

/** Rarely needed per-connection state, allocated on first use. */
interface Extras {
  status?: Status;
  closeWaiters?: Array<() => void>;
  sendFileAbort?: AbortController;
  /** Plaintext bytes discarded at StartSSL. */
  discardedBeforeTls?: number;
}

export class Connection implements FramingMode {
  /** Unique id, assigned in accept order. */
  readonly connectionId: ConnectionId;
  /** Arbitrary application data, valid while the connection exists. */
  userData: unknown;
  #socket: Socket;
  #state = 0;
  #cfg: ConnectionSettings;
  #bytesSent = 0;
  #framer: Framer | null = null;
  #ext: Extras | null = null;

  /** @internal */
  constructor(id: ConnectionId, socket: Socket, settings: ConnectionSettings, flags: { singleLineMode: boolean; linger: boolean }) {
    this.connectionId = id;
    this.userData = undefined;
    this.#socket = socket;
    this.#cfg = settings;
    if (flags.singleLineMode) this.#state |= SINGLE_LINE;
    if (!flags.linger) this.#state |= NO_LINGER;
    this._bind(socket);
  }

  #set<K extends keyof ConnectionSettings>(key: K, value: ConnectionSettings[K]): void {
    if (this.#cfg[key] !== value) this.#cfg = { ...this.#cfg, [key]: value };
  }

  // --- toolkit fields -------------------------------------------------------------------

  /** True while the connection is established (after Connected, until closed). */
  get connected(): boolean {
    return (this.#state & (CONNECTED | CLOSED)) === CONNECTED;
  }
  /** False while reception is paused (PauseData). */
  get acceptData(): boolean {
    return (this.#state & PAUSED) === 0;
  }
  /** Bytes accepted by the last send (Node queues everything, so the full length). */
  get bytesSent(): number {
    return this.#bytesSent;
  }
  /** False after a send returned false, until ReadyToSend. */
  get readyToSend(): boolean {
    return this.connected && !this.#socket.writableNeedDrain;
  }
  /** Peer IP (IPv4-mapped IPv6 addresses normalised to IPv4). */
  get remoteHost(): string {
    return normalizeAddress(this.#socket.remoteAddress ?? '');
  }
  get remotePort(): number {
    return this.#socket.remotePort ?? 0;
  }
  /** Line delimiter (EOLB); empty = data is delivered as it arrives. */
  get eol(): Buffer {
    return this.#cfg.eol;
  }
  set eol(value: string | Uint8Array) {
    this.#set('eol', typeof value === 'string' ? Buffer.from(value, 'latin1') : Buffer.from(value));
    this.#framer?.drain();
  }
  /** The delimiter as text (EOL). */
  get eolText(): string {
    return this.#cfg.eol.toString('latin1');
  }
  /** FramingMode view of {@link eol}. @internal */
  get eolBytes(): Buffer {
    return this.#cfg.eol;
  }
  get singleLineMode(): boolean {
    return (this.#state & SINGLE_LINE) !== 0;
  }
  set singleLineMode(on: boolean) {
    if (on) this.#state |= SINGLE_LINE;
    else this.#state &= ~SINGLE_LINE;
    this.#framer?.drain();
  }
  /** Longest line before a partial line is delivered with `eol = false`. Minimum 256. */
  get maxLineLength(): number {
    return this.#cfg.maxLineLength;
  }
  set maxLineLength(n: number) {
    if (!Number.isInteger(n) || n < 256)
      throw new TcpServerError(TcpServerErrorCode.InvalidArgument, `maxLineLength must be an integer >= 256 (got ${n})`);
    if (this.#framer && this.#framer.buffered > 0) {
      throw new TcpServerError(
        TcpServerErrorCode.CannotChangeMaxLineLength,
        'cannot change MaxLineLength while a partial line is buffered',
        {
          connectionId: this.connectionId,
        },
      );
    }
    this.#set('maxLineLength', n);
  }
  /** Current record length (ChangeRecordLength); 0 = record mode off. */
  get recordLength(): number {
    return this.#cfg.recordLength;
  }
  /** Seconds without traffic either way before the server disconnects; 0 = off. */
  get idleTimeout(): number {
    return this.#cfg.idleTimeout;
  }
  set idleTimeout(seconds: number) {
    if (!(seconds >= 0)) throw new TcpServerError(TcpServerErrorCode.InvalidArgument, `idleTimeout must be >= 0 (got ${seconds})`);
    this.#set('idleTimeout', seconds);
    if ((this.#state & (HANDSHAKING | CLOSING | CLOSED)) === 0) this.#armIdle();
  }
  /** Send timeout in seconds for {@link TcpServer.flush}/`sendAsync`: fail after this long without progress. 0 = no limit. */
  get timeout(): number {
    return this.#cfg.timeout;
  }
  set timeout(seconds: number) {
    if (!(seconds >= 0)) throw new TcpServerError(TcpServerErrorCode.InvalidArgument, `timeout must be >= 0 (got ${seconds})`);
    this.#set('timeout', seconds);
  }
  get localAddress(): string {
    return this.#socket.localAddress ?? '';
  }
  get localPort(): number {
    return this.#socket.localPort ?? 0;
  }
  /** Raw-mode handler (see {@link RawDataHandler}). Setting it delivers what the framer still holds. */
  get onData(): RawDataHandler | null {
    return this.#cfg.onData;
  }
  set onData(handler: RawDataHandler | null) {
    this.#set('onData', handler);
    const f = this.#framer;
    // Whatever was buffered for framing goes to the raw handler first, as one chunk.
    if (handler && f && f.buffered > 0) handler(f.takeAll(), this);
  }

  // --- the byte-stream seam -------------------------------------------------------------

  /** The current socket: the TLSSocket once TLS is up (do not keep an older reference across StartSSL). */
  get socket(): Socket | TLSSocket {
    return this.#socket;
  }
  /** True once TLS is established. */
  get encrypted(): boolean {
    return (this.#socket as TLSSocket).encrypted === true && (this.#state & HANDSHAKING) === 0;
  }
  get writableLength(): number {
    return this.#socket.writableLength;
  }
  get writableNeedDrain(): boolean {
    return this.#socket.writableNeedDrain;
  }
  /**
   * Writes bytes (or text in the server's encoding). Returns false when the data was queued
   * above the send high-water mark (ReadyToSend fires once it drains), or when the connection
   * is closing. Exceeding `maxSendBuffer` disconnects with status 10055.
   */
  write(data: Uint8Array | string, encoding?: BufferEncoding): boolean {
    if ((this.#state & (CLOSING | CLOSED)) !== 0) return false;
    const s = this.#socket;
    if (this.#cfg.host.wouldBlockThrows && s.writableNeedDrain) {
      this.#bytesSent = 0;
      throw new TcpServerError(TcpServerErrorCode.WouldBlock, 'Operation would block', { connectionId: this.connectionId });
    }
    let ok: boolean;
    let n: number;
    if (typeof data === 'string') {
      ok = s.write(data, encoding ?? 'utf8');
      n = Buffer.byteLength(data, encoding ?? 'utf8');
    } else {
      ok = s.write(data);
      n = data.length;
    }
    this.#bytesSent = n;
    // Queued before this send = now queued minus this send (read only on the slow path).
    if (!ok) this.#backpressure(s.writableLength - n);
    return ok;
  }
  cork(): void {
    this.#socket.cork();
  }
  uncork(): void {
    this.#socket.uncork();
  }
  /** Graceful close (honours Linger as configured on the server); resolves once closed. */
  end(): Promise<void> {
    return this.disconnect();
  }
  /** Immediate close without waiting for queued data. */
  destroy(): void {
    this._setStatus(OK);
    this.#state |= CLOSING;
    if (this.#framer) this.#framer.stopped = true;
    this.#socket.destroy();
  }
  /** The peer's certificate on a TLS connection. */
  peerCertificate(): X509Certificate | undefined {
    const s = this.#socket as TLSSocket;
    return this.encrypted ? s.getPeerX509Certificate() : undefined;
  }

  // --- TLS facts (the SSLNegotiated* configuration values) ------------------------------

  /** OpenSSL cipher name, e.g. `ECDHE-ECDSA-AES128-GCM-SHA256`; `''` without TLS. */
  get sslNegotiatedCipher(): string {
    return this.encrypted ? ((this.#socket as TLSSocket).getCipher()?.name ?? '') : '';
  }
  /** IANA suite name, e.g. `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`. */
  get sslNegotiatedCipherSuite(): string {
    return this.encrypted ? ((this.#socket as TLSSocket).getCipher()?.standardName ?? '') : '';
  }
  /** Bulk-cipher strength in bits. */
  get sslNegotiatedCipherStrength(): number {
    const name = this.sslNegotiatedCipherSuite;
    return name ? cipherStrength(name) : 0;
  }
  /** Key exchange: `ECDHE`/`DHE`/`RSA` from the TLS 1.2 suite; `ECDHE` (or `DHE`) for TLS 1.3. */
  get sslNegotiatedKeyExchange(): string {
    const suite = this.sslNegotiatedCipherSuite;
    if (!suite) return '';
    const m = suite.match(/^TLS_(ECDHE|DHE|ECDH|DH|RSA|PSK|ECDHE_PSK|DHE_PSK|RSA_PSK)_/);
    return m ? m[1]! : 'ECDHE';
  }
  /** `TLSv1.2`, `TLSv1.3`, ... */
  get sslNegotiatedVersion(): string {
    return this.encrypted ? ((this.#socket as TLSSocket).getProtocol() ?? '') : '';
  }
  /** Plaintext bytes that were buffered past the STARTTLS command and dropped at StartSSL. */
  get discardedBeforeTls(): number {
    return this.#ext?.discardedBeforeTls ?? 0;
  }

  // --- toolkit operations (also reachable through the server by id) --------------------

  /** ChangeRecordLength: > 0 delivers exactly that many bytes per DataIn; 0 turns record mode off. */
  changeRecordLength(length: number): void {
    if (!Number.isInteger(length) || length < 0)
      throw new TcpServerError(TcpServerErrorCode.InvalidArgument, `record length must be an integer >= 0 (got ${length})`);
    this.#set('recordLength', length);
    // Applies to bytes already buffered (including when called inside DataIn).
    this.#framer?.drain();
  }

  /** PauseData: no DataIn until {@link resume}; the socket stops reading (TCP back-pressure). */
  pause(): void {
    if (this.#state & PAUSED) return;
    this.#state |= PAUSED;
    if (this.#framer) this.#framer.paused = true;
    this.#socket.pause();
  }

  /** ProcessData: delivers what is already buffered, then resumes reading. */
  resume(): void {
    if ((this.#state & PAUSED) === 0) return;
    this.#state &= ~PAUSED;
    const f = this.#framer;
    if (f) {
      f.paused = false;
      f.drain();
    }
    if ((this.#state & (PAUSED | CLOSED)) === 0 && (this.#state & DATA_LISTENER) !== 0) this.#socket.resume();
  }

  /**
   * Disconnect. Linger (server default true): FIN after the queued data, destroyed anyway
   * after `lingerTimeout`; Linger false: immediate RST. Resolves once Disconnected has fired.
   */
  disconnect(options: { linger?: boolean; status?: Status } = {}): Promise<void> {
    if (this.#state & CLOSED) return Promise.resolve();
    const done = new Promise<void>((resolve) => {
      const ext = this.#extras();
      (ext.closeWaiters ??= []).push(resolve);
    });
    if (this.#state & CLOSING) return done;
    this.#state |= CLOSING;
    this._setStatus(options.status ?? OK);
    if (this.#framer) this.#framer.stopped = true;
    this.#ext?.sendFileAbort?.abort();
    const s = this.#socket;
    if (options.linger === false || (options.linger === undefined && (this.#state & NO_LINGER) !== 0)) {
      s.resetAndDestroy();
    } else {
      s.end();
      // Keep reading so the peer's FIN is seen even if the application had paused us.
      s.resume();
      this.#listenTimeout();
      s.setTimeout(this.#cfg.host.lingerTimeoutMs);
    }
    return done;
  }

  // --- internals used by the server -----------------------------------------------------

  /** Tags a socket and installs the shared lifecycle listeners. @internal */
  _bind(socket: Socket): void {
    const t = socket as Tagged;
    t[kConnection] = this;
    socket.on('close', onClose);
    socket.on('error', onError);
    this.#socket = socket;
    this.#state &= ~(DRAIN_LISTENER | TIMEOUT_LISTENER | DATA_LISTENER);
  }

  /** Removes this connection's listeners from the current socket (before wrapping it in TLS). @internal */
  _unbind(): Socket {
    const s = this.#socket;
    s.removeListener('close', onClose);
    s.removeListener('error', onError);
    s.removeListener('data', onData);
    s.removeListener('drain', onDrain);
    s.removeListener('timeout', onTimeout);
    s.setTimeout(0);
    return s;
  }

  /** Marks the TLS handshake in progress and arms its timeout. @internal */
  _handshaking(timeoutMs: number): void {
    this.#state |= HANDSHAKING | TLS_PENDING;
    if (timeoutMs > 0) {
      this.#listenTimeout();
      this.#socket.setTimeout(timeoutMs);
    }
  }

  /** The handshake completed. @internal */
  _handshakeDone(): void {
    this.#state &= ~HANDSHAKING;
    this.#socket.setTimeout(0);
  }

  /** Handshake and certificate verdict finished successfully. @internal */
  _tlsDone(): void {
    this.#state &= ~(TLS_PENDING | HANDSHAKING);
  }

  get _tlsPending(): boolean {
    return (this.#state & TLS_PENDING) !== 0;
  }

  get _handshakeInProgress(): boolean {
    return (this.#state & HANDSHAKING) !== 0;
  }

  /** Drops buffered plaintext at StartSSL and returns how much. @internal */
  _discardForTls(): number {
    const n = this.#framer?.discard() ?? 0;
    if (n > 0) this.#extras().discardedBeforeTls = (this.#ext?.discardedBeforeTls ?? 0) + n;
    return n;
  }

  /** Connected is about to fire. @internal */
  _markConnected(): void {
    this.#state |= CONNECTED;
  }

  /** Connected has fired: start reading and arm the idle timer. @internal */
  _start(): void {
    this.#state |= CONNECTED;
    this.#armIdle();
    this._startReading();
  }

  /** Attaches the data listener and reads unless paused. @internal */
  _startReading(): void {
    if ((this.#state & DATA_LISTENER) === 0) {
      this.#state |= DATA_LISTENER;
      this.#socket.on('data', onData);
    }
    if ((this.#state & (PAUSED | CLOSING | CLOSED)) === 0) this.#socket.resume();
  }

  get _reported(): boolean {
    return (this.#state & CONNECTED) !== 0;
  }

  get _closing(): boolean {
    return (this.#state & (CLOSING | CLOSED)) !== 0;
  }

  get _isClosed(): boolean {
    return (this.#state & CLOSED) !== 0;
  }

  /** Records the close reason if none is set yet. @internal */
  _setStatus(status: Status): void {
    const ext = this.#extras();
    ext.status ??= status;
  }

  /** Closes with a status (idle timeout, overflow, handshake failure, rejection). @internal */
  _fail(status: Status, graceful: boolean): void {
    this._setStatus(status);
    if (graceful) void this.disconnect({ status });
    else {
      this.#state |= CLOSING;
      if (this.#framer) this.#framer.stopped = true;
      this.#socket.destroy();
    }
  }

  _sendFileController(): AbortController {
    const ext = this.#extras();
    ext.sendFileAbort?.abort();
    ext.sendFileAbort = new AbortController();
    return ext.sendFileAbort;
  }

  _interrupt(): boolean {
    const c = this.#ext?.sendFileAbort;
    if (!c) return false;
    c.abort();
    this.#ext!.sendFileAbort = undefined;
    return true;
  }

  /** Socket data. @internal */
  _receive(chunk: Buffer): void {
    if (this.#state & CLOSING) return;
    const cfg = this.#cfg;
    const raw = cfg.onData;
    if (raw !== null) {
      raw(chunk, this);
      return;
    }
    let f = this.#framer;
    if (f === null) {
      if ((this.#state & (PAUSED | SINGLE_LINE)) === 0 && cfg.recordLength <= 0 && cfg.eol.length === 0) {
        cfg.host.emitDataIn(this, chunk, true);
        return;
      }
      f = this.#framer = new Framer(this, (data, eol) => this.#cfg.host.emitDataIn(this, data, eol));
      f.paused = (this.#state & PAUSED) !== 0;
    } else if (f.passThrough()) {
      cfg.host.emitDataIn(this, chunk, true);
      return;
    }
    f.push(chunk);
  }

  /** @internal */
  _error(err: Error): void {
    this._setStatus(statusOf(err));
  }

  /** @internal */
  _timeout(): void {
    const s = this.#state;
    if (s & CLOSED) return;
    if (s & HANDSHAKING) {
      this._fail({ code: TcpServerErrorCode.HandshakeError, description: 'TLS handshake timed out' }, false);
    } else if (s & CLOSING) {
      // Linger expired: the peer did not take the queued data or did not close.
      this.#socket.destroy();
    } else if (this.#cfg.idleTimeout > 0) {
      this._fail({ code: TcpServerErrorCode.TimedOut, description: `Idle timeout (${this.#cfg.idleTimeout} s without traffic)` }, true);
    }
  }

  /** @internal */
  _drained(): void {
    if (this.#state & WANT_READY) {
      this.#state &= ~WANT_READY;
      if ((this.#state & (CONNECTED | CLOSING | CLOSED)) === CONNECTED) this.#cfg.host.emitReadyToSend(this);
    }
  }

  /** @internal */
  _closed(): void {
    if (this.#state & CLOSED) return;
    // A peer-initiated close: deliver what the framer still holds before Disconnected.
    const f = this.#framer;
    if (f && !f.stopped && this.#state & CONNECTED && this.#cfg.onData === null) f.flush();
    this.#state |= CLOSED;
    if (f) f.stopped = true;
    const ext = this.#ext;
    ext?.sendFileAbort?.abort();
    this.#cfg.host.closed(this, ext?.status ?? OK);
    if (ext?.closeWaiters) for (const w of ext.closeWaiters.splice(0)) w();
  }

  #extras(): Extras {
    this.#ext ??= {};
    return this.#ext;
  }

  #listenTimeout(): void {
    if ((this.#state & TIMEOUT_LISTENER) === 0) {
      this.#state |= TIMEOUT_LISTENER;
      this.#socket.on('timeout', onTimeout);
    }
  }

  #armIdle(): void {
    const idle = this.#cfg.idleTimeout;
    if (idle > 0) {
      this.#listenTimeout();
      this.#socket.setTimeout(idle * 1000);
    } else if (this.#state & TIMEOUT_LISTENER) {
      this.#socket.setTimeout(0);
    }
  }

  /** A send went above the high-water mark. `queuedBefore`: bytes that were already waiting. */
  #backpressure(queuedBefore: number): void {
    const s = this.#socket;
    // The limit bounds data queued behind unsent data (a peer that does not read); one large
    // send onto an empty queue is the application's own allocation and is let through.
    if (queuedBefore > 0 && s.writableLength > this.#cfg.host.maxSendBuffer) {
      this._fail(
        {
          code: TcpServerErrorCode.NoBufferSpace,
          description: `No buffer space available: ${s.writableLength} bytes queued (peer not reading)`,
        },
        false,
      );
      return;
    }
    this.#state |= WANT_READY;
    if ((this.#state & DRAIN_LISTENER) === 0) {
      this.#state |= DRAIN_LISTENER;
      s.on('drain', onDrain);
    }
  }
}
