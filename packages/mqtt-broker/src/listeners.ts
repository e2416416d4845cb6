/**
 * Listeners: TCP and TLS on @iotwire/tcp-server (raw mode), WebSocket and secure WebSocket on
 * `ws` (subprotocol `mqtt`, binary frames only, packets may span frames). Each produces
 * {@link ByteStream}s; the MQTT core never sees which transport it has.
 */
import type { X509Certificate } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { type Connection, normalizeAddress, TcpServer } from '@iotwire/tcp-server';
import { type CertificateInput, type CertificateVerdict, clientCertificateVerdict, serverTlsOptions, type TlsSettings } from '@iotwire/tls';
import { type WebSocket, WebSocketServer } from 'ws';
import { BrokerError, BrokerErrorCode } from './errors.js';
import { type ByteStream, type CertificateIdentity, type ListenerProtocol, PROTOCOL_NAMES, type StreamSink } from './transport.js';

/** `addBrokerListener` options. */
export interface BrokerListenerOptions {
  /** `'tcp'` (0), `'tls'` (1), `'ws'` (2) or `'wss'` (3). */
  protocol: ListenerProtocol | 0 | 1 | 2 | 3;
  /** Interface to bind; `''`/omitted = all IPv4 interfaces (`'::'` for IPv6 dual stack). */
  host?: string;
  /** Port; 0 lets the OS choose (read the bound port from `listeners` once listening). Default 1883/8883/8080/8443 by protocol. */
  port?: number;
  /** TLS and WSS: the server certificate (PFX store, PEM pair, or a loaded Certificate). */
  certificate?: CertificateInput;
  /** TLS and WSS: ask clients for a certificate; `sslClientAuthentication` decides (default false). */
  requestCert?: boolean;
  /** TLS and WSS: protocol versions, cipher suites, client CA certificates … Default TLS 1.2 only (the toolkit's). */
  tls?: TlsSettings;
  /** WS and WSS: request path; default `/mqtt`; `'*'` accepts any path. */
  path?: string;
  /** TLS handshake timeout, seconds. Default 30. */
  handshakeTimeout?: number;
  /**
   * TLS and WSS: the client certificate's identity is the user name — `'cn'` its Common Name
   * (Mosquitto `use_identity_as_username`), `'subject'` its subject in RFC 2253 form
   * (`use_subject_as_username`). Implies `requestCert`; a client without a valid certificate
   * is refused, and the user name and password of CONNECT are ignored.
   */
  certificateIdentity?: CertificateIdentity;
}

/** One configured listener (the `listeners` collection). */
export interface BrokerListenerInfo {
  readonly protocol: ListenerProtocol;
  readonly host: string;
  /** Configured port; once listening, the bound one. */
  readonly port: number;
  readonly path: string | undefined;
  readonly requestCert: boolean;
}

/** What a listener needs from the broker. */
export interface ListenerHost {
  readonly maxConnections: number;
  readonly maxPacketSize: number;
  readonly maxSendBuffer: number;
  /** Live connection count (all listeners). */
  connectionCount(): number;
  /** ConnectionRequest: true/false or a Promise of it. */
  connectionRequest(
    protocol: ListenerProtocol,
    address: string,
    port: number,
    localAddress: string,
    localPort: number,
  ): boolean | Promise<boolean>;
  /** A transport is ready: the broker creates its MQTT connection (returns the connection id). */
  accepted(stream: ByteStream, id: string): void;
  /** Next broker-wide connection id. */
  nextId(): string;
  /** TLS failed before the stream existed. */
  failed(id: string, statusCode: number, description: string): void;
  sslStatus(id: string, message: string): void;
  sslClientAuthentication(id: string, verdict: CertificateVerdict): boolean | Promise<boolean>;
  error(err: BrokerError): void;
}

const DEFAULT_PORTS: Record<ListenerProtocol, number> = { tcp: 1883, tls: 8883, ws: 8080, wss: 8443 };

export function normalizeListener(
  o: BrokerListenerOptions,
): Required<Pick<BrokerListenerOptions, 'host' | 'port'>> & BrokerListenerOptions & { protocol: ListenerProtocol } {
  const protocol = typeof o.protocol === 'number' ? PROTOCOL_NAMES[o.protocol] : o.protocol;
  if (protocol === undefined || !PROTOCOL_NAMES.includes(protocol)) {
    throw new BrokerError(BrokerErrorCode.InvalidArgument, `unknown listener protocol ${String(o.protocol)}`);
  }
  const port = o.port ?? DEFAULT_PORTS[protocol];
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new BrokerError(BrokerErrorCode.InvalidArgument, `invalid port ${String(o.port)}`);
  if ((protocol === 'tls' || protocol === 'wss') && o.certificate === undefined) {
    throw new BrokerError(BrokerErrorCode.InvalidArgument, `a ${protocol} listener needs a certificate`);
  }
  if (o.certificateIdentity !== undefined) {
    if (o.certificateIdentity !== 'cn' && o.certificateIdentity !== 'subject')
      throw new BrokerError(BrokerErrorCode.InvalidArgument, `certificateIdentity must be 'cn' or 'subject'`);
    if (protocol !== 'tls' && protocol !== 'wss')
      throw new BrokerError(BrokerErrorCode.InvalidArgument, `certificateIdentity needs a tls or wss listener, not ${protocol}`);
    return { ...o, protocol, port, host: o.host ?? '', requestCert: true };
  }
  return { ...o, protocol, port, host: o.host ?? '' };
}

export interface ListenerRuntime {
  readonly info: BrokerListenerInfo;
  start(): Promise<void>;
  /** Stops accepting; existing connections stay. */
  stop(): Promise<void>;
}

// --- TCP / TLS ---------------------------------------------------------------------------

/** A tcp-server connection as a byte stream; also its `userData` (one object per connection). */
class TcpStream implements ByteStream {
  sink: StreamSink | null = null;
  constructor(
    readonly protocol: ListenerProtocol,
    readonly conn: Connection,
    readonly id: string,
    readonly certificateIdentity: CertificateIdentity | undefined,
  ) {}
  get remoteAddress(): string {
    return this.conn.remoteHost;
  }
  get remotePort(): number {
    return this.conn.remotePort;
  }
  get localAddress(): string {
    return normalizeAddress(this.conn.localAddress);
  }
  get localPort(): number {
    return this.conn.localPort;
  }
  get writableLength(): number {
    return this.conn.writableLength;
  }
  write(data: Uint8Array): boolean {
    return this.conn.write(data);
  }
  pause(): void {
    this.conn.pause();
  }
  resume(): void {
    this.conn.resume();
  }
  end(): void {
    void this.conn.disconnect();
  }
  destroy(): void {
    this.conn.destroy();
  }
  peerCertificate(): X509Certificate | undefined {
    return this.conn.peerCertificate();
  }
}

/** The stream (and broker id) of a tcp-server connection, created on first sight. */
function streamOf(host: ListenerHost, protocol: ListenerProtocol, conn: Connection, identity?: CertificateIdentity): TcpStream {
  let s = conn.userData as TcpStream | undefined;
  if (s === undefined) {
    s = new TcpStream(protocol, conn, host.nextId(), identity);
    conn.userData = s;
  }
  return s;
}

export class TcpListener implements ListenerRuntime {
  readonly #server: TcpServer;
  #info: BrokerListenerInfo;

  constructor(options: ReturnType<typeof normalizeListener>, host: ListenerHost) {
    const secure = options.protocol === 'tls';
    this.#info = {
      protocol: options.protocol,
      host: options.host,
      port: options.port,
      path: undefined,
      requestCert: options.requestCert ?? false,
    };
    const server = (this.#server = new TcpServer({
      localHost: options.host === '::' ? '' : options.host,
      ...(options.host === '::' ? { useIPv6: 2 } : {}),
      localPort: options.port,
      // The broker enforces limits.maxConnections itself (changeable at run time); this is the transport's ceiling.
      maxConnections: 100_000,
      tcpNoDelay: true,
      linger: true,
      lingerTimeout: 2,
      maxSendBuffer: Math.max(host.maxSendBuffer * 4, 4 * 1024 * 1024),
      onData: (chunk, conn) => (conn.userData as TcpStream).sink?.data(chunk),
      ...(secure
        ? {
            sslStartMode: 'implicit' as const,
            sslCert: options.certificate,
            sslAuthenticateClients: options.requestCert ?? false,
            tls: options.tls ?? {},
            defaultConnectionTimeout: options.handshakeTimeout ?? 30,
          }
        : {}),
    }));
    const protocol = options.protocol;
    server.on('connectionRequest', (req) => {
      const r = host.connectionRequest(protocol, req.address, req.port, req.localAddress, req.localPort);
      if (typeof r === 'boolean') req.accept = r;
      else return r.then((ok) => void (req.accept = ok));
    });
    server.on('connected', (_tid, status, description, conn) => {
      const stream = streamOf(host, protocol, conn, options.certificateIdentity);
      if (status !== 0) {
        host.failed(stream.id, status, description);
        return;
      }
      if (host.connectionCount() >= host.maxConnections) {
        conn.destroy();
        return;
      }
      host.accepted(stream, stream.id);
    });
    server.on('disconnected', (_tid, status, description, conn) =>
      (conn.userData as TcpStream | undefined)?.sink?.closed(status, description),
    );
    server.on('readyToSend', (_tid, conn) => (conn.userData as TcpStream | undefined)?.sink?.drain());
    server.on('sslStatus', (_tid, message, conn) =>
      host.sslStatus(streamOf(host, protocol, conn, options.certificateIdentity).id, message),
    );
    server.on('sslClientAuthentication', (verdict, _tid, conn) => {
      const r = host.sslClientAuthentication(streamOf(host, protocol, conn, options.certificateIdentity).id, verdict);
      if (typeof r === 'boolean') verdict.accept = r;
      else return r.then((ok) => void (verdict.accept = ok));
    });
    server.on('error', (err) =>
      host.error(new BrokerError(BrokerErrorCode.Listen, err.message, { cause: err, errorCode: err.code as unknown as number })),
    );
  }

  get info(): BrokerListenerInfo {
    return this.#server.listening ? { ...this.#info, port: this.#server.localPort } : this.#info;
  }

  async start(): Promise<void> {
    try {
      await this.#server.startListening();
    } catch (err) {
      const e = err as Error & { code?: number };
      throw new BrokerError(
        BrokerErrorCode.Listen,
        `cannot listen on ${this.#info.protocol} ${this.#info.host || '*'}:${this.#info.port}: ${e.message}`,
        {
          cause: err,
          ...(typeof e.code === 'number' ? { errorCode: e.code } : {}),
        },
      );
    }
    this.#info = { ...this.#info, port: this.#server.localPort };
  }

  async stop(): Promise<void> {
    await this.#server.stopListening();
  }
}

// --- WS / WSS ----------------------------------------------------------------------------

class WsStream implements ByteStream {
  sink: StreamSink | null = null;
  readonly #ws: WebSocket;
  readonly #socket: Socket;
  #closed = false;
  constructor(
    readonly protocol: ListenerProtocol,
    ws: WebSocket,
    socket: Socket,
    readonly certificateIdentity: CertificateIdentity | undefined,
  ) {
    this.#ws = ws;
    this.#socket = socket;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) {
        // [MQTT-6.0.0-1]: MQTT travels in binary frames only; a text frame closes the connection.
        this.destroy();
        return;
      }
      this.sink?.data(data);
    });
    ws.on('close', () => this.#onClose(0, 'OK'));
    ws.on('error', (err) => this.#onClose(10054, err.message));
    socket.on('drain', () => this.sink?.drain());
  }
  #onClose(code: number, description: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.sink?.closed(code, description);
  }
  get remoteAddress(): string {
    return normalizeAddress(this.#socket.remoteAddress ?? '');
  }
  get remotePort(): number {
    return this.#socket.remotePort ?? 0;
  }
  get localAddress(): string {
    return normalizeAddress(this.#socket.localAddress ?? '');
  }
  get localPort(): number {
    return this.#socket.localPort ?? 0;
  }
  get writableLength(): number {
    return this.#ws.bufferedAmount;
  }
  write(data: Uint8Array): boolean {
    if (this.#ws.readyState !== 1) return false;
    this.#ws.send(data, { binary: true });
    return !this.#socket.writableNeedDrain;
  }
  pause(): void {
    this.#ws.pause();
  }
  resume(): void {
    this.#ws.resume();
  }
  end(): void {
    this.#ws.close(1000);
    // A peer that never answers the close frame must not keep the socket.
    setTimeout(() => this.#ws.terminate(), 2000).unref();
  }
  destroy(): void {
    this.#ws.terminate();
  }
  peerCertificate(): X509Certificate | undefined {
    return (this.#socket as TLSSocket).getPeerX509Certificate?.() ?? undefined;
  }
}

export class WsListener implements ListenerRuntime {
  readonly #server: http.Server | https.Server;
  readonly #wss: WebSocketServer;
  #info: BrokerListenerInfo;
  readonly #options: ReturnType<typeof normalizeListener>;
  /** Pending verdicts (connection request, client certificate) per raw socket. */
  readonly #gates = new WeakMap<Socket, Promise<boolean>>();
  readonly #ids = new WeakMap<Socket, string>();

  constructor(options: ReturnType<typeof normalizeListener>, host: ListenerHost) {
    this.#options = options;
    const secure = options.protocol === 'wss';
    const path = options.path === undefined ? '/mqtt' : options.path === '*' || options.path === '' ? undefined : options.path;
    this.#info = {
      protocol: options.protocol,
      host: options.host,
      port: options.port,
      path: path ?? '*',
      requestCert: options.requestCert ?? false,
    };
    this.#server = secure
      ? https.createServer(
          serverTlsOptions({
            ...(options.tls ?? {}),
            certificate: options.certificate as CertificateInput,
            authenticateClients: options.requestCert ?? false,
            handshakeTimeoutMs: (options.handshakeTimeout ?? 30) * 1000,
          }),
        )
      : http.createServer();
    this.#server.maxConnections = 100_000; // limits.maxConnections is checked per connection (changeable at run time)
    const protocol = options.protocol;
    const idFor = (socket: Socket) => {
      let id = this.#ids.get(socket);
      if (id === undefined) {
        id = host.nextId();
        this.#ids.set(socket, id);
      }
      return id;
    };
    this.#server.on('connection', (socket: Socket) => {
      if (host.connectionCount() >= host.maxConnections) {
        socket.destroy();
        return;
      }
      socket.setNoDelay(true);
      const r = host.connectionRequest(
        protocol,
        normalizeAddress(socket.remoteAddress ?? ''),
        socket.remotePort ?? 0,
        normalizeAddress(socket.localAddress ?? ''),
        socket.localPort ?? 0,
      );
      if (r === false) socket.destroy();
      else if (r !== true) {
        this.#gates.set(socket, r);
        void r.then((ok) => {
          if (!ok) socket.destroy();
        });
      }
    });
    if (secure) {
      this.#server.on('secureConnection', (tlsSocket: TLSSocket) => {
        const id = idFor(tlsSocket);
        host.sslStatus(id, `TLS handshake complete: ${tlsSocket.getProtocol()} ${tlsSocket.getCipher()?.standardName ?? ''}`);
        if (!options.requestCert) return;
        const r = host.sslClientAuthentication(id, clientCertificateVerdict(tlsSocket));
        if (r === false) tlsSocket.destroy();
        else if (r !== true) {
          this.#gates.set(tlsSocket, r);
          void r.then((ok) => {
            if (!ok) tlsSocket.destroy();
          });
        }
      });
      this.#server.on('tlsClientError', (err: Error & { code?: string }, socket: TLSSocket) => {
        host.failed(idFor(socket), 276, `TLS handshake failed: ${err.message}`);
      });
    }
    this.#wss = new WebSocketServer({
      server: this.#server,
      ...(path !== undefined ? { path } : {}),
      clientTracking: false,
      perMessageDeflate: false,
      maxPayload: host.maxPacketSize + 1024,
      handleProtocols: (protocols: Set<string>) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
    });
    this.#wss.on('connection', (ws: WebSocket, req: http.IncomingMessage) => {
      const socket = req.socket;
      const raw = (socket as TLSSocket & { _parent?: Socket })._parent;
      const gates = [this.#gates.get(socket), raw ? this.#gates.get(raw) : undefined].filter((g): g is Promise<boolean> => g !== undefined);
      const start = () => {
        const stream = new WsStream(protocol, ws, socket, options.certificateIdentity);
        host.accepted(stream, idFor(socket));
      };
      if (gates.length === 0) start();
      else {
        ws.pause();
        void Promise.all(gates).then((oks) => {
          if (oks.every(Boolean) && ws.readyState === 1) {
            start();
            ws.resume();
          } else ws.terminate();
        });
      }
    });
    this.#wss.on('error', (err) => host.error(new BrokerError(BrokerErrorCode.Listen, err.message, { cause: err })));
  }

  get info(): BrokerListenerInfo {
    return this.#info;
  }

  async start(): Promise<void> {
    const o = this.#options;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host: o.host === '' ? '0.0.0.0' : o.host, port: o.port }, () => {
        this.#server.removeListener('error', reject);
        resolve();
      });
    }).catch((err: Error & { code?: string }) => {
      throw new BrokerError(BrokerErrorCode.Listen, `cannot listen on ${o.protocol} ${o.host || '*'}:${o.port}: ${err.message}`, {
        cause: err,
      });
    });
    this.#info = { ...this.#info, port: (this.#server.address() as AddressInfo).port };
  }

  async stop(): Promise<void> {
    // Stop accepting; upgraded WebSocket connections are no longer tracked by the HTTP server and stay up.
    this.#server.close();
  }
}
