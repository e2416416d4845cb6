/**
 * Proxy settings (the toolkit's Firewall, FirewallAutoDetect and ProxyExceptionsList): the
 * option shapes, proxy URLs, the *_PROXY / NO_PROXY environment convention and exception
 * matching. Pure functions (no I/O); the Node transport opens the tunnel.
 */
import { clientError } from './errors.js';
import type { TransportProtocol } from './url.js';

/** FirewallType: 1 HTTP CONNECT, 2 SOCKS4, 10 SOCKS4A, 3 SOCKS5. */
export type ProxyType = 'http' | 'socks4' | 'socks4a' | 'socks5';

/** An explicit proxy (the toolkit's Firewall object). */
export interface ProxyOptions {
  type: ProxyType;
  /** FirewallHost: resolved by DNS like any host. */
  host: string;
  /** FirewallPort. Default 80 for `http`, 1080 for SOCKS (as the toolkit sets it from the type). */
  port?: number;
  /** FirewallUser: HTTP Basic Proxy-Authorization, SOCKS5 username/password (RFC 1929), SOCKS4 user id. */
  user?: string;
  /** FirewallPassword (HTTP and SOCKS5). */
  password?: string;
  /**
   * Whether the proxy resolves the broker's host name. SOCKS5 only (default true); `socks4`
   * always resolves locally, `socks4a` and `http` always remotely.
   */
  resolveRemotely?: boolean;
  /** FirewallData: extra HTTP CONNECT request headers. */
  headers?: Readonly<Record<string, string>>;
}

/** A proxy with every default applied. */
export interface ResolvedProxy extends ProxyOptions {
  port: number;
  resolveRemotely: boolean;
}

/** What the `proxy` option accepts: an object, a proxy URL, or `'auto'` (environment). */
export type ProxySetting = ProxyOptions | string;

/** Default proxy ports (the toolkit's FirewallPort follows FirewallType: 80 or 1080). */
export const DEFAULT_PROXY_PORTS: Readonly<Record<ProxyType, number>> = { http: 80, socks4: 1080, socks4a: 1080, socks5: 1080 };

const TYPES = new Set<string>(['http', 'socks4', 'socks4a', 'socks5']);

function invalid(message: string): never {
  throw clientError('ERR_INVALID_ARGUMENT', message);
}

/** Applies the defaults and validates an explicit proxy. Throws ERR_INVALID_ARGUMENT. */
export function resolveProxy(p: ProxyOptions): ResolvedProxy {
  if (!p || typeof p !== 'object') invalid('proxy must be an object, a proxy URL or "auto"');
  if (!TYPES.has(p.type)) invalid(`proxy.type must be http, socks4, socks4a or socks5 (got ${JSON.stringify(p.type)})`);
  if (!p.host) invalid('proxy.host is required');
  const port = p.port ?? DEFAULT_PROXY_PORTS[p.type];
  if (!Number.isInteger(port) || port < 1 || port > 65_535) invalid(`invalid proxy port ${p.port}`);
  const host = p.host.startsWith('[') ? p.host.slice(1, -1) : p.host;
  const resolveRemotely = p.type === 'socks5' ? (p.resolveRemotely ?? true) : p.type !== 'socks4';
  return { ...p, host, port, resolveRemotely };
}

/**
 * Parses a proxy URL: `http://[user:password@]host[:port]`, `socks4://`, `socks4a://`,
 * `socks5://` (local name resolution, as curl), `socks5h://` (the proxy resolves), `socks://`
 * (= socks5h). A value without a scheme is an HTTP proxy (`proxy.example:3128`).
 */
export function proxyFromUrl(value: string): ResolvedProxy {
  const text = value.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`;
  let u: URL;
  try {
    u = new URL(withScheme);
  } catch (err) {
    throw clientError('ERR_INVALID_ARGUMENT', `invalid proxy URL ${JSON.stringify(value)}`, { cause: err });
  }
  const scheme = u.protocol.slice(0, -1).toLowerCase();
  let type: ProxyType;
  let resolveRemotely: boolean | undefined;
  switch (scheme) {
    case 'http':
      type = 'http';
      break;
    case 'socks4':
    case 'socks4a':
      type = scheme;
      break;
    case 'socks5':
      type = 'socks5';
      resolveRemotely = false;
      break;
    case 'socks5h':
    case 'socks':
      type = 'socks5';
      resolveRemotely = true;
      break;
    case 'https':
      return invalid(`TLS to the proxy itself (https:// proxy URL) is not supported: ${JSON.stringify(value)}`);
    default:
      return invalid(`unsupported proxy URL scheme ${u.protocol} in ${JSON.stringify(value)}`);
  }
  if (!u.hostname) invalid(`no host in proxy URL ${JSON.stringify(value)}`);
  const p: ProxyOptions = { type, host: u.hostname };
  if (u.port) p.port = Number(u.port);
  if (u.username) p.user = decodeURIComponent(u.username);
  if (u.password) p.password = decodeURIComponent(u.password);
  if (resolveRemotely !== undefined) p.resolveRemotely = resolveRemotely;
  return resolveProxy(p);
}

/** One NO_PROXY / ProxyExceptionsList entry. */
export interface ProxyException {
  /** Lower-case host or suffix; '' with `all`. */
  host: string;
  port?: number;
  all: boolean;
}

function parseEntry(raw: string): ProxyException | undefined {
  let e = raw.trim().toLowerCase();
  if (!e) return undefined;
  if (e === '*') return { host: '', all: true };
  let port: number | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(e);
  if (bracket) {
    e = bracket[1] as string;
    if (bracket[2]) port = Number(bracket[2]);
  } else {
    const m = /^([^:]+):(\d+)$/.exec(e); // host:port (an IPv6 address has several colons)
    if (m) {
      e = m[1] as string;
      port = Number(m[2]);
    }
  }
  if (e.startsWith('*.')) e = e.slice(1);
  const x: ProxyException = { host: e, all: false };
  if (port !== undefined) x.port = port;
  return x;
}

/**
 * Parses an exception list: NO_PROXY style (commas or white space) or the toolkit's
 * ProxyExceptionsList (semicolons), or an array of entries.
 */
export function parseExceptions(list: string | readonly string[] | undefined): ProxyException[] {
  if (list === undefined) return [];
  const parts = typeof list === 'string' ? list.split(/[;,\s]+/) : list.flatMap((s) => s.split(/[;,\s]+/));
  const out: ProxyException[] = [];
  for (const p of parts) {
    const e = parseEntry(p);
    if (e) out.push(e);
  }
  return out;
}

/**
 * Whether `host:port` bypasses the proxy. Entries: `*` (everything), `host` (that host and its
 * sub-domains, as curl), `.suffix` / `*.suffix` (sub-domains and the suffix itself),
 * `host:port` (only that port), IP addresses (exact).
 */
export function bypassesProxy(exceptions: readonly ProxyException[], host: string, port: number): boolean {
  const h = (host.startsWith('[') ? host.slice(1, -1) : host).toLowerCase().replace(/\.$/, '');
  for (const e of exceptions) {
    if (e.all) return true;
    if (e.port !== undefined && e.port !== port) continue;
    if (e.host.startsWith('.')) {
      if (h === e.host.slice(1) || h.endsWith(e.host)) return true;
    } else if (h === e.host || h.endsWith(`.${e.host}`)) {
      return true;
    }
  }
  return false;
}

/** An environment: `process.env` or a test's object. */
export type Env = Readonly<Record<string, string | undefined>>;

function envValue(env: Env, name: string): string | undefined {
  // Lower case first, as curl and most tools do.
  const v = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return v?.trim() ? v.trim() : undefined;
}

/**
 * FirewallAutoDetect: the proxy for `protocol://host:port` from the environment.
 * `https_proxy` for mqtts:// and wss://, `http_proxy` for mqtt:// and ws://, then `all_proxy`
 * (any of the URL forms of {@link proxyFromUrl}); `no_proxy` wins. Undefined = connect directly.
 */
export function proxyFromEnv(env: Env, protocol: TransportProtocol, host: string, port: number): ResolvedProxy | undefined {
  const secure = protocol === 'mqtts' || protocol === 'wss';
  const value = envValue(env, secure ? 'https_proxy' : 'http_proxy') ?? envValue(env, 'all_proxy');
  if (!value) return undefined;
  if (bypassesProxy(parseExceptions(envValue(env, 'no_proxy')), host, port)) return undefined;
  return proxyFromUrl(value);
}

/**
 * The proxy to use for a connection, or undefined to connect directly: `setting` is the
 * `proxy` option (object, URL or `'auto'`), `exceptions` the `proxyExceptions` option.
 */
export function selectProxy(
  setting: ProxySetting | undefined,
  exceptions: string | readonly string[] | undefined,
  target: { protocol: TransportProtocol; host: string; port: number },
  env: Env,
): ResolvedProxy | undefined {
  if (setting === undefined || setting === '') return undefined;
  if (bypassesProxy(parseExceptions(exceptions), target.host, target.port)) return undefined;
  if (setting === 'auto') return proxyFromEnv(env, target.protocol, target.host, target.port);
  return typeof setting === 'string' ? proxyFromUrl(setting) : resolveProxy(setting);
}
