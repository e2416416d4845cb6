/**
 * TcpServer: the reference toolkit's TCPServer on `node:net`. Accept pipeline (limits, access
 * lists, ConnectionRequest, ids, implicit TLS, Connected, ReadyToSend), the connection map,
 * sending by id, listening lifecycle and the TLS settings. Framing, flow control and close
 * live in {@link Connection}; the TLS upgrade in `tls-session.ts`.
 */
import { EventEmitter } from 'node:events';
import { createReadStream } from 'node:fs';
import net, { type AddressInfo, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import type tls from 'node:tls';
import {
  Certificate,
  type CertificateInput,
  type CertificateVerdict,
  type ClientHelloInfo,
  createSecureContext,
  keyLogWriter,
  runAcceptHandlers,
  SslProtocol,
  TlsError,
  type TlsSettings,
} from '@iotwire/tls';
import { AccessList, normalizeAddress } from './access-list.js';
import { applyConfig } from './config.js';
import { Connection, type ConnectionHost, type ConnectionId, type ConnectionSettings, type RawDataHandler } from './connection.js';
import { TcpServerError, TcpServerErrorCode } from './errors.js';
import { type Status, systemError } from './status.js';
import { beginTls, type TlsHost } from './tls-session.js';

/** SSLStartMode. `'automatic'` is treated as implicit (a generic server has no standard plaintext port). */
export type SslStartMode = 'automatic' | 'implicit' | 'explicit' | 'none';
/** The toolkit's numbers for SSLStartMode. */
export const SslStartModes: Readonly<Record<number, SslStartMode>> = { 0: 'automatic', 1: 'implicit', 2: 'explicit', 3: 'none' };

/** UseIPv6: 0 IPv4 only, 1 IPv6 only, 2 IPv6 and IPv4 (dual stack). Applies when `localHost` is empty. */
export type UseIPv6 = 0 | 1 | 2;

export interface TcpServerOptions {
  /** Interface to bind; `''` (default) = all interfaces of the family chosen by `useIPv6`. */
  localHost?: string;
  /** Port; 0 (default) lets the OS choose (read it back from `localPort` once listening). */
  localPort?: number;
  /** Default 0 (IPv4 only, binds 0.0.0.0 — Node would otherwise bind dual-stack `::`). */
  useIPv6?: UseIPv6;
  /** Listen backlog. Default 511 (Node's), not the toolkit's 5: a backlog of 5 drops SYNs under any burst. */
  connectionBacklog?: number;
  /** Simultaneous connections, 1..100000. Default 1000. Excess connections are closed at accept (no ConnectionRequest). */
  maxConnections?: number;
  /** Copied into each new connection's `eol`. Default `''` (data delivered as it arrives). */
  defaultEol?: string | Uint8Array;
  /** Copied into `maxLineLength`. Default 2048, minimum 256. */
  defaultMaxLineLength?: number;
  /** Copied into `singleLineMode`. Default false. */
  defaultSingleLineMode?: boolean;
  /** Copied into `idleTimeout` (seconds, 0 = off). Default 0. */
  defaultIdleTimeout?: number;
  /** Copied into `timeout` (send timeout in seconds for `flush`/`sendAsync`, 0 = none). Default 0. */
  defaultTimeout?: number;
  /** SO_KEEPALIVE on accepted sockets. Default false. */
  keepAlive?: boolean;
  /** KeepAliveTime: idle ms before the first probe (enables keep-alive). Default 0 = system default. */
  keepAliveTime?: number;
  /** true (default): Disconnect sends FIN after queued data; false: immediate RST. Snapshot at accept. */
  linger?: boolean;
  /** How long a lingering close may wait for the peer (seconds). Default 10. */
  lingerTimeout?: number;
  /** TcpNoDelay: disable Nagle. Default false. */
  tcpNoDelay?: boolean;
  /** AllowedClients: IPs, CIDR subnets or host names. A non-matching client arrives in ConnectionRequest with accept=false. */
  allowedClients?: string | readonly string[];
  /** BlockedClients: same syntax; a match pre-sets accept=false. */
  blockedClients?: string | readonly string[];
  /** OutBufferSize: send high-water mark in bytes (sends return false above it). Default Node's (16 KiB). */
  outBufferSize?: number;
  /**
   * Limit of send bytes queued per connection while earlier data is still unsent (a peer that
   * does not read); beyond it the connection is dropped with status 10055. Default 1 MiB.
   */
  maxSendBuffer?: number;
  /** `'queue'` (default): sends always queue and return false above `outBufferSize`. `'throw'`: toolkit parity, throw 135 while the queue is above it. */
  wouldBlock?: 'queue' | 'throw';
  /** Encoding of sendText/sendLine (CodePage). Default `'utf8'`. */
  textEncoding?: BufferEncoding;
  /**
   * Raw mode for protocol servers: every chunk goes to this callback, no framing, no
   * `dataIn` events. Per connection it can be overridden with `connection.onData`.
   */
  onData?: RawDataHandler | null;
  /** SSLStartMode. Default `'none'`. Numbers 0-3 are accepted. */
  sslStartMode?: SslStartMode | 0 | 1 | 2 | 3;
  /** SSLEnabled. Setting true while the start mode is `'none'` means implicit TLS. */
  sslEnabled?: boolean;
  /** SSLCert: the server certificate (with private key). */
  sslCert?: CertificateInput;
  /** SSLAuthenticateClients: request client certificates; `sslClientAuthentication` decides. */
  sslAuthenticateClients?: boolean;
  /** TLS settings (protocols, cipher suites, CA certificates, groups, key log). Protocol default: TLS 1.2 only. */
  tls?: TlsSettings;
  /** DefaultConnectionTimeout: TLS handshake timeout in seconds. Default 30. */
  defaultConnectionTimeout?: number;
}

/** ConnectionRequest arguments; set `accept` (listeners may be async). */
export interface ConnectionRequest {
  readonly address: string;
  readonly port: number;
  readonly localAddress: string;
  readonly localPort: number;
  accept: boolean;
}

/** SSLConnectionRequest arguments: the client's offer; set `certificate` to choose the one for this connection. */
export interface SslConnectionRequest {
  readonly connectionId: ConnectionId;
  readonly connection: Connection;
  /** Comma-separated IANA cipher-suite names the client offers. */
  readonly supportedCipherSuites: string;
  /** Comma-separated signature schemes the client offers. */
  readonly supportedSignatureAlgs: string;
  /** SNI host name, if sent. */
  readonly serverName: string | undefined;
  readonly clientHello: ClientHelloInfo;
  /** The certificate for this connection; undefined keeps `sslCert`. */
  certificate: CertificateInput | undefined;
  /** false aborts the handshake (status 276). */
  accept: boolean;
}

export interface DroppedConnection {
  readonly address: string | undefined;
  readonly port: number | undefined;
  readonly reason: 'maxConnections';
}

export interface TcpServerEvents {
  connectionRequest: [request: ConnectionRequest];
  /** Status 0 on success; after StartSSL it fires again. A failed TLS handshake reports 276/280 here, then `disconnected`. */
  connected: [connectionId: ConnectionId, statusCode: number, description: string, connection: Connection];
  /** `eol` is false for a partial line (MaxLineLength reached, or the last bytes at close). */
  dataIn: [connectionId: ConnectionId, data: Buffer, eol: boolean, connection: Connection];
  /** Exactly once per connection that got `connected`. */
  disconnected: [connectionId: ConnectionId, statusCode: number, description: string, connection: Connection];
  readyToSend: [connectionId: ConnectionId, connection: Connection];
  sslStatus: [connectionId: ConnectionId, message: string, connection: Connection];
  sslClientAuthentication: [verdict: CertificateVerdict, connectionId: ConnectionId, connection: Connection];
  sslConnectionRequest: [request: SslConnectionRequest];
  /** A connection closed at accept because of MaxConnections (no other event fires for it). */
  connectionDropped: [info: DroppedConnection];
  error: [error: TcpServerError];
}

export interface SendStreamResult {
  bytesSent: number;
  /** True when `interrupt()` stopped the transfer (the connection stays open). */
  interrupted: boolean;
}

interface Settings {
  localHost: string;
  localPort: number;
  useIPv6: UseIPv6;
  connectionBacklog: number;
  maxConnections: number;
  defaultEol: Buffer;
  defaultMaxLineLength: number;
  defaultSingleLineMode: boolean;
  defaultIdleTimeout: number;
  defaultTimeout: number;
  keepAlive: boolean;
  keepAliveTime: number;
  linger: boolean;
  lingerTimeout: number;
  tcpNoDelay: boolean;
  allowedClients: AccessList;
  blockedClients: AccessList;
  outBufferSize: number | undefined;
  maxSendBuffer: number;
  wouldBlock: 'queue' | 'throw';
  textEncoding: BufferEncoding;
  onData: RawDataHandler | null;
  sslStartMode: SslStartMode;
  sslEnabled: boolean;
  sslCert: CertificateInput | undefined;
  sslAuthenticateClients: boolean;
  tls: TlsSettings;
  defaultConnectionTimeout: number;
}

function defaults(): Settings {
  return {
    localHost: '',
    localPort: 0,
    useIPv6: 0,
    connectionBacklog: 511,
    maxConnections: 1000,
    defaultEol: Buffer.alloc(0),
    defaultMaxLineLength: 2048,
    defaultSingleLineMode: false,
    defaultIdleTimeout: 0,
    defaultTimeout: 0,
    keepAlive: false,
    keepAliveTime: 0,
    linger: true,
    lingerTimeout: 10,
    tcpNoDelay: false,
    allowedClients: new AccessList(undefined),
    blockedClients: new AccessList(undefined),
    outBufferSize: undefined,
    maxSendBuffer: 1024 * 1024,
    wouldBlock: 'queue',
    textEncoding: 'utf8',
    onData: null,
    sslStartMode: 'none',
    sslEnabled: false,
    sslCert: undefined,
    sslAuthenticateClients: false,
    tls: {},
    defaultConnectionTimeout: 30,
  };
}

function invalid(message: string): TcpServerError {
  return new TcpServerError(TcpServerErrorCode.InvalidArgument, message);
}

function checkNumber(name: string, v: number, min: number, max = Number.MAX_SAFE_INTEGER, integer = true): number {
  if (typeof v !== 'number' || Number.isNaN(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw invalid(`${name} must be ${integer ? 'an integer ' : ''}between ${min} and ${max} (got ${String(v)})`);
  }
  return v;
}

/** Swallows socket errors while a connection request is still being decided. */
function ignoreError(): void {}

const EMPTY = Buffer.alloc(0);
const SEND_PIECE = 64 * 1024;

function tlsStatus(err: unknown): TcpServerError {
  if (err instanceof TcpServerError) return err;
  if (err instanceof TlsError)
    return new TcpServerError(err.code as TcpServerErrorCode, err.message.replace(/^\[\d+\] /, ''), { cause: err });
  return systemError(err, 'TLS');
}

export class TcpServer extends EventEmitter<TcpServerEvents> {
  #o: Settings = defaults();
  /** The per-connection defaults snapshot shared by new connections; rebuilt after a default changes. */
  #connSettings: ConnectionSettings | null = null;
  #server: net.Server | null = null;
  #starting = false;
  #boundPort = 0;
  readonly #connections = new Map<ConnectionId, Connection>();
  #pending = 0;
  #seq = 0;
  #context: tls.SecureContext | null = null;
  #contexts = new WeakMap<object, tls.SecureContext>();
  #keyLog: ((line: Buffer) => void) | undefined;
  #sslWaiters = new Map<Connection, { resolve: () => void; reject: (e: TcpServerError) => void }>();
  readonly #host: ConnectionHost & TlsHost;
  /** Connections closed at accept because of MaxConnections. */
  droppedConnections = 0;
  /** Connections refused in ConnectionRequest (access lists or handlers). */
  rejectedConnections = 0;

  constructor(options: TcpServerOptions = {}) {
    super();
    this.#host = this.#makeHost();
    this.#apply(options);
  }

  #apply(options: TcpServerOptions): void {
    // Through the setters, so validation is the same as for later changes.
    for (const [k, v] of Object.entries(options)) {
      if (v === undefined) continue;
      if (!(k in SETTERS)) throw invalid(`unknown option ${k}`);
      (this as unknown as Record<string, unknown>)[k] = v;
    }
  }

  // --- properties -----------------------------------------------------------------------

  /** True while listening (read-only; use startListening/stopListening). */
  get listening(): boolean {
    return this.#server !== null;
  }
  /** Connected clients by id (a connection appears once accepted, before its TLS handshake). */
  get connections(): ReadonlyMap<ConnectionId, Connection> {
    return this.#connections;
  }
  get localHost(): string {
    return this.#o.localHost;
  }
  set localHost(v: string) {
    if (this.listening) throw new TcpServerError(TcpServerErrorCode.CannotChangeLocalHost, 'cannot change LocalHost while listening');
    this.#o.localHost = v ?? '';
  }
  /** The configured port; once listening, the actual port (also when 0 was configured). */
  get localPort(): number {
    return this.listening ? this.#boundPort : this.#o.localPort;
  }
  set localPort(v: number) {
    if (this.listening) throw new TcpServerError(TcpServerErrorCode.CannotChangeLocalPort, 'cannot change LocalPort while listening');
    this.#o.localPort = checkNumber('localPort', v, 0, 65535);
  }
  get useIPv6(): UseIPv6 {
    return this.#o.useIPv6;
  }
  set useIPv6(v: UseIPv6) {
    if (this.listening) throw new TcpServerError(TcpServerErrorCode.CannotChangeLocalHost, 'cannot change UseIPv6 while listening');
    this.#o.useIPv6 = checkNumber('useIPv6', v, 0, 2) as UseIPv6;
  }
  get connectionBacklog(): number {
    return this.#o.connectionBacklog;
  }
  set connectionBacklog(v: number) {
    this.#o.connectionBacklog = checkNumber('connectionBacklog', v, 0, 65535);
  }
  get maxConnections(): number {
    return this.#o.maxConnections;
  }
  set maxConnections(v: number) {
    if (this.listening)
      throw new TcpServerError(TcpServerErrorCode.CannotChangeMaxConnections, 'cannot change MaxConnections while listening');
    this.#o.maxConnections = checkNumber('maxConnections', v, 1, 100_000);
  }
  /** DefaultEOL as bytes (DefaultEOLB). */
  get defaultEol(): Buffer {
    return this.#o.defaultEol;
  }
  set defaultEol(v: string | Uint8Array) {
    this.#o.defaultEol = typeof v === 'string' ? Buffer.from(v, 'latin1') : Buffer.from(v);
    this.#connSettings = null;
  }
  get defaultMaxLineLength(): number {
    return this.#o.defaultMaxLineLength;
  }
  set defaultMaxLineLength(v: number) {
    this.#o.defaultMaxLineLength = checkNumber('defaultMaxLineLength', v, 256);
    this.#connSettings = null;
  }
  get defaultSingleLineMode(): boolean {
    return this.#o.defaultSingleLineMode;
  }
  set defaultSingleLineMode(v: boolean) {
    this.#o.defaultSingleLineMode = Boolean(v);
  }
  get defaultIdleTimeout(): number {
    return this.#o.defaultIdleTimeout;
  }
  set defaultIdleTimeout(v: number) {
    this.#o.defaultIdleTimeout = checkNumber('defaultIdleTimeout', v, 0, 2_147_483, false);
    this.#connSettings = null;
  }
  get defaultTimeout(): number {
    return this.#o.defaultTimeout;
  }
  set defaultTimeout(v: number) {
    this.#o.defaultTimeout = checkNumber('defaultTimeout', v, 0, 2_147_483, false);
    this.#connSettings = null;
  }
  get keepAlive(): boolean {
    return this.#o.keepAlive;
  }
  set keepAlive(v: boolean) {
    this.#o.keepAlive = Boolean(v);
  }
  get keepAliveTime(): number {
    return this.#o.keepAliveTime;
  }
  set keepAliveTime(v: number) {
    this.#o.keepAliveTime = checkNumber('keepAliveTime', v, 0);
    if (v > 0) this.#o.keepAlive = true;
  }
  get linger(): boolean {
    return this.#o.linger;
  }
  set linger(v: boolean) {
    this.#o.linger = Boolean(v);
  }
  get lingerTimeout(): number {
    return this.#o.lingerTimeout;
  }
  set lingerTimeout(v: number) {
    this.#o.lingerTimeout = checkNumber('lingerTimeout', v, 0, 2_147_483, false);
    this.#host.lingerTimeoutMs = v * 1000;
  }
  get tcpNoDelay(): boolean {
    return this.#o.tcpNoDelay;
  }
  set tcpNoDelay(v: boolean) {
    this.#o.tcpNoDelay = Boolean(v);
  }
  get allowedClients(): string {
    return this.#o.allowedClients.entries.join(',');
  }
  set allowedClients(v: string | readonly string[]) {
    this.#o.allowedClients = new AccessList(v);
    if (this.listening) void this.#o.allowedClients.resolve();
  }
  get blockedClients(): string {
    return this.#o.blockedClients.entries.join(',');
  }
  set blockedClients(v: string | readonly string[]) {
    this.#o.blockedClients = new AccessList(v);
    if (this.listening) void this.#o.blockedClients.resolve();
  }
  get outBufferSize(): number | undefined {
    return this.#o.outBufferSize;
  }
  set outBufferSize(v: number | undefined) {
    this.#o.outBufferSize = v === undefined ? undefined : checkNumber('outBufferSize', v, 1);
  }
  get maxSendBuffer(): number {
    return this.#o.maxSendBuffer;
  }
  set maxSendBuffer(v: number) {
    this.#o.maxSendBuffer = checkNumber('maxSendBuffer', v, 1);
    this.#host.maxSendBuffer = v;
  }
  get wouldBlock(): 'queue' | 'throw' {
    return this.#o.wouldBlock;
  }
  set wouldBlock(v: 'queue' | 'throw') {
    if (v !== 'queue' && v !== 'throw') throw invalid(`wouldBlock must be 'queue' or 'throw'`);
    this.#o.wouldBlock = v;
    this.#host.wouldBlockThrows = v === 'throw';
  }
  get textEncoding(): BufferEncoding {
    return this.#o.textEncoding;
  }
  set textEncoding(v: BufferEncoding) {
    if (!Buffer.isEncoding(v)) throw invalid(`unknown text encoding ${String(v)}`);
    this.#o.textEncoding = v;
  }
  get onData(): RawDataHandler | null {
    return this.#o.onData;
  }
  set onData(v: RawDataHandler | null) {
    this.#o.onData = v ?? null;
    this.#connSettings = null;
  }
  get sslStartMode(): SslStartMode {
    return this.#o.sslStartMode;
  }
  set sslStartMode(v: SslStartMode | 0 | 1 | 2 | 3) {
    const mode = typeof v === 'number' ? SslStartModes[v] : v;
    if (!mode || !['automatic', 'implicit', 'explicit', 'none'].includes(mode)) throw invalid(`unknown sslStartMode ${String(v)}`);
    this.#o.sslStartMode = mode;
    // Setting the start mode updates SSLEnabled, as in the toolkit.
    this.#o.sslEnabled = mode !== 'none';
    this.#invalidateTls();
  }
  get sslEnabled(): boolean {
    return this.#o.sslEnabled;
  }
  set sslEnabled(v: boolean) {
    this.#o.sslEnabled = Boolean(v);
    if (!v) this.#o.sslStartMode = 'none';
    this.#invalidateTls();
  }
  get sslCert(): CertificateInput | undefined {
    return this.#o.sslCert;
  }
  set sslCert(v: CertificateInput | undefined) {
    this.#o.sslCert = v;
    this.#invalidateTls();
  }
  get sslAuthenticateClients(): boolean {
    return this.#o.sslAuthenticateClients;
  }
  set sslAuthenticateClients(v: boolean) {
    this.#o.sslAuthenticateClients = Boolean(v);
  }
  /** TLS settings; assign a new object to change them (applies to new handshakes). */
  get tls(): Readonly<TlsSettings> {
    return this.#o.tls;
  }
  set tls(v: TlsSettings) {
    this.#o.tls = { ...v };
    this.#invalidateTls();
  }
  get defaultConnectionTimeout(): number {
    return this.#o.defaultConnectionTimeout;
  }
  set defaultConnectionTimeout(v: number) {
    this.#o.defaultConnectionTimeout = checkNumber('defaultConnectionTimeout', v, 0, 2_147_483, false);
  }

  /** Resolves the host names of AllowedClients/BlockedClients (done at startListening and after each change). */
  async resolveAccessLists(): Promise<void> {
    await Promise.all([this.#o.allowedClients.resolve(), this.#o.blockedClients.resolve()]);
  }

  /** The bound address once listening. */
  address(): AddressInfo | undefined {
    return (this.#server?.address() as AddressInfo | null) ?? undefined;
  }

  // --- lifecycle ------------------------------------------------------------------------

  /** StartListening. Rejects with 104 if already listening, or with the mapped bind/TLS error. */
  async startListening(): Promise<void> {
    if (this.listening || this.#starting) throw new TcpServerError(TcpServerErrorCode.AlreadyListening, 'already listening');
    this.#starting = true;
    try {
      await this.resolveAccessLists();
      if (this.#tlsMode() !== 'none') this.#context = this.#buildContext();
      this.#keyLog = this.#o.tls.keyLogFile ? keyLogWriter(this.#o.tls.keyLogFile) : undefined;
      const o = this.#o;
      const server = net.createServer({
        pauseOnConnect: true,
        allowHalfOpen: false,
        ...(o.outBufferSize ? { highWaterMark: o.outBufferSize } : {}),
      });
      server.maxConnections = o.maxConnections;
      server.on('connection', this.#accept);
      server.on('drop', this.#onDrop);
      const host = o.localHost || (o.useIPv6 === 0 ? '0.0.0.0' : '::');
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port: o.localPort, backlog: o.connectionBacklog, ipv6Only: o.useIPv6 === 1 && !o.localHost }, () => {
          server.removeListener('error', reject);
          resolve();
        });
      }).catch((err: unknown) => {
        throw systemError(err, `cannot listen on ${host}:${o.localPort}`);
      });
      server.on('error', (err) => this.#emitError(systemError(err, 'listener')));
      this.#boundPort = (server.address() as AddressInfo).port;
      this.#server = server;
    } catch (err) {
      throw tlsStatus(err);
    } finally {
      this.#starting = false;
    }
  }

  /** StopListening: closes the listening socket only; connections stay. */
  async stopListening(): Promise<void> {
    const s = this.#server;
    if (!s) return;
    this.#server = null;
    s.removeListener('connection', this.#accept);
    // Not awaited: net.Server's close callback waits for every connection to end.
    s.close(() => {});
  }

  /** Shutdown = StopListening + Disconnect of every client; resolves when all are gone. */
  async shutdown(): Promise<void> {
    await this.stopListening();
    await Promise.all([...this.#connections.values()].map((c) => c.disconnect()));
  }

  /** Reset: restores every property to its default. Not allowed while listening (104). */
  reset(): void {
    if (this.listening)
      throw new TcpServerError(TcpServerErrorCode.AlreadyListening, 'cannot reset while listening; call shutdown() first');
    this.#o = defaults();
    this.#host.maxSendBuffer = this.#o.maxSendBuffer;
    this.#host.wouldBlockThrows = false;
    this.#host.lingerTimeoutMs = this.#o.lingerTimeout * 1000;
    this.#connSettings = null;
    this.#context = null;
    this.#contexts = new WeakMap();
  }

  /** DoEvents has no work in Node (the event loop runs the server); resolves after pending I/O callbacks. */
  doEvents(): Promise<void> {
    return new Promise((r) => setImmediate(r));
  }

  // --- per-connection operations --------------------------------------------------------

  #get(id: ConnectionId): Connection {
    const c = this.#connections.get(id);
    if (!c)
      throw new TcpServerError(TcpServerErrorCode.InvalidConnectionId, `invalid ConnectionId ${JSON.stringify(id)}`, { connectionId: id });
    return c;
  }

  /** Disconnect (honours the connection's Linger). Unknown id → 126. */
  async disconnect(id: ConnectionId): Promise<void> {
    return this.#get(id).disconnect();
  }

  /**
   * Send (bytes). Returns false when queued above `outBufferSize` (readyToSend fires when it
   * drains) or when the connection is closing. Unknown id → 126; `wouldBlock: 'throw'` → 135.
   */
  send(id: ConnectionId, data: Uint8Array): boolean {
    return this.#get(id).write(data);
  }
  /** SendBytes: alias of {@link send}. */
  sendBytes(id: ConnectionId, data: Uint8Array): boolean {
    return this.#get(id).write(data);
  }
  /** SendText: the string in `textEncoding` (UTF-8). */
  sendText(id: ConnectionId, text: string): boolean {
    return this.#get(id).write(text, this.#o.textEncoding);
  }
  /** SendLine: the text followed by CRLF, whatever the connection's EOL. */
  sendLine(id: ConnectionId, text: string): boolean {
    return this.#get(id).write(`${text}\r\n`, this.#o.textEncoding);
  }

  /**
   * Resolves once everything queued on the connection has been handed to the kernel. With
   * the connection's `timeout` > 0, rejects with 10060 after that many seconds without
   * progress (the toolkit's blocking-send Timeout).
   */
  async flush(id: ConnectionId): Promise<void> {
    const conn = this.#get(id);
    const s = conn.socket;
    if (s.writableLength === 0 || conn._closing) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      let last = unsentBytes(s);
      const finish = (err?: TcpServerError) => {
        if (timer) clearTimeout(timer);
        s.removeListener('close', onGone);
        if (err) reject(err);
        else resolve();
      };
      const onGone = () =>
        finish(
          new TcpServerError(TcpServerErrorCode.ConnectionAborted, 'connection closed before the data was sent', { connectionId: id }),
        );
      s.once('close', onGone);
      // An empty write completes after every earlier write.
      s.write(EMPTY, () => finish());
      if (conn.timeout > 0) {
        const check = () => {
          const now = unsentBytes(s);
          const progressed = now < last;
          last = now;
          if (progressed) {
            timer = setTimeout(check, conn.timeout * 1000);
          } else {
            finish(
              new TcpServerError(TcpServerErrorCode.TimedOut, `send timed out after ${conn.timeout} s without progress`, {
                connectionId: id,
              }),
            );
          }
        };
        timer = setTimeout(check, conn.timeout * 1000);
      }
    });
  }

  /**
   * Send and wait until sent: the toolkit's blocking mode (Timeout > 0). Large data is written
   * in 64 KiB pieces so the Timeout measures progress, not the time for the whole buffer.
   */
  async sendAsync(id: ConnectionId, data: Uint8Array | string): Promise<void> {
    const conn = this.#get(id);
    if (!conn.connected) throw new TcpServerError(TcpServerErrorCode.ConnectionAborted, 'connection is closing', { connectionId: id });
    const buf = typeof data === 'string' ? Buffer.from(data, this.#o.textEncoding) : data;
    const s = conn.socket;
    for (let off = 0; off < buf.length; off += SEND_PIECE) s.write(buf.subarray(off, off + SEND_PIECE));
    await this.flush(id);
  }

  /** SendFile: streams a file with back-pressure. `interrupt(id)` stops it (the connection stays). */
  async sendFile(id: ConnectionId, path: string): Promise<SendStreamResult> {
    this.#get(id);
    return this.sendStream(id, createReadStream(path, { highWaterMark: 64 * 1024 }), { closeStream: true });
  }

  /**
   * Streams any readable (CloseStreamAfterTransfer: `closeStream`, default true, destroys it
   * afterwards). Back-pressure is respected, so `maxSendBuffer` never triggers.
   */
  async sendStream(
    id: ConnectionId,
    source: Readable | AsyncIterable<Uint8Array | string>,
    options: { closeStream?: boolean } = {},
  ): Promise<SendStreamResult> {
    const conn = this.#get(id);
    const abort = conn._sendFileController();
    let bytesSent = 0;
    const closeStream = options.closeStream ?? true;
    try {
      for await (const chunk of source) {
        if (abort.signal.aborted) break;
        if (conn._closing)
          throw new TcpServerError(TcpServerErrorCode.ConnectionAborted, 'connection closed during the transfer', { connectionId: id });
        const buf = typeof chunk === 'string' ? Buffer.from(chunk, this.#o.textEncoding) : chunk;
        const s = conn.socket;
        const ok = s.write(buf);
        bytesSent += buf.length;
        if (!ok) await waitDrain(s, abort.signal);
      }
    } catch (err) {
      if (!(abort.signal.aborted && !conn._closing)) {
        throw err instanceof TcpServerError ? err : systemError(err, 'SendFile', id);
      }
    } finally {
      if (closeStream && typeof (source as Readable).destroy === 'function') (source as Readable).destroy();
    }
    const interrupted = abort.signal.aborted && !conn._closing;
    if (abort.signal.aborted && conn._closing)
      throw new TcpServerError(TcpServerErrorCode.ConnectionAborted, 'connection closed during the transfer', { connectionId: id });
    return { bytesSent, interrupted };
  }

  /** Interrupt: stops a SendFile/sendStream in progress without disconnecting. */
  interrupt(id: ConnectionId): boolean {
    return this.#get(id)._interrupt();
  }

  /** ChangeRecordLength (also valid inside dataIn; applies to buffered bytes). */
  changeRecordLength(id: ConnectionId, recordLength: number): void {
    this.#get(id).changeRecordLength(recordLength);
  }
  /** PauseData. */
  pauseData(id: ConnectionId): void {
    this.#get(id).pause();
  }
  /** ProcessData. */
  processData(id: ConnectionId): void {
    this.#get(id).resume();
  }

  /**
   * StartSSL: upgrades a plaintext connection (explicit mode) after the application answered
   * the STARTTLS-style command. Bytes already received past the command are discarded (never
   * delivered as post-TLS data). Connected fires again on success; resolves then, rejects
   * with 276/280 on failure (the connection is closed).
   */
  async startSSL(id: ConnectionId): Promise<void> {
    const conn = this.#get(id);
    if (conn.encrypted || conn._handshakeInProgress || this.#sslWaiters.has(conn)) {
      throw new TcpServerError(TcpServerErrorCode.InvalidArgument, 'TLS is already active on this connection', { connectionId: id });
    }
    try {
      this.#context ??= this.#buildContext();
    } catch (err) {
      throw tlsStatus(err);
    }
    const p = new Promise<void>((resolve, reject) => this.#sslWaiters.set(conn, { resolve, reject }));
    const dropped = conn._discardForTls();
    if (dropped > 0) this.emit('sslStatus', id, `Discarded ${dropped} plaintext bytes received before the TLS handshake`, conn);
    beginTls(conn, this.#host);
    return await p;
  }

  /** Config("NAME=VALUE") / Config("NAME") / Config("NAME[connId]") for parity; see README for names. */
  config(setting: string): string {
    return applyConfig(this, setting);
  }

  // --- internals ------------------------------------------------------------------------

  #tlsMode(): 'implicit' | 'explicit' | 'none' {
    const { sslStartMode: m, sslEnabled } = this.#o;
    if (m === 'explicit') return 'explicit';
    if (m === 'implicit' || m === 'automatic') return 'implicit';
    return sslEnabled ? 'implicit' : 'none';
  }

  #buildContext(): tls.SecureContext {
    const cert = this.#o.sslCert;
    if (cert === undefined) throw new TcpServerError(TcpServerErrorCode.CertificateNotFound, 'TLS is enabled but no sslCert is set');
    const certificate = Certificate.from(cert);
    if (!certificate.privateKeyAvailable)
      throw new TcpServerError(TcpServerErrorCode.CertificateNotFound, `sslCert "${certificate.subject}" has no private key`);
    return createSecureContext({ ...this.#o.tls, certificate }, { side: 'server', protocols: SslProtocol.TLS1_2 });
  }

  #invalidateTls(): void {
    this.#context = null;
    this.#contexts = new WeakMap();
    // While listening, build now so a bad certificate or setting fails here, not at the next handshake.
    if (this.listening && this.#tlsMode() !== 'none') {
      try {
        this.#context = this.#buildContext();
      } catch (err) {
        throw tlsStatus(err);
      }
    }
  }

  #emitError(err: TcpServerError): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(err);
  }

  #onDrop = (data?: { remoteAddress?: string; remotePort?: number }): void => {
    this.droppedConnections++;
    if (this.listenerCount('connectionDropped') > 0) {
      this.emit('connectionDropped', {
        address: data?.remoteAddress ? normalizeAddress(data.remoteAddress) : undefined,
        port: data?.remotePort,
        reason: 'maxConnections',
      });
    }
  };

  /** The accept pipeline (one bound function per server). */
  #accept = (socket: Socket): void => {
    const o = this.#o;
    if (this.#connections.size + this.#pending >= o.maxConnections) {
      this.#onDrop({ remoteAddress: socket.remoteAddress, remotePort: socket.remotePort });
      socket.destroy();
      return;
    }
    const rawAddress = socket.remoteAddress;
    if (rawAddress === undefined) {
      socket.destroy(); // already reset by the peer
      return;
    }
    const address = normalizeAddress(rawAddress);
    const port = socket.remotePort ?? 0;
    let accept = (o.allowedClients.empty || o.allowedClients.matches(address)) && !o.blockedClients.matches(address);
    if (this.listenerCount('connectionRequest') > 0) {
      const request: ConnectionRequest = {
        address,
        port,
        localAddress: normalizeAddress(socket.localAddress ?? ''),
        localPort: socket.localPort ?? 0,
        accept,
      };
      const r = runAcceptHandlers(request, this.rawListeners('connectionRequest'), (err) =>
        this.#emitError(
          new TcpServerError(TcpServerErrorCode.InvalidArgument, `connectionRequest handler failed: ${String(err)}`, { cause: err }),
        ),
      );
      if (typeof r !== 'boolean') {
        this.#pending++;
        socket.on('error', ignoreError);
        void r.then((ok) => {
          this.#pending--;
          socket.removeListener('error', ignoreError);
          this.#admit(socket, ok);
        });
        return;
      }
      accept = r;
    }
    this.#admit(socket, accept);
  };

  #admit(socket: Socket, accept: boolean): void {
    if (!accept) {
      this.rejectedConnections++;
      socket.destroy();
      return;
    }
    if (socket.destroyed) return;
    const o = this.#o;
    if (o.keepAlive) socket.setKeepAlive(true, o.keepAliveTime);
    if (o.tcpNoDelay) socket.setNoDelay(true);
    const id = String(++this.#seq);
    this.#connSettings ??= {
      host: this.#host,
      eol: o.defaultEol,
      maxLineLength: o.defaultMaxLineLength,
      recordLength: 0,
      idleTimeout: o.defaultIdleTimeout,
      timeout: o.defaultTimeout,
      onData: o.onData,
    };
    const conn = new Connection(id, socket, this.#connSettings, { singleLineMode: o.defaultSingleLineMode, linger: o.linger });
    this.#connections.set(id, conn);
    if (this.#tlsMode() === 'implicit') beginTls(conn, this.#host);
    else this.#connected(conn);
  }

  #connected(conn: Connection): void {
    const id = conn.connectionId;
    conn._markConnected();
    this.emit('connected', id, 0, 'OK', conn);
    if (!conn._closing) this.emit('readyToSend', id, conn);
    if (!conn._closing) conn._start();
  }

  #closed(conn: Connection, status: Status): void {
    const id = conn.connectionId;
    this.#connections.delete(id);
    let st = status;
    const waiter = this.#sslWaiters.get(conn);
    const tlsFailed = conn._tlsPending;
    if (tlsFailed && st.code === 0)
      st = { code: TcpServerErrorCode.HandshakeError, description: 'Connection closed during the TLS handshake' };
    // A failed handshake is reported through Connected (as the toolkit does), then Disconnected.
    if (tlsFailed) this.emit('connected', id, st.code, st.description, conn);
    if (waiter) {
      this.#sslWaiters.delete(conn);
      waiter.reject(new TcpServerError(st.code as TcpServerErrorCode, st.description, { connectionId: id }));
    }
    this.emit('disconnected', id, st.code, st.description, conn);
  }

  #makeHost(): ConnectionHost & TlsHost {
    const self = this;
    return {
      // Plain fields, kept current by the setters: read on every send.
      maxSendBuffer: 1024 * 1024,
      wouldBlockThrows: false,
      lingerTimeoutMs: 10_000,
      emitDataIn(conn, data, eol) {
        self.emit('dataIn', conn.connectionId, data, eol, conn);
      },
      emitReadyToSend(conn) {
        self.emit('readyToSend', conn.connectionId, conn);
      },
      closed(conn, status) {
        self.#closed(conn, status);
      },
      secured(conn) {
        conn._tlsDone();
        const waiter = self.#sslWaiters.get(conn);
        if (waiter) {
          // Explicit TLS: Connected fires a second time.
          self.#sslWaiters.delete(conn);
          self.emit('connected', conn.connectionId, 0, 'OK', conn);
          if (!conn._closing) conn._start();
          waiter.resolve();
        } else {
          self.#connected(conn);
        }
      },
      secureContext() {
        self.#context ??= self.#buildContext();
        return self.#context;
      },
      get authenticateClients() {
        return self.#o.sslAuthenticateClients;
      },
      get handshakeTimeoutMs() {
        return self.#o.defaultConnectionTimeout * 1000;
      },
      get highWaterMark() {
        return self.#o.outBufferSize;
      },
      get keyLog() {
        return self.#keyLog;
      },
      sslStatus(conn, message) {
        if (self.listenerCount('sslStatus') > 0) self.emit('sslStatus', conn.connectionId, message, conn);
      },
      wantsConnectionRequest() {
        return self.listenerCount('sslConnectionRequest') > 0;
      },
      connectionRequest(conn, hello) {
        const request: SslConnectionRequest = {
          connectionId: conn.connectionId,
          connection: conn,
          supportedCipherSuites: hello.cipherSuiteNames.join(','),
          supportedSignatureAlgs: hello.signatureAlgorithmNames.join(','),
          serverName: hello.serverName,
          clientHello: hello,
          certificate: undefined,
          accept: true,
        };
        const chosen = (accepted: boolean): tls.SecureContext | undefined => {
          if (!accepted)
            throw new TcpServerError(TcpServerErrorCode.HandshakeError, 'TLS connection refused in sslConnectionRequest', {
              connectionId: conn.connectionId,
            });
          return request.certificate === undefined ? undefined : self.#contextFor(request.certificate);
        };
        const onError = (err: unknown) => self.#emitError(tlsStatus(err));
        const r = runAcceptHandlers(request, self.rawListeners('sslConnectionRequest'), onError);
        return typeof r === 'boolean' ? chosen(r) : r.then(chosen);
      },
      clientAuthentication(conn, verdict) {
        if (self.listenerCount('sslClientAuthentication') === 0) return verdict.accept;
        return runAcceptHandlers(
          verdict,
          self.rawListeners('sslClientAuthentication'),
          (err) =>
            self.#emitError(
              new TcpServerError(TcpServerErrorCode.CertificateRejected, `sslClientAuthentication handler failed: ${String(err)}`, {
                cause: err,
                connectionId: conn.connectionId,
              }),
            ),
          conn.connectionId,
          conn,
        );
      },
    };
  }

  #contextFor(input: CertificateInput): tls.SecureContext {
    const key = input as object;
    let ctx = this.#contexts.get(key);
    if (!ctx) {
      const certificate = Certificate.from(input);
      ctx = createSecureContext({ ...this.#o.tls, certificate }, { side: 'server', protocols: SslProtocol.TLS1_2 });
      this.#contexts.set(key, ctx);
    }
    return ctx;
  }
}

/** Bytes not yet handed to the kernel (a write counts until it completes entirely). */
function unsentBytes(s: Socket): number {
  return s.writableLength;
}

function waitDrain(s: Socket, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const done = (err?: Error) => {
      s.removeListener('drain', onDrain);
      s.removeListener('close', onClose);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = () => done();
    const onClose = () => done(new TcpServerError(TcpServerErrorCode.ConnectionAborted, 'connection closed during the transfer'));
    const onAbort = () => done(new Error('interrupted'));
    s.once('drain', onDrain);
    s.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Names accepted by the option object (and settable properties). */
const SETTERS: Readonly<Record<keyof TcpServerOptions, true>> = {
  localHost: true,
  localPort: true,
  useIPv6: true,
  connectionBacklog: true,
  maxConnections: true,
  defaultEol: true,
  defaultMaxLineLength: true,
  defaultSingleLineMode: true,
  defaultIdleTimeout: true,
  defaultTimeout: true,
  keepAlive: true,
  keepAliveTime: true,
  linger: true,
  lingerTimeout: true,
  tcpNoDelay: true,
  allowedClients: true,
  blockedClients: true,
  outBufferSize: true,
  maxSendBuffer: true,
  wouldBlock: true,
  textEncoding: true,
  onData: true,
  sslStartMode: true,
  sslEnabled: true,
  sslCert: true,
  sslAuthenticateClients: true,
  tls: true,
  defaultConnectionTimeout: true,
};
