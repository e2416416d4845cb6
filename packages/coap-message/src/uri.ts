import { CoapMessageError } from './errors.js';
import type { CoapOption } from './message.js';
import { stringOption, utf8 } from './option-values.js';
import { OptionNumber } from './options.js';

/** URI schemes of RFC 7252 §6 and RFC 8323 §8. */
export type CoapScheme = 'coap' | 'coaps' | 'coap+tcp' | 'coaps+tcp' | 'coap+ws' | 'coaps+ws';

export const DEFAULT_PORTS: Readonly<Record<CoapScheme, number>> = Object.freeze({
  coap: 5683,
  coaps: 5684,
  'coap+tcp': 5683,
  'coaps+tcp': 5684,
  'coap+ws': 80,
  'coaps+ws': 443,
});

/** A parsed CoAP URI; path segments and query arguments are percent-decoded. */
export interface CoapUri {
  scheme: CoapScheme;
  /** Host without brackets; registered names are lower-cased. */
  host: string;
  /** Explicit port, or the scheme's default. */
  port: number;
  /** True when the host is an IPv4 or IPv6 literal. */
  hostIsIp: boolean;
  /** Uri-Path segments (`/` and the empty path give none). */
  path: string[];
  /** Uri-Query arguments (split on `&`). */
  query: string[];
}

const URI_RE = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(?:\?([^#]*))?(#.*)?$/;
const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6_RE = /^[0-9a-fA-F:.]+(%[0-9A-Za-z._~-]+)?$/;

function uriError(message: string): CoapMessageError {
  return new CoapMessageError('ERR_COAP_URI', message);
}

/** Decodes `%XX` escapes as UTF-8; rejects malformed escapes and invalid UTF-8. */
export function percentDecode(s: string): string {
  if (!s.includes('%')) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    throw uriError(`malformed percent-encoding in ${JSON.stringify(s)}`);
  }
}

// RFC 3986 pchar minus what must stay escaped inside one segment or one query argument; `/` in
// a query argument is escaped as RFC 7252 Appendix B example 5 does.
const SEGMENT_SAFE = /[A-Za-z0-9\-._~!$'()*+,;=:@]/;
const QUERY_SAFE = /[A-Za-z0-9\-._~!$'()*+,;=:@?]/;

function percentEncode(s: string, safe: RegExp): string {
  let out = '';
  for (const ch of s) {
    if (safe.test(ch)) out += ch;
    else for (const b of Buffer.from(ch, 'utf8')) out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Percent-encodes one path segment (so `/` inside it becomes `%2F`). */
export function encodePathSegment(segment: string): string {
  return percentEncode(segment, SEGMENT_SAFE);
}

/** Percent-encodes one query argument (`&` inside it becomes `%26`). */
export function encodeQueryArgument(arg: string): string {
  return percentEncode(arg, QUERY_SAFE);
}

function isScheme(s: string): s is CoapScheme {
  return s in DEFAULT_PORTS;
}

/**
 * Parses an absolute CoAP URI (RFC 7252 §6.1–6.2, RFC 8323 §8). Fails with `ERR_COAP_URI` on
 * another scheme, a relative URI, a fragment, userinfo, an empty host or a bad port.
 */
export function parseUri(input: string): CoapUri {
  const m = URI_RE.exec(input);
  if (!m) throw uriError(`not an absolute CoAP URI: ${JSON.stringify(input)}`);
  const scheme = (m[1] as string).toLowerCase();
  if (!isScheme(scheme)) throw uriError(`unsupported scheme ${JSON.stringify(scheme)}`);
  if (m[5] !== undefined) throw uriError('a CoAP URI must not have a fragment');
  const authority = m[2] as string;
  if (authority.includes('@')) throw uriError('a CoAP URI has no userinfo');
  let host: string;
  let portText: string | undefined;
  let hostIsIp: boolean;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    if (close < 0) throw uriError(`unterminated IPv6 literal in ${JSON.stringify(input)}`);
    host = authority.slice(1, close).replace(/%25/, '%');
    if (!IPV6_RE.test(host) || !host.includes(':')) throw uriError(`invalid IPv6 literal ${JSON.stringify(host)}`);
    host = host.toLowerCase();
    const rest = authority.slice(close + 1);
    if (rest !== '' && !rest.startsWith(':')) throw uriError(`unexpected ${JSON.stringify(rest)} after IPv6 literal`);
    portText = rest === '' ? undefined : rest.slice(1);
    hostIsIp = true;
  } else {
    const colon = authority.lastIndexOf(':');
    host = colon >= 0 ? authority.slice(0, colon) : authority;
    portText = colon >= 0 ? authority.slice(colon + 1) : undefined;
    hostIsIp = IPV4_RE.test(host);
    if (!hostIsIp) host = percentDecode(host).toLowerCase();
  }
  if (host === '') throw uriError(`missing host in ${JSON.stringify(input)}`);
  let port = DEFAULT_PORTS[scheme];
  if (portText !== undefined && portText !== '') {
    if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) throw uriError(`invalid port ${JSON.stringify(portText)}`);
    port = Number(portText);
  }
  const rawPath = m[3] as string;
  const path = rawPath === '' || rawPath === '/' ? [] : rawPath.slice(1).split('/').map(percentDecode);
  const rawQuery = m[4];
  const query = rawQuery === undefined || rawQuery === '' ? [] : rawQuery.split('&').map(percentDecode);
  return { scheme, host, port, hostIsIp, path, query };
}

/** Formats a URI; the default port is left out and segments are percent-encoded. */
export function formatUri(uri: Pick<CoapUri, 'scheme' | 'host' | 'port' | 'path' | 'query'>): string {
  const host = uri.host.includes(':') ? `[${uri.host}]` : uri.host;
  const port = uri.port === DEFAULT_PORTS[uri.scheme] ? '' : `:${uri.port}`;
  const path = uri.path.length === 0 ? '/' : `/${uri.path.map(encodePathSegment).join('/')}`;
  const query = uri.query.length === 0 ? '' : `?${uri.query.map(encodeQueryArgument).join('&')}`;
  return `${uri.scheme}://${host}${port}${path}${query}`;
}

/**
 * Decomposes a URI into request options (RFC 7252 §6.4): Uri-Host only for a registered name
 * (not an IP literal), Uri-Port only when `destinationPort` is given and differs, one Uri-Path
 * per segment, one Uri-Query per argument.
 */
export function uriToOptions(uri: CoapUri, destinationPort?: number): CoapOption[] {
  const out: CoapOption[] = [];
  if (!uri.hostIsIp) out.push(stringOption(OptionNumber.UriHost, uri.host));
  if (destinationPort !== undefined && destinationPort !== uri.port) {
    const p = uri.port;
    out.push({
      number: OptionNumber.UriPort,
      value: p === 0 ? new Uint8Array(0) : p < 256 ? Uint8Array.of(p) : Uint8Array.of(p >> 8, p & 0xff),
    });
  }
  for (const s of uri.path) out.push(stringOption(OptionNumber.UriPath, s));
  for (const q of uri.query) out.push(stringOption(OptionNumber.UriQuery, q));
  return out;
}

/**
 * Composes the URI a request targets from its options (RFC 7252 §6.5): Uri-Host and Uri-Port
 * when present, else the `defaults` (the local address and port the request arrived on).
 */
export function optionsToUri(options: readonly CoapOption[], defaults: { scheme: CoapScheme; host: string; port: number }): string {
  let host = defaults.host;
  let port = defaults.port;
  const path: string[] = [];
  const query: string[] = [];
  for (const o of options) {
    if (o.number === OptionNumber.UriHost) host = utf8(o.value).toLowerCase();
    else if (o.number === OptionNumber.UriPort) port = o.value.reduce((a, b) => a * 256 + b, 0);
    else if (o.number === OptionNumber.UriPath) path.push(utf8(o.value));
    else if (o.number === OptionNumber.UriQuery) query.push(utf8(o.value));
  }
  return formatUri({ scheme: defaults.scheme, host: host.toLowerCase(), port, path, query });
}

/**
 * A path string for routing: `/` followed by the segments joined with `/`, where `%` and `/`
 * inside a segment are escaped as `%25` and `%2F` so distinct segment lists never collide.
 */
export function joinPath(segments: readonly string[]): string {
  if (segments.length === 0) return '/';
  let out = '';
  for (const s of segments) out += `/${s.includes('/') || s.includes('%') ? s.replace(/%/g, '%25').replace(/\//g, '%2F') : s}`;
  return out;
}

/** Inverse of {@link joinPath}. */
export function splitPath(path: string): string[] {
  const p = path.startsWith('/') ? path.slice(1) : path;
  if (p === '') return [];
  return p.split('/').map((s) => (s.includes('%') ? s.replace(/%2F/gi, '/').replace(/%25/g, '%') : s));
}
