/**
 * Proxy tunnels (Node): a TCP connection to the proxy, then HTTP CONNECT (RFC 9110 §9.3.6)
 * or SOCKS 4/4a/5 (the `socks` package), resolving with a socket that carries raw bytes to
 * the broker. TLS and WebSocket run on top of it unchanged.
 */
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { SocksClient, type SocksProxy } from 'socks';
import { clientError, type MqttClientError } from '../errors.js';
import type { ResolvedProxy } from '../proxy-config.js';

/** Socket options for the connection to the proxy. */
export interface TunnelSocketOptions {
  localAddress?: string;
  localPort?: number;
  family?: 0 | 4 | 6;
}

/** Largest HTTP CONNECT response head accepted (a proxy sending more is broken or hostile). */
const MAX_RESPONSE_HEAD = 16 * 1024;

/** `host:port` with IPv6 brackets. */
export function authority(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

function proxyError(proxy: ResolvedProxy, what: string, cause?: unknown, statusCode?: number): MqttClientError {
  const opts: { cause?: unknown; statusCode?: number } = {};
  if (cause !== undefined) opts.cause = cause;
  if (statusCode !== undefined) opts.statusCode = statusCode;
  return clientError('ERR_PROXY', `${proxy.type} proxy ${authority(proxy.host, proxy.port)}: ${what}`, opts);
}

/** Runs `work` until it settles or `signal` aborts; `onAbort` releases resources. */
function abortable<T>(signal: AbortSignal, work: Promise<T>, onAbort: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort();
    return Promise.reject(signal.reason instanceof Error ? signal.reason : clientError('ERR_INTERRUPTED', 'connect aborted'));
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      onAbort();
      reject(signal.reason instanceof Error ? signal.reason : clientError('ERR_INTERRUPTED', 'connect aborted'));
    };
    signal.addEventListener('abort', abort, { once: true });
    work.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', abort);
        reject(e);
      },
    );
  });
}

function connectToProxy(proxy: ResolvedProxy, o: TunnelSocketOptions): { socket: net.Socket; ready: Promise<net.Socket> } {
  const opts: net.NetConnectOpts = { host: proxy.host, port: proxy.port };
  if (o.localAddress) opts.localAddress = o.localAddress;
  if (o.localPort) opts.localPort = o.localPort;
  if (o.family) opts.family = o.family;
  const socket = net.connect(opts);
  const ready = new Promise<net.Socket>((resolve, reject) => {
    const onError = (err: Error) => reject(proxyError(proxy, `cannot connect: ${err.message}`, err));
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(socket);
    });
  });
  return { socket, ready };
}

/** HTTP CONNECT on a socket connected to the proxy. Leftover bytes after the head are kept. */
export function httpConnect(socket: net.Socket, proxy: ResolvedProxy, host: string, port: number): Promise<net.Socket> {
  return new Promise<net.Socket>((resolve, reject) => {
    const target = authority(host, port);
    const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`];
    if (proxy.user !== undefined) {
      const token = Buffer.from(`${proxy.user}:${proxy.password ?? ''}`, 'utf8').toString('base64');
      lines.push(`Proxy-Authorization: Basic ${token}`);
    }
    for (const [k, v] of Object.entries(proxy.headers ?? {})) {
      if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) {
        reject(proxyError(proxy, `header ${JSON.stringify(k)} contains a line break`));
        return;
      }
      lines.push(`${k}: ${v}`);
    }
    let head: Buffer = Buffer.alloc(0);
    const cleanup = () => {
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    const fail = (err: MqttClientError) => {
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error) => fail(proxyError(proxy, `CONNECT failed: ${err.message}`, err));
    const onClose = () => fail(proxyError(proxy, 'closed the connection before answering CONNECT'));
    const onData = (chunk: Buffer) => {
      head = head.length ? Buffer.concat([head, chunk]) : chunk;
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) {
        if (head.length > MAX_RESPONSE_HEAD) fail(proxyError(proxy, `CONNECT response head exceeds ${MAX_RESPONSE_HEAD} bytes`));
        return;
      }
      const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
      if (!m) {
        fail(proxyError(proxy, `malformed CONNECT response ${JSON.stringify(statusLine.slice(0, 100))}`));
        return;
      }
      const status = Number(m[1]);
      if (status < 200 || status > 299) {
        // 407 is the standard answer; some proxies (tinyproxy) answer bad credentials with 401.
        const hint =
          status === 407 || status === 401 ? (proxy.user === undefined ? ' (credentials required)' : ' (credentials refused)') : '';
        fail(proxyError(proxy, `CONNECT ${target} refused: ${status} ${m[2] ?? ''}`.trimEnd() + hint, undefined, status));
        return;
      }
      cleanup();
      // Bytes after the head already belong to the tunnel (a broker speaking first, TLS).
      const rest = head.subarray(end + 4);
      if (rest.length) socket.unshift(rest);
      resolve(socket);
    };
    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

async function destinationHost(proxy: ResolvedProxy, host: string, family: 0 | 4 | 6 | undefined): Promise<string> {
  if (net.isIP(host) || proxy.resolveRemotely) return host;
  // SOCKS4 carries only an IPv4 address; SOCKS5 without remote resolution sends the address.
  const fam = proxy.type === 'socks4' ? 4 : (family ?? 0);
  try {
    return (await lookup(host, { family: fam })).address;
  } catch (err) {
    throw proxyError(proxy, `cannot resolve ${host} locally: ${(err as Error).message}`, err);
  }
}

/** SOCKS 4/4a/5 on a socket connected to the proxy. */
export async function socksConnect(
  socket: net.Socket,
  proxy: ResolvedProxy,
  host: string,
  port: number,
  family?: 0 | 4 | 6,
): Promise<net.Socket> {
  const destination = await destinationHost(proxy, host, family);
  if (proxy.type === 'socks4' && net.isIP(destination) === 6)
    throw proxyError(proxy, `SOCKS4 cannot reach the IPv6 address ${destination}`);
  const socksProxy: SocksProxy = { host: proxy.host, port: proxy.port, type: proxy.type === 'socks5' ? 5 : 4 };
  // SOCKS5: RFC 1929 username; SOCKS4/4a: the USERID field (no password in SOCKS4).
  if (proxy.user !== undefined) socksProxy.userId = proxy.user;
  if (proxy.type === 'socks5' && proxy.password !== undefined) socksProxy.password = proxy.password;
  try {
    const { socket: s } = await SocksClient.createConnection({
      proxy: socksProxy,
      command: 'connect',
      destination: { host: destination, port },
      existing_socket: socket,
      // The connect deadline is ours (connectTimeoutMs aborts the attempt).
      timeout: 2_147_483_647,
    });
    return s;
  } catch (err) {
    socket.destroy();
    throw proxyError(proxy, `${(err as Error).message} (destination ${authority(destination, port)})`, err);
  }
}

/**
 * Opens a tunnel to `host:port` through `proxy`. Rejects with ERR_PROXY (118), or the abort
 * reason when `signal` fires (connectTimeoutMs, interrupt()).
 */
export function openTunnel(
  proxy: ResolvedProxy,
  host: string,
  port: number,
  options: TunnelSocketOptions,
  signal: AbortSignal,
): Promise<net.Socket> {
  const { socket, ready } = connectToProxy(proxy, options);
  const work = ready.then((s) =>
    proxy.type === 'http' ? httpConnect(s, proxy, host, port) : socksConnect(s, proxy, host, port, options.family),
  );
  return abortable(signal, work, () => socket.destroy()).catch((err) => {
    socket.destroy();
    throw err;
  });
}
