import { UsageError } from './errors.js';

/** What `-L` sets. */
export interface CliUrl {
  transport: 'tcp' | 'ws';
  tls: boolean;
  host: string;
  /** Undefined when the URL has none: the transport's default applies. */
  port: number | undefined;
  username?: string;
  password?: string;
  topic: string;
}

const SCHEMES: Readonly<Record<string, { transport: 'tcp' | 'ws'; tls: boolean }>> = {
  'mqtt://': { transport: 'tcp', tls: false },
  'mqtts://': { transport: 'tcp', tls: true },
  'ws://': { transport: 'ws', tls: false },
  'wss://': { transport: 'ws', tls: true },
};

/**
 * Parses `-L scheme://[username[:password]@]host[:port]/topic` the way mosquitto does: the
 * topic is everything after the first `/` (not URL-decoded, so it may contain `+`, `#`, `%`),
 * the user info is split at the first `@` and `:`. `[v6-address]:port` is accepted too.
 */
export function parseCliUrl(url: string): CliUrl {
  const lower = url.toLowerCase();
  const scheme = Object.keys(SCHEMES).find((s) => lower.startsWith(s));
  if (!scheme) throw new UsageError('Unsupported URL scheme.');
  let rest = url.slice(scheme.length);
  const slash = rest.indexOf('/');
  if (slash < 0) throw new UsageError('Invalid URL for -L argument specified - topic missing.');
  const topic = rest.slice(slash + 1);
  rest = rest.slice(0, slash);
  const out: CliUrl = { ...SCHEMES[scheme]!, host: '', port: undefined, topic };
  const at = rest.indexOf('@');
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = userinfo.indexOf(':');
    if (colon >= 0) {
      out.username = userinfo.slice(0, colon);
      out.password = userinfo.slice(colon + 1);
    } else {
      out.username = userinfo;
    }
  }
  let portText: string | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new UsageError(`Invalid host in URL '${url}'.`);
    out.host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after.startsWith(':')) portText = after.slice(1);
    else if (after !== '') throw new UsageError(`Invalid host in URL '${url}'.`);
  } else {
    const colon = rest.indexOf(':');
    out.host = colon >= 0 ? rest.slice(0, colon) : rest;
    if (colon >= 0) portText = rest.slice(colon + 1);
  }
  if (out.host === '') throw new UsageError(`Invalid URL for -L argument specified - host missing.`);
  if (portText !== undefined) {
    const port = /^\d+$/.test(portText) ? Number(portText) : Number.NaN;
    if (!(port >= 1 && port <= 65_535)) throw new UsageError(`Invalid port given: ${portText}`);
    out.port = port;
  }
  return out;
}
