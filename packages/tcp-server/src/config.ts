/**
 * The toolkit's `Config("NAME=VALUE")` string interface, for code ported from it. Every
 * setting maps onto a typed property; settings with no Node equivalent throw with the reason.
 */
import type { TlsSettings } from '@iotwire/tls';
import { SslProtocol } from '@iotwire/tls';
import { TcpServerError, TcpServerErrorCode } from './errors.js';
import type { TcpServer, UseIPv6 } from './server.js';

function invalid(message: string): TcpServerError {
  return new TcpServerError(TcpServerErrorCode.InvalidArgument, message);
}

function parseBool(v: string): boolean {
  const s = v.trim().toLowerCase();
  if (s === 'true' || s === '1' || s === 'yes') return true;
  if (s === 'false' || s === '0' || s === 'no') return false;
  throw invalid(`not a boolean: ${v}`);
}

function parseNum(v: string): number {
  const n = Number(v.trim());
  if (!Number.isFinite(n)) throw invalid(`not a number: ${v}`);
  return n;
}

const CODE_PAGES: Readonly<Record<number, BufferEncoding>> = { 65001: 'utf8', 1200: 'utf16le', 28591: 'latin1', 20127: 'ascii' };

function protocolMask(p: TlsSettings['enabledProtocols']): number {
  if (p === undefined) return SslProtocol.TLS1_2;
  if (typeof p === 'number') return p;
  const bits: Record<string, number> = {
    TLSv1: SslProtocol.TLS1,
    'TLSv1.1': SslProtocol.TLS1_1,
    'TLSv1.2': SslProtocol.TLS1_2,
    'TLSv1.3': SslProtocol.TLS1_3,
  };
  return p.reduce((m, n) => m | (bits[n] ?? 0), 0);
}

function listText(v: string | readonly string[] | undefined, sep = ','): string {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : v.join(sep);
}

function pemText(v: TlsSettings['caCerts']): string {
  if (v === undefined) return '';
  const items = typeof v === 'string' || v instanceof Uint8Array ? [v] : [...v];
  return items.map((i) => (typeof i === 'string' ? i : Buffer.from(i).toString('latin1'))).join('\r\n');
}

interface Entry {
  get(s: TcpServer): string;
  set?(s: TcpServer, v: string): void;
}

const tlsEntry = (
  key: keyof TlsSettings,
  toText: (s: TlsSettings) => string,
  fromText: (v: string) => TlsSettings[keyof TlsSettings],
): Entry => ({
  get: (s) => toText(s.tls),
  set: (s, v) => {
    s.tls = { ...s.tls, [key]: v === '' ? undefined : fromText(v) };
  },
});

const ENTRIES: Readonly<Record<string, Entry>> = {
  allowedclients: { get: (s) => s.allowedClients, set: (s, v) => (s.allowedClients = v) },
  blockedclients: { get: (s) => s.blockedClients, set: (s, v) => (s.blockedClients = v) },
  defaultconnectiontimeout: { get: (s) => String(s.defaultConnectionTimeout), set: (s, v) => (s.defaultConnectionTimeout = parseNum(v)) },
  keepalivetime: { get: (s) => String(s.keepAliveTime), set: (s, v) => (s.keepAliveTime = parseNum(v)) },
  maxconnections: { get: (s) => String(s.maxConnections), set: (s, v) => (s.maxConnections = parseNum(v)) },
  outbuffersize: { get: (s) => String(s.outBufferSize ?? 16384), set: (s, v) => (s.outBufferSize = parseNum(v)) },
  tcpnodelay: { get: (s) => String(s.tcpNoDelay), set: (s, v) => (s.tcpNoDelay = parseBool(v)) },
  useipv6: { get: (s) => String(s.useIPv6), set: (s, v) => (s.useIPv6 = parseNum(v) as UseIPv6) },
  closestreamaftertransfer: {
    // sendStream takes it per call; here only the default (true) is reported.
    get: () => 'True',
  },
  codepage: {
    get: (s) => String(Object.entries(CODE_PAGES).find(([, e]) => e === s.textEncoding)?.[0] ?? 65001),
    set: (s, v) => {
      const enc = CODE_PAGES[parseNum(v)];
      if (!enc) throw invalid(`code page ${v} is not supported (65001, 1200, 28591, 20127 are)`);
      s.textEncoding = enc;
    },
  },
  opensslcafile: tlsEntry(
    'caFile',
    (t) => t.caFile ?? '',
    (v) => v,
  ),
  opensslcadir: tlsEntry(
    'caDir',
    (t) => t.caDir ?? '',
    (v) => v,
  ),
  opensslcipherlist: tlsEntry(
    'cipherList',
    (t) => t.cipherList ?? 'DEFAULT',
    (v) => v,
  ),
  sslcacerts: tlsEntry(
    'caCerts',
    (t) => pemText(t.caCerts),
    (v) => v,
  ),
  sslclientcacerts: tlsEntry(
    'trustedCaCerts',
    (t) => pemText(t.trustedCaCerts),
    (v) => v,
  ),
  sslenabledciphersuites: tlsEntry(
    'cipherSuites',
    (t) => t.cipherSuites ?? '*',
    (v) => v,
  ),
  sslenabledprotocols: tlsEntry(
    'enabledProtocols',
    (t) => String(protocolMask(t.enabledProtocols)),
    (v) => parseNum(v),
  ),
  sslkeylogfile: tlsEntry(
    'keyLogFile',
    (t) => t.keyLogFile ?? '',
    (v) => v,
  ),
  tls12supportedgroups: tlsEntry(
    'supportedGroups',
    (t) => listText(t.supportedGroups),
    (v) => v,
  ),
  tls13supportedgroups: tlsEntry(
    'supportedGroups',
    (t) => listText(t.supportedGroups),
    (v) => v,
  ),
  tls13signaturealgorithms: tlsEntry(
    'signatureAlgorithms',
    (t) => listText(t.signatureAlgorithms),
    (v) => v,
  ),
};

/** Per-connection read-only values: `NAME[connectionId]`. */
const PER_CONNECTION: Readonly<Record<string, (s: TcpServer, id: string) => string>> = {
  sslnegotiatedcipher: (s, id) => conn(s, id).sslNegotiatedCipher,
  sslnegotiatedciphersuite: (s, id) => conn(s, id).sslNegotiatedCipherSuite,
  sslnegotiatedcipherstrength: (s, id) => String(conn(s, id).sslNegotiatedCipherStrength),
  sslnegotiatedkeyexchange: (s, id) => conn(s, id).sslNegotiatedKeyExchange,
  sslnegotiatedversion: (s, id) => conn(s, id).sslNegotiatedVersion,
};

function conn(s: TcpServer, id: string) {
  const c = s.connections.get(id);
  if (!c)
    throw new TcpServerError(TcpServerErrorCode.InvalidConnectionId, `invalid ConnectionId ${JSON.stringify(id)}`, { connectionId: id });
  return c;
}

/** Settings of the toolkit with no Node equivalent, and why. */
const NOT_APPLICABLE: Readonly<Record<string, string>> = {
  bindexclusively: 'Node has no SO_EXCLUSIVEADDRUSE',
  inbuffersize: 'Node cannot set SO_RCVBUF on TCP sockets',
  keepaliveinterval: 'Node cannot set the keep-alive probe interval (use KeepAliveTime)',
  logsslpackets: 'OpenSSL records are not exposed to JavaScript',
  opensslprngseeddata: 'OpenSSL seeds itself',
  reusesslsession: 'a client-side setting; Node servers resume sessions automatically',
  sslcheckcrl: 'a client-side check of the server certificate',
  sslcheckocsp: 'a client-side check of the server certificate',
  sslcipherstrength: 'express it through SSLEnabledCipherSuites or OpenSSLCipherList',
  sslenablerenegotiation: 'OpenSSL handles RFC 5746 itself',
  sslincludecertchain: 'a client-side setting (SSLServerAuthentication); sslClientAuthentication carries the chain anyway',
  sslsecurityflags: 'Windows CryptoAPI flags; decide in sslClientAuthentication instead',
  sslservercacerts: 'a client-side setting',
  tls12signaturealgorithms: 'a client-side check of the server certificate',
  tls13keysharegroups: 'a client-side optimisation',
  sslnegotiatedkeyexchangestrength: 'Node does not report the server-side key-exchange strength',
  buildinfo: 'vendor metadata',
  licenseinfo: 'vendor licensing',
  masksensitivedata: 'this component writes no log',
  useinternalsecurityapi: 'Node always uses OpenSSL',
};

/** Implements {@link TcpServer.config}. */
export function applyConfig(server: TcpServer, setting: string): string {
  const eq = setting.indexOf('=');
  const name = (eq >= 0 ? setting.slice(0, eq) : setting).trim();
  const value = eq >= 0 ? setting.slice(eq + 1) : undefined;
  const indexed = name.match(/^([A-Za-z0-9]+)\[(.+)\]$/);
  if (indexed) {
    const fn = PER_CONNECTION[indexed[1]!.toLowerCase()];
    if (!fn) throw invalid(`unknown per-connection setting ${indexed[1]}`);
    if (value !== undefined) throw invalid(`${indexed[1]} is read-only`);
    return fn(server, indexed[2]!);
  }
  const key = name.toLowerCase();
  const why = NOT_APPLICABLE[key];
  if (why) throw invalid(`${name} has no equivalent in Node: ${why}`);
  const entry = ENTRIES[key];
  if (!entry) throw invalid(`unknown configuration setting ${name}`);
  if (value === undefined) return entry.get(server);
  if (!entry.set) throw invalid(`${name} is read-only`);
  entry.set(server, value);
  return '';
}
