import type { KeyObject, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import type { DatagramEndpoint, PeerAddress } from '@iotwire/udp';
import {
  type CertificateInput,
  loadCertificates,
  loadPrivateKey,
  loadPublicKey,
  type PrivateKeyInput,
  type PublicKeyInput,
  signingSchemeFor,
  spkiOf,
} from './certificates.js';
import { type CipherSuite, resolveCipherSuites } from './cipher-suites.js';
import { NamedGroup, type NamedGroupName } from './constants.js';
import { DtlsError } from './errors.js';
import { type ResolvedRetransmit, type RetransmitOptions, resolveRetransmit } from './flight.js';
import { realTimers, type Timers } from './timers.js';

/** The seed's `SSLEnabledProtocols` bits. DTLS 1.2 is the DTLS form of TLS 1.2 (0x0C00). */
export const EnabledProtocols = { TLS1_3: 0x3000, TLS1_2: 0x0c00, TLS1_1: 0x0300, TLS1_0: 0x00c0, SSL3: 0x0030, SSL2: 0x000c } as const;

/** A PSK identity and key. Strings are UTF-8 (libcoap `-k secretPSK` is the UTF-8 of the text). */
export interface PskCredentials {
  identity: string | Uint8Array;
  key: string | Uint8Array;
}

/** Server-side PSK configuration (RFC 4279). */
export interface ServerPskOptions {
  /** Identity hint sent in ServerKeyExchange (RFC 4279 §5.2); none by default. */
  hint?: string | Uint8Array;
  /** Static identity → key table. */
  keys?: Record<string, string | Uint8Array> | Map<string, string | Uint8Array>;
  /** Looks up the key for an identity (may be async); consulted before `keys`. `undefined` = unknown identity. */
  lookup?: (identity: Buffer, peer: PeerAddress) => string | Uint8Array | undefined | Promise<string | Uint8Array | undefined>;
}

/** Client-side PSK: fixed credentials, or a callback choosing them from the server's hint. */
export type ClientPskOption =
  | PskCredentials
  | ((hint: Buffer | undefined, peer: PeerAddress) => PskCredentials | undefined | Promise<PskCredentials | undefined>);

/** Options shared by {@link DtlsServer} and {@link DtlsClient}. */
export interface DtlsCommonOptions {
  /** Transport to run over. Default: a new `UdpEndpoint` on `host`/`port`. */
  endpoint?: DatagramEndpoint;
  /** Local address for the default endpoint. Default `'0.0.0.0'` (use `'::'` for IPv6). */
  host?: string;
  /** Local port for the default endpoint. Default 0 (ephemeral) for clients, 5684 for servers. */
  port?: number;
  /**
   * Our certificate chain, leaf first (seed `SSLCert` plus `SSLCACerts`). PEM bundle, DER or
   * `X509Certificate`s. Requires `key`. With `useRawPublicKey`, not needed.
   */
  cert?: CertificateInput | readonly CertificateInput[];
  /** Private key for `cert` or for raw-public-key mode (EC P-256, or P-384). */
  key?: PrivateKeyInput;
  /** Raw public key mode (RFC 7250; seed `UseRawPublicKey`): present `key`'s SubjectPublicKeyInfo instead of a certificate. */
  useRawPublicKey?: boolean;
  /** Raw public keys (of peers) trusted without asking; others reach the verdict event with `accept=false`. */
  trustedPeerKeys?: readonly PublicKeyInput[];
  /** Seed `SSLEnabledCipherSuites`: `'*'` (default) or IANA names (`;`/`,`-separated or an array). */
  cipherSuites?: string | readonly string[];
  /** Seed `SSLEnabledProtocols` bitmask; must include TLS1_2 (0x0C00, meaning DTLS 1.2). Default 0x0C00. */
  enabledProtocols?: number;
  /** Seed `TLS12SupportedGroups`, preference order. Default `['secp256r1', 'x25519']` (P-256 first for tinydtls peers). */
  groups?: readonly NamedGroupName[];
  /**
   * Seed `TLS12SignatureAlgorithms`: comma-separated `hash-sig` pairs we accept in signatures
   * (e.g. `'sha256-ecdsa,sha384-ecdsa'`). Supported: sha256/sha384/sha512 with ecdsa or rsa.
   * Default `'sha256-ecdsa,sha384-ecdsa,sha512-ecdsa,sha256-rsa,sha384-rsa,sha512-rsa'`; an empty
   * string means a client sends no signature_algorithms extension.
   */
  signatureAlgorithms?: string | readonly string[];
  /** Seed `OpenSSLCADir`: a directory of PEM CA files, added to the trust anchors (`ca` and `clientCa`). */
  caDir?: string;
  /** Offer/accept the RFC 7627 extended master secret. Default true. */
  extendedMasterSecret?: boolean;
  /** Refuse peers without the extended master secret. Default false (tinydtls has none). */
  requireExtendedMasterSecret?: boolean;
  /**
   * Seed `SSLEnableRenegotiation`: send the RFC 5746 renegotiation_info extension. Default true:
   * OpenSSL 3 clients refuse servers without it. Renegotiation itself is always refused
   * (RFC 7925 §17) with a no_renegotiation alert.
   */
  renegotiationInfo?: boolean;
  /** Largest datagram we send: handshake flights are fragmented to fit (the PMTU setting). Default 1400. */
  mtu?: number;
  /** Flight retransmission timers (RFC 6347 §4.2.4). */
  retransmit?: RetransmitOptions;
  /** Abandon a handshake that has not completed after this many ms. Default 60000. */
  handshakeTimeoutMs?: number;
  /** Cap on one reassembled handshake message (bytes). Default 16384. */
  maxHandshakeMessageSize?: number;
  /** Anti-replay window width in records (multiple of 32). Default 64. */
  replayWindow?: number;
  /** Seed `ReuseSSLSession`: session cache for resumption. Default `{ maxEntries: 1000, lifetimeMs: 10 h }`; `false` disables. */
  sessionCache?: false | { maxEntries?: number; lifetimeMs?: number };
  /** Seed `SSLKeyLogFile`: append NSS key log lines (`CLIENT_RANDOM …`) to this file, for Wireshark. */
  keyLogFile?: string;
  /** Seed `LogSSLPackets`: report every record sent and received through `sslStatus`. Default false. */
  logPackets?: boolean;
  /** Seed `SSLSecurityFlags` relaxations for peer certificate validation (see `SecurityFlags`). */
  securityFlags?: number;
  /** Trust the Node.js bundled public CA list as well as `ca` (the seed's "system trust"). Default false. */
  useSystemCa?: boolean;
  /** Clock and timers (tests). */
  timers?: Timers;
}

export interface DtlsServerOptions extends DtlsCommonOptions {
  /** PSK support; without it PSK suites are not negotiated. */
  psk?: ServerPskOptions;
  /** Seed `SSLAuthenticateClients`: send a CertificateRequest (certificate suites only). Default false. */
  requestClientCert?: boolean;
  /** With `requestClientCert`, fail clients that send no certificate. Default true. */
  requireClientCert?: boolean;
  /** Seed `SSLClientCACerts`: trust anchors for client certificates. */
  clientCa?: CertificateInput | readonly CertificateInput[];
  /** Most concurrent sessions (including handshakes in progress); the least recently active is evicted. Default 10000. */
  maxSessions?: number;
  /** Close sessions idle for this long (ms). Default 30 minutes. */
  idleTimeoutMs?: number;
  /** Cookie secret rotation period (ms); the previous secret stays valid for one more period. Default 60000. */
  cookieLifetimeMs?: number;
}

export interface DtlsClientOptions extends DtlsCommonOptions {
  /** PSK credentials; without them PSK suites are not offered. */
  psk?: ClientPskOption;
  /** Seed `SSLServerCACerts` / `OpenSSLCAFile`: trust anchors for server certificates. */
  ca?: CertificateInput | readonly CertificateInput[];
  /** Seed `SSLAcceptServerCert`: accept exactly this server certificate unconditionally (pinning). */
  acceptServerCert?: CertificateInput;
  /** Host name for SNI and for matching the server certificate (no wildcards, RFC 7252 §9.1.3.3). */
  servername?: string;
  /** Data queued per peer while its handshake runs (bytes). Default 65536. */
  maxQueuedBytes?: number;
}

export interface LocalCredentials {
  /** X.509 chain (leaf first) or undefined in RPK mode. */
  chain: X509Certificate[];
  chainDer: Buffer[];
  key: KeyObject;
  spki: Buffer;
  scheme: number;
  hash: 'sha256' | 'sha384';
  /** Named group of the key's curve (RFC 8422 §5.1: the peer's supported_groups must include it). */
  curveGroup: number;
  rawPublicKey: boolean;
}

/** Options after defaults and validation; shared by both roles. */
export interface ResolvedCommon {
  suites: CipherSuite[];
  groups: NamedGroupName[];
  ems: boolean;
  requireEms: boolean;
  renegotiationInfo: boolean;
  mtu: number;
  retransmit: ResolvedRetransmit;
  handshakeTimeoutMs: number;
  maxHandshakeMessageSize: number;
  replayWindow: number;
  sessionCache: { maxEntries: number; lifetimeMs: number } | undefined;
  keyLogFile: string | undefined;
  logPackets: boolean;
  securityFlags: number;
  /** Signature schemes we accept (and advertise), in preference order. */
  signatureSchemes: number[];
  /** False when `signatureAlgorithms` was the empty string. */
  sendSignatureAlgorithms: boolean;
  /** Anchors loaded from `caDir`. */
  caDirAnchors: X509Certificate[];
  local: LocalCredentials | undefined;
  trustedPeerKeys: Buffer[];
  timers: Timers;
}

export interface ResolvedServer extends ResolvedCommon {
  psk: { hint: Buffer | undefined; lookup: NonNullable<ServerPskOptions['lookup']> } | undefined;
  requestClientCert: boolean;
  requireClientCert: boolean;
  clientCa: X509Certificate[];
  maxSessions: number;
  idleTimeoutMs: number;
  cookieLifetimeMs: number;
}

export interface ResolvedClient extends ResolvedCommon {
  psk: ClientPskOption | undefined;
  ca: X509Certificate[];
  acceptServerCert: X509Certificate | undefined;
  servername: string | undefined;
  maxQueuedBytes: number;
}

/** Bytes of a key or identity given as text (UTF-8) or bytes. */
export function toBytes(v: string | Uint8Array): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function resolveLocal(o: DtlsCommonOptions): LocalCredentials | undefined {
  if (!o.key) {
    if (o.cert) throw new DtlsError('ERR_DTLS_CONFIG', '`cert` needs `key`');
    if (o.useRawPublicKey) throw new DtlsError('ERR_DTLS_CONFIG', '`useRawPublicKey` needs `key`');
    return undefined;
  }
  const key = loadPrivateKey(o.key);
  const { scheme, hash } = signingSchemeFor(key);
  const spki = spkiOf(key);
  const curveGroup = scheme === 0x0403 ? NamedGroup.secp256r1 : NamedGroup.secp384r1;
  if (o.useRawPublicKey) return { chain: [], chainDer: [], key, spki, scheme, hash, curveGroup, rawPublicKey: true };
  const chain = loadCertificates(o.cert);
  if (!chain.length) throw new DtlsError('ERR_DTLS_CONFIG', '`key` without `cert`: set `cert`, or `useRawPublicKey: true`');
  if (!chain[0]!.checkPrivateKey(key)) throw new DtlsError('ERR_DTLS_CREDENTIALS', 'the private key does not match the certificate');
  return { chain, chainDer: chain.map((c) => c.raw), key, spki, scheme, hash, curveGroup, rawPublicKey: false };
}

function resolveCommon(o: DtlsCommonOptions): ResolvedCommon {
  const protocols = o.enabledProtocols ?? EnabledProtocols.TLS1_2;
  if ((protocols & EnabledProtocols.TLS1_2) === 0) {
    throw new DtlsError('ERR_DTLS_CONFIG', 'enabledProtocols must include TLS1_2 (0x0C00): DTLS 1.2 is the only DTLS version implemented');
  }
  const mtu = o.mtu ?? 1400;
  if (!Number.isInteger(mtu) || mtu < 200 || mtu > 65507) throw new DtlsError('ERR_DTLS_CONFIG', `mtu ${mtu} outside 200..65507`);
  const groups = [...(o.groups ?? ['secp256r1', 'x25519'])];
  for (const g of groups) if (g !== 'secp256r1' && g !== 'x25519') throw new DtlsError('ERR_DTLS_CONFIG', `unsupported group ${g}`);
  if (!groups.length) throw new DtlsError('ERR_DTLS_CONFIG', 'groups must not be empty');
  const cache =
    o.sessionCache === false
      ? undefined
      : { maxEntries: o.sessionCache?.maxEntries ?? 1000, lifetimeMs: o.sessionCache?.lifetimeMs ?? 36_000_000 };
  return {
    suites: resolveCipherSuites(o.cipherSuites),
    groups,
    ems: o.extendedMasterSecret ?? true,
    requireEms: o.requireExtendedMasterSecret ?? false,
    renegotiationInfo: o.renegotiationInfo ?? true,
    mtu,
    retransmit: resolveRetransmit(o.retransmit),
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? 60_000,
    maxHandshakeMessageSize: o.maxHandshakeMessageSize ?? 16384,
    replayWindow: o.replayWindow ?? 64,
    sessionCache: cache,
    keyLogFile: o.keyLogFile,
    logPackets: o.logPackets ?? false,
    securityFlags: o.securityFlags ?? 0,
    ...resolveSignatureAlgorithms(o.signatureAlgorithms),
    caDirAnchors: o.caDir ? loadCaDir(o.caDir) : [],
    local: resolveLocal(o),
    trustedPeerKeys: (o.trustedPeerKeys ?? []).map((k) => spkiOf(loadPublicKey(k))),
    timers: o.timers ?? realTimers,
  };
}

const HASHES: Record<string, number> = { sha256: 4, sha384: 5, sha512: 6 };
const SIGS: Record<string, number> = { rsa: 1, ecdsa: 3 };
const DEFAULT_SIGNATURE_ALGORITHMS = 'sha256-ecdsa,sha384-ecdsa,sha512-ecdsa,sha256-rsa,sha384-rsa,sha512-rsa';

/** Parses the seed's `hash-sig` list; pairs we cannot verify (dsa, sha1, sha224) are skipped. */
function resolveSignatureAlgorithms(spec: string | readonly string[] | undefined): {
  signatureSchemes: number[];
  sendSignatureAlgorithms: boolean;
} {
  const list = spec === undefined ? DEFAULT_SIGNATURE_ALGORITHMS : spec;
  const names = (typeof list === 'string' ? list.split(',') : [...list]).map((n) => n.trim().toLowerCase()).filter(Boolean);
  if (names.length === 0) return { signatureSchemes: [0x0403, 0x0503, 0x0603], sendSignatureAlgorithms: false };
  const schemes: number[] = [];
  for (const n of names) {
    const [hash, sig] = n.split('-');
    const code = HASHES[hash ?? ''] !== undefined && SIGS[sig ?? ''] !== undefined ? (HASHES[hash!]! << 8) | SIGS[sig!]! : undefined;
    if (code !== undefined && !schemes.includes(code)) schemes.push(code);
  }
  if (!schemes.some((c) => (c & 0xff) === 3))
    throw new DtlsError('ERR_DTLS_CONFIG', 'signatureAlgorithms must include an ECDSA pair (e.g. sha256-ecdsa, RFC 7925)');
  return { signatureSchemes: schemes, sendSignatureAlgorithms: true };
}

/** Every certificate in the PEM files of `dir` (hashed-name layout or plain *.pem/*.crt). */
function loadCaDir(dir: string): X509Certificate[] {
  const out: X509Certificate[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    throw new DtlsError('ERR_DTLS_CONFIG', `cannot read caDir ${dir}: ${(err as Error).message}`, undefined, { cause: err });
  }
  for (const name of names.sort()) {
    let text: string;
    try {
      text = readFileSync(join(dir, name), 'latin1');
    } catch {
      continue; // a subdirectory or unreadable entry
    }
    if (text.includes('-----BEGIN CERTIFICATE-----')) out.push(...loadCertificates(text));
  }
  return out;
}

function anchors(input: DtlsClientOptions['ca'], system: boolean | undefined, fromDir: X509Certificate[]): X509Certificate[] {
  const own = [...loadCertificates(input), ...fromDir];
  return system ? [...own, ...loadCertificates(rootCertificates as string[])] : own;
}

export function resolveServerOptions(o: DtlsServerOptions): ResolvedServer {
  const c = resolveCommon(o);
  let psk: ResolvedServer['psk'];
  if (o.psk) {
    const table = new Map<string, Buffer>();
    const keys = o.psk.keys;
    if (keys) for (const [id, k] of keys instanceof Map ? keys : Object.entries(keys)) table.set(id, toBytes(k));
    const lookup = o.psk.lookup;
    psk = {
      hint: o.psk.hint === undefined ? undefined : toBytes(o.psk.hint),
      lookup: async (identity, peer) => {
        const found = lookup ? await lookup(identity, peer) : undefined;
        return found ?? table.get(identity.toString('utf8'));
      },
    };
  }
  if (!psk && !c.local)
    throw new DtlsError('ERR_DTLS_CONFIG', 'a DTLS server needs `psk`, or `cert` and `key`, or `key` with `useRawPublicKey`');
  return {
    ...c,
    psk,
    requestClientCert: o.requestClientCert ?? false,
    requireClientCert: o.requireClientCert ?? true,
    clientCa: anchors(o.clientCa, o.useSystemCa, c.caDirAnchors),
    maxSessions: o.maxSessions ?? 10_000,
    idleTimeoutMs: o.idleTimeoutMs ?? 30 * 60_000,
    cookieLifetimeMs: o.cookieLifetimeMs ?? 60_000,
  };
}

export function resolveClientOptions(o: DtlsClientOptions): ResolvedClient {
  const c = resolveCommon(o);
  const hasCertConfig = !!(o.ca || o.caDir || o.acceptServerCert || o.key || o.trustedPeerKeys || o.useSystemCa);
  // Offer certificate suites only when the server could be authenticated (or a verdict listener
  // may accept it), PSK suites only with PSK credentials; an explicit list is taken as given.
  if (!o.cipherSuites && o.psk && !hasCertConfig) c.suites = c.suites.filter((s) => s.keyExchange !== 'ECDHE_ECDSA');
  if (!o.psk) c.suites = c.suites.filter((s) => s.keyExchange === 'ECDHE_ECDSA');
  if (!c.suites.length) throw new DtlsError('ERR_DTLS_CONFIG', 'no usable cipher suites for the given credentials');
  const pinned = o.acceptServerCert === undefined ? undefined : loadCertificates(o.acceptServerCert)[0];
  return {
    ...c,
    psk: o.psk,
    ca: anchors(o.ca, o.useSystemCa, c.caDirAnchors),
    acceptServerCert: pinned,
    servername: o.servername,
    maxQueuedBytes: o.maxQueuedBytes ?? 65536,
  };
}
