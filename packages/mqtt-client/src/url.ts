import { clientError } from './errors.js';

export type TransportProtocol = 'mqtt' | 'mqtts' | 'ws' | 'wss';

/** Where to connect, after URL and option defaults are applied. */
export interface Target {
  protocol: TransportProtocol;
  /** Host name as given (kept for TLS SNI and certificate checks), IPv6 without brackets. */
  host: string;
  port: number;
  /** WebSocket path (with query), default `/mqtt`. */
  path: string;
  username?: string;
  password?: string;
}

/** Default ports: 1883 (mqtt), 8883 (mqtts), 80 (ws), 443 (wss). */
export const DEFAULT_PORTS: Readonly<Record<TransportProtocol, number>> = { mqtt: 1883, mqtts: 8883, ws: 80, wss: 443 };

const SCHEMES: Readonly<Record<string, TransportProtocol>> = {
  'mqtt:': 'mqtt',
  'tcp:': 'mqtt',
  'mqtts:': 'mqtts',
  'ssl:': 'mqtts',
  'tls:': 'mqtts',
  'ws:': 'ws',
  'wss:': 'wss',
};

/**
 * Parses `mqtt://`, `mqtts://`, `ws://`, `wss://` (and the aliases `tcp:`, `ssl:`, `tls:`).
 * Port defaults per scheme; the WebSocket path defaults to `/mqtt`. User info becomes
 * username/password. Throws ERR_INVALID_URL (153).
 */
export function parseUrl(url: string): Target {
  let u: URL;
  try {
    u = new URL(url);
  } catch (err) {
    throw clientError('ERR_INVALID_URL', `invalid URL ${JSON.stringify(url)}`, { cause: err });
  }
  const protocol = SCHEMES[u.protocol];
  if (!protocol) throw clientError('ERR_INVALID_URL', `unsupported URL scheme ${u.protocol} (use mqtt:, mqtts:, ws: or wss:)`);
  if (!u.hostname) throw clientError('ERR_INVALID_URL', `no host in URL ${JSON.stringify(url)}`);
  const host = u.hostname.startsWith('[') ? u.hostname.slice(1, -1) : u.hostname;
  if (host === '0.0.0.0') throw clientError('ERR_INVALID_URL', '0.0.0.0 is not a valid remote host');
  const port = u.port ? Number(u.port) : DEFAULT_PORTS[protocol];
  const ws = protocol === 'ws' || protocol === 'wss';
  const path = ws ? (u.pathname && u.pathname !== '/' ? u.pathname : '/mqtt') + u.search : '/mqtt';
  const target: Target = { protocol, host, port, path };
  if (u.username) target.username = decodeURIComponent(u.username);
  if (u.password) target.password = decodeURIComponent(u.password);
  return target;
}

/** `host` may carry a scheme (`ws://broker`), as the toolkit's RemoteHost allows. */
export function targetFor(host: string, port: number | undefined, tls: boolean, wsPath: string | undefined): Target {
  if (host.includes('://')) {
    const t = parseUrl(host);
    if (port !== undefined && !/:\d+(\/|$)/.test(host.split('://')[1] ?? '')) t.port = port;
    if (wsPath !== undefined && (t.protocol === 'ws' || t.protocol === 'wss') && t.path === '/mqtt') t.path = wsPath;
    return t;
  }
  if (!host) throw clientError('ERR_INVALID_URL', 'no remote host given');
  if (host === '0.0.0.0') throw clientError('ERR_INVALID_URL', '0.0.0.0 is not a valid remote host');
  const protocol: TransportProtocol = tls ? 'mqtts' : 'mqtt';
  const p = port ?? DEFAULT_PORTS[protocol];
  if (!Number.isInteger(p) || p < 1 || p > 65_535) throw clientError('ERR_INVALID_ARGUMENT', `invalid port ${p}`);
  return { protocol, host: host.startsWith('[') ? host.slice(1, -1) : host, port: p, path: wsPath ?? '/mqtt' };
}

/** `ws://host:port/path` for a WebSocket target. */
export function wsUrl(t: Target): string {
  const host = t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${t.protocol}://${host}:${t.port}${t.path.startsWith('/') ? '' : '/'}${t.path}`;
}
