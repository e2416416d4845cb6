/**
 * The toolkit's `Config("NAME=VALUE")` / `Config("NAME")` as a thin shim over the typed
 * options and getters. One table row per documented setting says how it maps; settings that
 * are per call in iotwire, or have no Node counterpart, throw ERR_NOT_SUPPORTED naming the
 * replacement. Pure: no I/O, safe for the browser build (Node-only settings are refused there).
 */
import type { ConnackProperties, UserProperties } from '@iotwire/mqtt-packet';
import { clientError } from './errors.js';
import type { BaseClientOptions, LogLevel } from './options.js';
import type { ProxyOptions, ProxyType } from './proxy-config.js';
import type { ConnectionState } from './state.js';
import type { ClientTlsOptions } from './transport/node.js';
import type { TlsInfo } from './transport/types.js';

/** Options the shim reads and writes (the Node options are optional extras). */
export interface ConfigurableOptions extends BaseClientOptions {
  tls?: ClientTlsOptions;
  localAddress?: string;
  localPort?: number;
  family?: 0 | 4 | 6;
  noDelay?: boolean;
  tcpKeepAliveMs?: number;
  proxy?: ProxyOptions | string;
  proxyExceptions?: string | readonly string[];
}

/** What the shim needs from the client. */
export interface ConfigHost {
  /** The client (also the key of its staged firewall settings). */
  readonly client: {
    readonly state: ConnectionState;
    readonly connackProperties: ConnackProperties | undefined;
    readonly outgoingPacketId: number;
    readonly serverTopicAliasMaximum: number;
    readonly sessionPresent: boolean;
    readonly tlsInfo: TlsInfo | undefined;
    sendRawPacket(bytes: Uint8Array): void;
  };
  options(): ConfigurableOptions;
  update(next: ConfigurableOptions): void;
  /** Node transports available (TLS, socket and proxy settings). */
  node: boolean;
}

type Get = (h: ConfigHost, index: number | undefined) => string;
type Set = (h: ConfigHost, value: string, index: number | undefined) => void;

interface Setting {
  name: string;
  get?: Get;
  set?: Set;
  /** May change while connected (applies to later packets); otherwise connect-time only. */
  live?: boolean;
  /** Needs the Node transports. */
  node?: boolean;
  /** Takes `[i]`. */
  indexed?: boolean;
  /** Why it cannot be used through config(), and what to use instead. */
  unsupported?: string;
}

const TRUE = new Set(['true', '1', 'yes']);
const FALSE = new Set(['false', '0', 'no']);

/** Parses the toolkit's booleans: True/False/1/0/Yes/No, any case. */
export function parseBool(name: string, v: string): boolean {
  const s = v.trim().toLowerCase();
  if (TRUE.has(s)) return true;
  if (FALSE.has(s)) return false;
  throw clientError('ERR_INVALID_ARGUMENT', `${name}: expected True/False/1/0/Yes/No, got ${JSON.stringify(v)}`);
}

function parseInt32(name: string, v: string, min: number, max: number): number {
  const s = v.trim();
  if (!/^-?\d+$/.test(s)) throw clientError('ERR_INVALID_ARGUMENT', `${name}: expected an integer, got ${JSON.stringify(v)}`);
  const n = Number(s);
  if (n < min || n > max) throw clientError('ERR_INVALID_ARGUMENT', `${name}: ${n} is outside ${min}..${max}`);
  return n;
}

const b = (x: boolean) => (x ? 'True' : 'False');
const str = (x: unknown) => (x === undefined || x === null ? '' : String(x));

function patch(h: ConfigHost, key: keyof ConfigurableOptions, value: unknown): void {
  const next = { ...h.options() } as Record<string, unknown>;
  if (value === undefined) delete next[key];
  else next[key] = value;
  h.update(next as ConfigurableOptions);
}

function patchTls(h: ConfigHost, key: keyof ClientTlsOptions, value: unknown): void {
  const tls = { ...(h.options().tls ?? {}) } as Record<string, unknown>;
  if (value === undefined) delete tls[key];
  else tls[key] = value;
  patch(h, 'tls', tls);
}

/** A plain option: read with `get`, parsed and stored with `parse`. */
function option(
  name: string,
  key: keyof ConfigurableOptions,
  kind: 'string' | 'bool' | [number, number],
  extra: Partial<Setting> = {},
): Setting {
  return {
    name,
    get: (h) => {
      const v = h.options()[key];
      return kind === 'bool' ? b(v === true) : str(v);
    },
    set: (h, v) => {
      const value = kind === 'bool' ? parseBool(name, v) : kind === 'string' ? v || undefined : parseInt32(name, v, kind[0], kind[1]);
      patch(h, key, value);
    },
    ...extra,
  };
}

function tlsOption(name: string, key: keyof ClientTlsOptions, kind: 'string' | 'bool'): Setting {
  return {
    name,
    node: true,
    get: (h) => {
      const v = h.options().tls?.[key];
      return kind === 'bool' ? b(v === true) : str(v);
    },
    set: (h, v) => patchTls(h, key, kind === 'bool' ? parseBool(name, v) : v || undefined),
  };
}

const na = (name: string, why: string): Setting => ({ name, unsupported: why });

// ---------------------------------------------------------------- user properties

function userProps(h: ConfigHost): [string, string][] {
  return (h.options().defaultPublishProperties?.userProperties ?? []).map(([k, v]) => [k, v]);
}
function setUserProps(h: ConfigHost, list: [string, string][]): void {
  const d = { ...(h.options().defaultPublishProperties ?? {}) };
  if (list.length) d.userProperties = list as UserProperties;
  else delete d.userProperties;
  patch(h, 'defaultPublishProperties', Object.keys(d).length ? d : undefined);
}
function propIndex(h: ConfigHost, name: string, i: number | undefined): number {
  const n = userProps(h).length;
  if (i === undefined || i >= n)
    throw clientError('ERR_INVALID_ARGUMENT', `${name}[${i ?? ''}]: index out of range (OutgoingUserPropCount is ${n})`);
  return i;
}
const userProp = (name: string, field: 0 | 1): Setting => ({
  name,
  live: true,
  indexed: true,
  get: (h, i) => userProps(h)[propIndex(h, name, i)]?.[field] ?? '',
  set: (h, v, i) => {
    const list = userProps(h);
    (list[propIndex(h, name, i)] as [string, string])[field] = v;
    setUserProps(h, list);
  },
});

// ---------------------------------------------------------------- firewall

const FIREWALL_TYPES: Readonly<Record<number, ProxyType>> = { 1: 'http', 2: 'socks4', 3: 'socks5', 10: 'socks4a' };
const FIREWALL_NUMBERS: Readonly<Record<ProxyType, number>> = { http: 1, socks4: 2, socks5: 3, socks4a: 10 };
const DEFAULT_FIREWALL_PORTS: Readonly<Record<ProxyType, number>> = { http: 80, socks4: 1080, socks4a: 1080, socks5: 1080 };

/** Firewall fields set while FirewallType is 0 wait here until a type is chosen. */
const staged = new WeakMap<object, Partial<ProxyOptions>>();

function firewall(h: ConfigHost): Partial<ProxyOptions> {
  const p = h.options().proxy;
  if (p && typeof p === 'object') return p;
  return staged.get(h.client) ?? {};
}
function setFirewall(h: ConfigHost, fields: Partial<ProxyOptions>): void {
  const p = h.options().proxy;
  const next = { ...firewall(h), ...fields };
  for (const k of Object.keys(next) as (keyof ProxyOptions)[]) if (next[k] === undefined) delete next[k];
  if (next.type) {
    patch(h, 'proxy', next);
    staged.delete(h.client);
  } else {
    staged.set(h.client, next);
    if (p && typeof p === 'object') patch(h, 'proxy', undefined);
  }
}
const firewallField = (name: string, key: 'host' | 'user' | 'password'): Setting => ({
  name,
  node: true,
  get: (h) => str(firewall(h)[key]),
  set: (h, v) => setFirewall(h, { [key]: v || undefined }),
});

function parseHeaders(name: string, v: string): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const line of v.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const i = line.indexOf(':');
    if (i <= 0) throw clientError('ERR_INVALID_ARGUMENT', `${name}: expected "Header: value" lines, got ${JSON.stringify(line)}`);
    out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return Object.keys(out).length ? out : undefined;
}

// ---------------------------------------------------------------- the table

const PER_CALL = 'is per call in iotwire';
const SETTINGS: Setting[] = [
  // MQTT
  {
    name: 'AutoReconnect',
    get: (h) => b(!!h.options().reconnect),
    set: (h, v) => patch(h, 'reconnect', parseBool('AutoReconnect', v) || undefined),
  },
  option('ClientTopicAliasMax', 'topicAliasMaximum', [0, 65_535]),
  {
    name: 'ConnectionTimeout',
    get: (h) => String(Math.round((h.options().connectTimeoutMs ?? 30_000) / 1000)),
    set: (h, v) => patch(h, 'connectTimeoutMs', parseInt32('ConnectionTimeout', v, 0, 2_147_483) * 1000),
  },
  {
    name: 'LogLevel',
    live: true,
    get: (h) => String(h.options().logLevel ?? 1),
    set: (h, v) => patch(h, 'logLevel', parseInt32('LogLevel', v, 0, 3) as LogLevel),
  },
  {
    name: 'OutgoingUserPropCount',
    live: true,
    get: (h) => String(userProps(h).length),
    set: (h, v) => {
      const n = parseInt32('OutgoingUserPropCount', v, 0, 65_535);
      const list = userProps(h).slice(0, n);
      while (list.length < n) list.push(['', '']);
      setUserProps(h, list);
    },
  },
  userProp('OutgoingUserPropName', 0),
  userProp('OutgoingUserPropValue', 1),
  option('RepublishInterval', 'republishInterval', [0, 2_147_483]),
  {
    name: 'ResponseTopic',
    live: true,
    get: (h) => h.options().defaultPublishProperties?.responseTopic ?? '',
    set: (h, v) => {
      const d = { ...(h.options().defaultPublishProperties ?? {}) };
      if (v) d.responseTopic = v;
      else delete d.responseTopic;
      patch(h, 'defaultPublishProperties', Object.keys(d).length ? d : undefined);
    },
  },
  option('SessionExpInterval', 'sessionExpiryInterval', [0, 4_294_967_295]),
  {
    name: 'WillQOS',
    get: (h) => String(h.options().will?.qos ?? 0),
    set: (h, v) => patch(h, 'will', { topic: '', ...h.options().will, qos: parseInt32('WillQOS', v, 0, 2) as 0 | 1 | 2 }),
  },
  {
    name: 'WillRetain',
    get: (h) => b(h.options().will?.retain === true),
    set: (h, v) => patch(h, 'will', { topic: '', ...h.options().will, retain: parseBool('WillRetain', v) }),
  },
  {
    name: 'SendCustomPacket',
    live: true,
    set: (h, v) => {
      const hex = v.replace(/\s+/g, '');
      if (!/^([0-9a-f]{2})+$/i.test(hex))
        throw clientError('ERR_INVALID_ARGUMENT', `SendCustomPacket: expected hex bytes, got ${JSON.stringify(v)}`);
      h.client.sendRawPacket(Buffer.from(hex, 'hex'));
    },
  },
  // Read-only: what the server reported.
  { name: 'ConnAckProperties', get: (h) => JSON.stringify(h.client.connackProperties ?? {}) },
  { name: 'OutgoingPacketId', get: (h) => String(h.client.outgoingPacketId) },
  { name: 'ServerTopicAliasMax', get: (h) => String(h.client.serverTopicAliasMaximum) },
  { name: 'SessionPresent', get: (h) => b(h.client.sessionPresent) },
  // Per call or per message in iotwire.
  na(
    'ConnectProperties',
    'is typed options: sessionExpiryInterval, receiveMaximum, maximumPacketSize, topicAliasMaximum, userProperties, …',
  ),
  na('DisconnectProperties', `${PER_CALL}: disconnect({ properties }); the server's are in the disconnected event`),
  na('DisconnectReasonCode', `${PER_CALL}: disconnect({ reasonCode }); the server's is in the disconnected event`),
  na('Duplicate', `${PER_CALL}: publish(…, { dup }); redelivery sets DUP itself`),
  na('IncomingUserPropCount', 'is per message: message.userProperties / properties.userProperties'),
  na('IncomingUserPropName', 'is per message: message.userProperties'),
  na('IncomingUserPropValue', 'is per message: message.userProperties'),
  na('OutgoingMessageProperties', `${PER_CALL}: publish(…, { properties }); defaultPublishProperties for sticky defaults`),
  na('Retain', `${PER_CALL}: publish(…, { retain })`),
  na('SessionStateFile', 'is the sessionStateFile constructor option (Node) or sessionStore'),
  na('SubscriptionIdentifier', `${PER_CALL}: subscribe(…, { subscriptionIdentifier })`),
  na('TopicAlias', `${PER_CALL}: publish(…, { properties: { topicAlias } }) or topicAliases: 'auto'`),
  na('TopicDelimiter', `${PER_CALL}: subscribe/unsubscribe(…, { delimiter }), or arrays`),
  na('TopicNLArray', `${PER_CALL}: subscribe(…, { noLocal })`),
  na('TopicQOSArray', `${PER_CALL}: subscribe(…, { qosList })`),
  na('TopicRAPArray', `${PER_CALL}: subscribe(…, { retainAsPublished })`),
  na('TopicRHArray', `${PER_CALL}: subscribe(…, { retainHandling })`),
  na('WillProperties', 'is the will.properties option'),
  // TCP and firewall (Node)
  {
    name: 'FirewallAutoDetect',
    node: true,
    get: (h) => b(h.options().proxy === 'auto'),
    set: (h, v) => {
      if (parseBool('FirewallAutoDetect', v)) patch(h, 'proxy', 'auto');
      else if (h.options().proxy === 'auto') patch(h, 'proxy', undefined);
    },
  },
  {
    name: 'FirewallType',
    node: true,
    get: (h) => {
      const t = firewall(h).type;
      return String(t ? FIREWALL_NUMBERS[t] : 0);
    },
    set: (h, v) => {
      const n = parseInt32('FirewallType', v, 0, 10);
      if (n !== 0 && !FIREWALL_TYPES[n]) throw clientError('ERR_INVALID_ARGUMENT', `FirewallType: ${n} is not 0, 1, 2, 3 or 10`);
      setFirewall(h, { type: FIREWALL_TYPES[n] });
    },
  },
  firewallField('FirewallHost', 'host'),
  firewallField('FirewallUser', 'user'),
  firewallField('FirewallPassword', 'password'),
  {
    name: 'FirewallPort',
    node: true,
    get: (h) => {
      const f = firewall(h);
      return String(f.port ?? (f.type ? DEFAULT_FIREWALL_PORTS[f.type] : 0));
    },
    set: (h, v) => {
      const n = parseInt32('FirewallPort', v, 0, 65_535);
      setFirewall(h, { port: n || undefined });
    },
  },
  {
    name: 'FirewallData',
    node: true,
    get: (h) =>
      Object.entries(firewall(h).headers ?? {})
        .map(([k, v]) => `${k}: ${v}`)
        .join('\r\n'),
    set: (h, v) => setFirewall(h, { headers: parseHeaders('FirewallData', v) }),
  },
  {
    name: 'ProxyExceptionsList',
    node: true,
    get: (h) => {
      const e = h.options().proxyExceptions;
      return typeof e === 'string' ? e : (e ?? []).join(';');
    },
    set: (h, v) => patch(h, 'proxyExceptions', v || undefined),
  },
  {
    name: 'MaxTransferRate',
    get: (h) => String(h.options().maxTransferRate ?? 0),
    set: (h, v) => patch(h, 'maxTransferRate', parseInt32('MaxTransferRate', v, 0, 2_147_483_647) || undefined),
  },
  option('KeepAliveTime', 'tcpKeepAliveMs', [0, 2_147_483_647], { node: true }),
  {
    name: 'TCPKeepAlive',
    node: true,
    get: (h) => b(h.options().tcpKeepAliveMs !== undefined),
    set: (h, v) => patch(h, 'tcpKeepAliveMs', parseBool('TCPKeepAlive', v) ? (h.options().tcpKeepAliveMs ?? 0) : undefined),
  },
  {
    name: 'TcpNoDelay',
    node: true,
    get: (h) => b(h.options().noDelay ?? true),
    set: (h, v) => patch(h, 'noDelay', parseBool('TcpNoDelay', v)),
  },
  option('LocalHost', 'localAddress', 'string', { node: true }),
  option('LocalPort', 'localPort', [0, 65_535], { node: true }),
  {
    name: 'UseIPv6',
    node: true,
    get: (h) => {
      const f = h.options().family;
      return f === 4 ? '0' : f === 6 ? '1' : '2';
    },
    set: (h, v) => patch(h, 'family', ([4, 6, 0] as const)[parseInt32('UseIPv6', v, 0, 2)]),
  },
  na('KeepAliveInterval', 'the TCP probe interval cannot be set from Node (the MQTT keep-alive is the keepAlive option)'),
  na('Linger', 'no SO_LINGER in Node: interrupt() drops at once, disconnect() flushes'),
  na('LingerTime', 'no SO_LINGER in Node'),
  na('MaxLineLength', 'not used by MQTT framing'),
  // TLS (Node)
  tlsOption('OpenSSLCADir', 'caDir', 'string'),
  tlsOption('OpenSSLCAFile', 'caFile', 'string'),
  tlsOption('OpenSSLCipherList', 'cipherList', 'string'),
  {
    name: 'ReuseSSLSession',
    node: true,
    get: (h) => b(h.options().tls?.reuseSession !== false),
    set: (h, v) => patchTls(h, 'reuseSession', parseBool('ReuseSSLSession', v)),
  },
  {
    name: 'SSLAcceptAnyServerCert',
    node: true,
    get: (h) => b(h.options().tls?.rejectUnauthorized === false),
    set: (h, v) => patchTls(h, 'rejectUnauthorized', parseBool('SSLAcceptAnyServerCert', v) ? false : undefined),
  },
  tlsOption('SSLCACerts', 'caCerts', 'string'),
  tlsOption('SSLServerCACerts', 'trustedCaCerts', 'string'),
  tlsOption('SSLEnabledCipherSuites', 'cipherSuites', 'string'),
  {
    name: 'SSLEnabledProtocols',
    node: true,
    get: (h) => {
      const p = h.options().tls?.enabledProtocols;
      return typeof p === 'number' ? String(p) : p ? p.join(',') : String(3072 | 12288);
    },
    set: (h, v) => patchTls(h, 'enabledProtocols', parseInt32('SSLEnabledProtocols', v, 0, 0xffff)),
  },
  tlsOption('SSLKeyLogFile', 'keyLogFile', 'string'),
  tlsOption('TLS12SignatureAlgorithms', 'signatureAlgorithms', 'string'),
  tlsOption('TLS13SignatureAlgorithms', 'signatureAlgorithms', 'string'),
  tlsOption('TLS12SupportedGroups', 'supportedGroups', 'string'),
  tlsOption('TLS13SupportedGroups', 'supportedGroups', 'string'),
  { name: 'SSLIncludeCertChain', get: () => 'True' }, // the verdict always carries the chain
  { name: 'SSLNegotiatedCipher', node: true, get: (h) => h.client.tlsInfo?.cipher?.name ?? '' },
  { name: 'SSLNegotiatedCipherSuite', node: true, get: (h) => h.client.tlsInfo?.cipher?.standardName ?? '' },
  { name: 'SSLNegotiatedVersion', node: true, get: (h) => h.client.tlsInfo?.protocol ?? '' },
  na('SSLNegotiatedCipherStrength', 'use cipherStrength(client.tlsInfo.cipher) of @iotwire/tls'),
  na('SSLNegotiatedKeyExchange', 'not exposed; client.tlsInfo has the cipher and protocol'),
  na('SSLNegotiatedKeyExchangeStrength', 'not exposed; client.tlsInfo has the cipher and protocol'),
  na('LogSSLPackets', 'no internal TLS provider'),
  na('OpenSSLPrngSeedData', 'OpenSSL seeds itself'),
  na('SSLCipherStrength', 'not supported by OpenSSL'),
  na('SSLClientCACerts', 'server-side only'),
  na('SSLEnableRenegotiation', 'internal TLS provider only'),
  na('SSLSecurityFlags', 'Windows CryptoAPI only: use tls.rejectUnauthorized, pins or the sslServerAuthentication event'),
  na('TLS13KeyShareGroups', 'OpenSSL decides'),
  na('UseInternalSecurityAPI', 'no internal security API'),
  // Socket and base
  { name: 'MaskSensitiveData', get: () => 'True' }, // passwords are always masked in packet logs
  { name: 'AbsoluteTimeout', get: () => 'True' }, // deadlines are absolute
  na('InBufferSize', 'Node does not expose socket buffer sizes'),
  na('OutBufferSize', 'Node does not expose socket buffer sizes'),
  na('BuildInfo', 'vendor build information'),
  na('LicenseInfo', 'vendor licensing'),
  na('CodePage', 'strings are always UTF-8'),
];

const BY_NAME = new Map(SETTINGS.map((s) => [s.name.toLowerCase(), s]));

/** The documented setting names the shim knows (for documentation and tests). */
export const CONFIG_SETTING_NAMES: readonly string[] = SETTINGS.map((s) => s.name);

/**
 * Runs one `Config` string: `"NAME=VALUE"` sets (returns `''`), `"NAME"` reads. Names are
 * case-insensitive; `Name[i]` indexes OutgoingUserPropName/Value. Throws ERR_UNKNOWN_SETTING,
 * ERR_SETTING_READ_ONLY (read-only, or a connect-time setting while connected/connecting),
 * ERR_NOT_SUPPORTED (per call or N/A here, with the replacement) or ERR_INVALID_ARGUMENT.
 */
export function runConfig(host: ConfigHost, configurationString: string): string {
  const eq = configurationString.indexOf('=');
  const rawName = (eq < 0 ? configurationString : configurationString.slice(0, eq)).trim();
  const m = /^([A-Za-z][A-Za-z0-9]*)(?:\[(\d+)\])?$/.exec(rawName);
  const setting = m ? BY_NAME.get((m[1] as string).toLowerCase()) : undefined;
  if (!m || !setting) throw clientError('ERR_UNKNOWN_SETTING', `unknown setting ${JSON.stringify(rawName)}`);
  const name = setting.name;
  const index = m[2] !== undefined ? Number(m[2]) : undefined;
  if (index !== undefined && !setting.indexed) throw clientError('ERR_UNKNOWN_SETTING', `${name} takes no index`);
  if (setting.unsupported) throw clientError('ERR_NOT_SUPPORTED', `${name} ${setting.unsupported}`);
  if (setting.node && !host.node) throw clientError('ERR_NOT_SUPPORTED', `${name} needs the Node transports (not available in browsers)`);
  if (eq < 0) {
    if (!setting.get) throw clientError('ERR_NOT_SUPPORTED', `${name} is write-only`);
    return setting.get(host, index);
  }
  if (!setting.set) throw clientError('ERR_SETTING_READ_ONLY', `${name} is read-only`);
  if (!setting.live && host.client.state !== 'disconnected')
    throw clientError('ERR_SETTING_READ_ONLY', `${name} cannot change while ${host.client.state}; it applies at connect()`);
  setting.set(host, configurationString.slice(eq + 1), index);
  return '';
}
