/**
 * Node transports: TCP (`node:net`), TLS (`node:tls`), WebSocket and secure WebSocket (`ws`).
 * Only the Node entry imports this module; the browser build never does.
 */
import net from 'node:net';
import tls from 'node:tls';
import {
  type CertificateInput,
  type CertificatePin,
  clientTlsOptions,
  keyLogWriter,
  type PemInput,
  serverCertificateVerdict,
  type TlsSettings,
} from '@iotwire/tls';
import WebSocket from 'ws';
import { clientError, MqttClientError } from '../errors.js';
import { type ProxySetting, selectProxy } from '../proxy-config.js';
import type { Target } from '../url.js';
import { authority, openTunnel } from './proxy.js';
import type { ByteStream, Connector, ConnectReporter, StreamHandlers, TlsInfo } from './types.js';
import { openWebSocket, type WebSocketLike, WebSocketStream } from './websocket.js';

/** TLS options of the Node client (mqtts:// and wss://). */
export interface ClientTlsOptions extends TlsSettings {
  /** Client certificate for mutual TLS (PEM/DER/PFX via @iotwire/tls), the toolkit's SSLCert. */
  certificate?: CertificateInput;
  /** Node-style shorthands: client certificate chain and key (PEM). */
  cert?: string | Uint8Array;
  key?: string | Uint8Array;
  passphrase?: string;
  /** Node-style shorthand for `trustedCaCerts`: CAs that may sign the server's certificate. */
  ca?: PemInput;
  /**
   * Verify the server certificate (chain and host name). Default true. `false` is the
   * toolkit's SSLAcceptAnyServerCert (insecure, tests only).
   */
  rejectUnauthorized?: boolean;
  /** The toolkit's SSLAcceptServerCert: accept this certificate (or fingerprint) whatever verification says. */
  acceptServerCert?: CertificatePin | readonly CertificatePin[];
  /** SNI / name checked against the certificate. Default: the host (unless it is an IP address). */
  servername?: string;
  /** ReuseSSLSession: resume the TLS session on reconnect. Default true. */
  reuseSession?: boolean;
}

/** Socket options of the Node transports. */
export interface NodeTransportOptions {
  tls?: ClientTlsOptions;
  /** Local interface to bind (LocalHost). */
  localAddress?: string;
  /** Local port to bind (LocalPort); 0 = ephemeral. */
  localPort?: number;
  /** 4 or 6 to force an address family (UseIPv6). */
  family?: 0 | 4 | 6;
  /** TcpNoDelay; default true (MQTT packets are small and latency-sensitive). */
  noDelay?: boolean;
  /** TCPKeepAlive / KeepAliveTime: enable SO_KEEPALIVE with this initial delay (ms). */
  tcpKeepAliveMs?: number;
  /** Extra HTTP headers for the WebSocket upgrade. */
  wsHeaders?: Record<string, string>;
  /**
   * Firewall: tunnel every transport through a proxy. An object
   * (`{ type: 'http' | 'socks4' | 'socks4a' | 'socks5', host, port?, user?, password? }`), a
   * proxy URL (`socks5h://user:pw@host:1080`), or `'auto'` (FirewallAutoDetect: `https_proxy`
   * for mqtts/wss, `http_proxy` for mqtt/ws, then `all_proxy`; `no_proxy` honoured).
   */
  proxy?: ProxySetting;
  /** ProxyExceptionsList: hosts that bypass the proxy (array, or `;`/`,`-separated), NO_PROXY syntax. */
  proxyExceptions?: string | readonly string[];
}

/** Adapts a net.Socket / tls.TLSSocket to the byte-stream seam. */
export class SocketStream implements ByteStream {
  #handlers: StreamHandlers | undefined;
  #error: Error | undefined;
  #closed = false;

  constructor(
    private readonly socket: net.Socket,
    readonly tls: TlsInfo | undefined,
  ) {
    socket.on('error', (err) => {
      this.#error ??= err;
    });
    socket.on('close', () => {
      this.#closed = true;
      const err = this.#error;
      this.#handlers?.close(err ? clientError('ERR_CONNECTION_LOST', `connection lost: ${err.message}`, { cause: err }) : undefined);
    });
    socket.on('drain', () => this.#handlers?.drain());
  }

  get needDrain(): boolean {
    return this.socket.writableNeedDrain;
  }
  get localAddress(): string | undefined {
    return this.socket.localAddress;
  }
  get localPort(): number | undefined {
    return this.socket.localPort;
  }
  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.socket.remotePort;
  }

  start(handlers: StreamHandlers): void {
    this.#handlers = handlers;
    this.socket.on('data', (chunk: Buffer) => handlers.data(chunk));
    this.socket.resume(); // a proxy tunnel may hand the socket over paused
    if (this.#closed) handlers.close(this.#error);
  }

  write(data: Uint8Array): boolean {
    return this.socket.write(data);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function tlsInfo(s: tls.TLSSocket): TlsInfo {
  return { protocol: s.getProtocol(), cipher: s.getCipher(), peerCertificate: s.getPeerX509Certificate() };
}

/** Node TLS options from ours (via @iotwire/tls), plus SNI. */
function nodeTlsOptions(target: Target, o: ClientTlsOptions | undefined): tls.ConnectionOptions {
  const input: ClientTlsOptions = { ...(o ?? {}) };
  if (o?.ca !== undefined && o.trustedCaCerts === undefined) input.trustedCaCerts = o.ca;
  // Explicit CAs replace Node's bundled roots (as ca: does in tls.connect) unless asked otherwise.
  if ((input.trustedCaCerts !== undefined || input.caFile || input.caDir) && input.includeSystemRoots === undefined)
    input.includeSystemRoots = false;
  if (o?.cert !== undefined && o.certificate === undefined) {
    const pair: { cert: string | Uint8Array; key?: string | Uint8Array; passphrase?: string } = { cert: o.cert };
    if (o.key !== undefined) pair.key = o.key;
    if (o.passphrase !== undefined) pair.passphrase = o.passphrase;
    input.certificate = pair;
  }
  let options: tls.ConnectionOptions;
  try {
    options = clientTlsOptions({ ...input, servername: o?.servername ?? (net.isIP(target.host) ? undefined : target.host) } as never);
  } catch (err) {
    throw clientError('ERR_TLS_HANDSHAKE', `invalid TLS settings: ${(err as Error).message}`, { cause: err });
  }
  // Node checks the host name against the certificate only when it knows it.
  if (options.servername === undefined && !o?.servername) options.checkServerIdentity = tls.checkServerIdentity;
  return options;
}

/** A TLS session kept for resumption, with the verdict of the handshake that created it. */
interface CachedSession {
  session?: Buffer;
  verdict?: ReturnType<typeof serverCertificateVerdict>;
}

/** Runs the verdict (pin, SSLServerAuthentication event) on a finished handshake. */
async function judge(
  socket: tls.TLSSocket,
  o: ClientTlsOptions | undefined,
  reporter: ConnectReporter,
  cached?: CachedSession,
): Promise<void> {
  // A resumed session presents no certificate: the verdict of the handshake that created it
  // (same client instance, same options) stands.
  const resumed = socket.isSessionReused() && !socket.getPeerX509Certificate() && cached?.verdict;
  const verdict = resumed
    ? cached.verdict!
    : serverCertificateVerdict(socket, o?.acceptServerCert as CertificatePin | CertificatePin[] | undefined);
  if (o?.rejectUnauthorized === false) verdict.accept = true;
  const cipher = socket.getCipher();
  reporter.sslStatus(
    `TLS handshake complete: ${socket.getProtocol()} ${cipher?.standardName ?? cipher?.name}; server certificate ${verdict.status}`,
  );
  const ok = await reporter.verifyServer(verdict);
  if (!ok) {
    throw clientError('ERR_TLS_CERT_REJECTED', `server certificate rejected (${verdict.status})`);
  }
  if (cached) cached.verdict = verdict;
}

/** An open proxy tunnel: the socket to the broker, and the firewallDisconnected report. */
interface Tunnel {
  socket: net.Socket;
  /** The stream built on the tunnel reports firewallDisconnected after its own close. */
  handOver(stream: ByteStream): ByteStream;
}

/**
 * Opens the proxy tunnel for `target` when a proxy applies (firewallConnected), else
 * undefined. ERR_PROXY on failure.
 */
async function tunnelFor(
  target: Target,
  options: NodeTransportOptions,
  signal: AbortSignal,
  reporter: ConnectReporter,
): Promise<Tunnel | undefined> {
  if (options.proxy === undefined) return undefined;
  const proxy = selectProxy(options.proxy, options.proxyExceptions, target, process.env);
  const to = authority(target.host, target.port);
  if (!proxy) {
    reporter.log?.(
      2,
      `${to}: connecting directly (${options.proxy === 'auto' ? 'no proxy in the environment, or no_proxy' : 'proxy exception'})`,
    );
    return undefined;
  }
  const via = `${proxy.type} proxy ${authority(proxy.host, proxy.port)}`;
  reporter.log?.(1, `connecting to ${to} through ${via}`);
  const socket = await openTunnel(proxy, target.host, target.port, options, signal);
  // The layer built on the tunnel (TLS, ws, our SocketStream) reports failures through its
  // own close; an error on the raw tunnel socket must not go unhandled meanwhile.
  socket.on('error', () => {});
  reporter.status('firewallConnected', 0, `${via}: tunnel to ${to} established`);
  reporter.log?.(1, `${via}: tunnel to ${to} established`);
  let reported = false;
  let handedOver = false;
  const closed = () => {
    if (reported) return;
    reported = true;
    reporter.status('firewallDisconnected', 0, `${via}: tunnel to ${to} closed`);
    reporter.log?.(1, `${via}: tunnel to ${to} closed`);
  };
  // Closed before a stream took over (TLS or WebSocket handshake failed): report at once.
  socket.once('close', () => {
    if (!handedOver) closed();
  });
  return {
    socket,
    handOver(stream) {
      handedOver = true;
      // Ordering: remoteHostDisconnected (the client, on the stream's close) comes first.
      const start = stream.start.bind(stream);
      stream.start = (h) =>
        start({
          ...h,
          close: (err) => {
            h.close(err);
            closed();
          },
        });
      return stream;
    },
  };
}

async function connectSocket(
  target: Target,
  options: NodeTransportOptions,
  signal: AbortSignal,
  reporter: ConnectReporter,
  cache: Map<string, unknown>,
): Promise<ByteStream> {
  const tunnel = await tunnelFor(target, options, signal, reporter);
  return new Promise<ByteStream>((resolve, reject) => {
    const secure = target.protocol === 'mqtts';
    const base: net.NetConnectOpts & tls.ConnectionOptions = { host: target.host, port: target.port };
    if (options.localAddress) base.localAddress = options.localAddress;
    if (options.localPort) base.localPort = options.localPort;
    if (options.family) base.family = options.family;
    let socket: net.Socket;
    const key = `${target.host}:${target.port}`;
    let cached: CachedSession | undefined;
    try {
      if (secure) {
        const t = nodeTlsOptions(target, options.tls);
        if (options.tls?.reuseSession !== false) {
          // Keyed by the TLS options too: a session never outlives a change of trust settings.
          const k = `tls:${key}:${tlsKey(options.tls)}`;
          cached = cache.get(k) as CachedSession | undefined;
          if (!cached) cache.set(k, (cached = {}));
        }
        socket = tls.connect({
          ...base,
          ...t,
          // Through a proxy: TLS over the tunnel; SNI and the certificate check use the broker's name.
          ...(tunnel ? { socket: tunnel.socket } : {}),
          ...(cached?.session && cached.verdict ? { session: cached.session } : {}),
        });
        // SSLKeyLogFile: NSS key-log lines for debugging captures.
        if (options.tls?.keyLogFile) socket.on('keylog', keyLogWriter(options.tls.keyLogFile));
        if (cached) {
          const c = cached;
          socket.on('session', (s: Buffer) => {
            c.session = s;
          });
        }
      } else {
        socket = tunnel ? tunnel.socket : net.connect(base);
      }
    } catch (err) {
      tunnel?.socket.destroy();
      reject(err instanceof MqttClientError ? err : clientError('ERR_TRANSPORT', (err as Error).message, { cause: err }));
      return;
    }
    if (tunnel) tunnel.socket.setNoDelay(options.noDelay ?? true);
    socket.setNoDelay(options.noDelay ?? true);
    if (options.tcpKeepAliveMs !== undefined) socket.setKeepAlive(true, options.tcpKeepAliveMs);
    let done = false;
    const cleanup = () => {
      done = true;
      signal.removeEventListener('abort', onAbort);
      socket.off('error', onError);
    };
    const onError = (err: Error & { code?: string }) => {
      if (done) return;
      cleanup();
      socket.destroy();
      tunnel?.socket.destroy();
      const tlsFailure = secure && !(err.code && /^E[A-Z]+$/.test(err.code) && err.code !== 'EPROTO');
      reject(
        tlsFailure
          ? clientError('ERR_TLS_HANDSHAKE', `TLS handshake with ${key} failed: ${err.message}`, { cause: err })
          : clientError('ERR_TRANSPORT', `cannot connect to ${key}: ${err.message}`, { cause: err }),
      );
    };
    const onAbort = () => {
      if (done) return;
      cleanup();
      socket.destroy();
      tunnel?.socket.destroy();
      reject(signal.reason instanceof Error ? signal.reason : clientError('ERR_INTERRUPTED', 'connect aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', onError);
    if (tunnel) reporter.status('remoteHostConnected', 0, `connected to ${key} through the proxy`);
    else socket.once('connect', () => reporter.status('remoteHostConnected', 0, `connected to ${key}`));
    const handOver = (stream: ByteStream) => (tunnel ? tunnel.handOver(stream) : stream);
    if (secure) {
      const s = socket as tls.TLSSocket;
      s.once('secureConnect', () => {
        judge(s, options.tls, reporter, cached).then(
          () => {
            if (done) return;
            cleanup();
            reporter.status('sslHandshakeComplete', 0, 'TLS handshake complete');
            resolve(handOver(new SocketStream(s, tlsInfo(s))));
          },
          (err: Error) => {
            if (done) return;
            cleanup();
            s.destroy();
            tunnel?.socket.destroy();
            reject(err);
          },
        );
      });
    } else if (tunnel) {
      cleanup();
      resolve(handOver(new SocketStream(socket, undefined)));
    } else {
      socket.once('connect', () => {
        if (done) return;
        cleanup();
        resolve(new SocketStream(socket, undefined));
      });
    }
  });
}

async function connectWebSocket(
  target: Target,
  options: NodeTransportOptions,
  signal: AbortSignal,
  reporter: ConnectReporter,
): Promise<ByteStream> {
  // Session resumption is not offered over wss:// (the ws library opens its own TLS socket).
  const secure = target.protocol === 'wss';
  const wsOptions: WebSocket.ClientOptions = { perMessageDeflate: false };
  if (options.wsHeaders) wsOptions.headers = options.wsHeaders;
  if (options.localAddress) wsOptions.localAddress = options.localAddress;
  if (options.family) wsOptions.family = options.family;
  const tlsOptions = secure ? nodeTlsOptions(target, options.tls) : undefined;
  if (tlsOptions) Object.assign(wsOptions, tlsOptions);
  const tunnel = await tunnelFor(target, options, signal, reporter);
  if (tunnel) {
    // The upgrade request (and for wss:// the TLS handshake, SNI = the broker) runs in the tunnel.
    const socket = tunnel.socket;
    socket.setNoDelay(options.noDelay ?? true);
    wsOptions.createConnection = (() =>
      tlsOptions ? tls.connect({ ...tlsOptions, host: target.host, port: target.port, socket }) : socket) as never;
  }
  const stream = await openWebSocket(
    target,
    (url, protocols) => new WebSocket(url, protocols, wsOptions) as unknown as WebSocketLike,
    signal,
    reporter,
    async (ws) => {
      const socket = (ws as unknown as { _socket: net.Socket })._socket;
      socket.setNoDelay(options.noDelay ?? true);
      let info: TlsInfo | undefined;
      if (secure) {
        await judge(socket as tls.TLSSocket, options.tls, reporter);
        info = tlsInfo(socket as tls.TLSSocket);
      }
      return new WebSocketStream(ws, info, socket.localAddress, socket.localPort, socket.remoteAddress, socket.remotePort);
    },
    'nodebuffer',
  ).catch((err: unknown) => {
    tunnel?.socket.destroy();
    throw err;
  });
  return tunnel ? tunnel.handOver(stream) : stream;
}

/** The Node connector: TCP, TLS, WS and WSS. */
export const nodeConnector: Connector<NodeTransportOptions> = (target, options, signal, reporter, cache) =>
  target.protocol === 'ws' || target.protocol === 'wss'
    ? connectWebSocket(target, options, signal, reporter)
    : connectSocket(target, options, signal, reporter, cache);

/** A stable fingerprint of the TLS options (functions and key material included by value). */
function tlsKey(o: ClientTlsOptions | undefined): string {
  if (!o) return '';
  return JSON.stringify(o, (_k, v) =>
    v instanceof Uint8Array
      ? Buffer.from(v).toString('base64')
      : typeof v === 'object' && v !== null && !Array.isArray(v) && v.constructor !== Object
        ? String(v)
        : v,
  );
}
