/**
 * The reference toolkit's TLS settings (SSLEnabledProtocols, SSLEnabledCipherSuites,
 * OpenSSLCipherList, SSLCACerts, SSLClientCACerts/SSLServerCACerts, OpenSSLCAFile/Dir,
 * TLS12/13SupportedGroups, TLS13SignatureAlgorithms) mapped onto Node `tls` options.
 */

import { constants } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { Certificate, type CertificateInput } from './certificate.js';
import { CIPHER_SUITES } from './cipher-suite-table.js';
import { TlsError, TlsErrorCode } from './errors.js';

/** SSLEnabledProtocols bits. */
export const SslProtocol = {
  SSL2: 12,
  SSL3: 48,
  TLS1: 192,
  TLS1_1: 768,
  TLS1_2: 3072,
  TLS1_3: 12288,
} as const;

export type TlsVersionName = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

/** PEM text, a DER/PEM buffer, or a list of them. */
export type PemInput = string | Uint8Array | ReadonlyArray<string | Uint8Array>;

export interface TlsSettings {
  /**
   * Enabled protocol versions: an SSLEnabledProtocols bitmask (`3072` = TLS 1.2, `12288` =
   * TLS 1.3, ...) or a list of names. The component decides the default (the TCP server's is
   * TLS 1.2 only, as the reference toolkit's). SSL 2/3 bits are ignored (OpenSSL 3 has neither).
   */
  enabledProtocols?: number | readonly TlsVersionName[];
  /**
   * SSLEnabledCipherSuites: `'*'` (default, all) or IANA names separated by `;` (`,` and `:`
   * also accepted), e.g. `TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;TLS_AES_128_GCM_SHA256`.
   * OpenSSL names are accepted too. TLS 1.3 suites go to `ciphersuites`, the others to `ciphers`.
   */
  cipherSuites?: string;
  /** OpenSSLCipherList: an OpenSSL cipher string, used when `cipherSuites` is `'*'`. */
  cipherList?: string;
  /** SSLCACerts: certificates sent along with our own (the chain), PEM. */
  caCerts?: PemInput;
  /**
   * Trust anchors for verifying the peer: SSLClientCACerts on a server, SSLServerCACerts on a
   * client. PEM or DER.
   */
  trustedCaCerts?: PemInput;
  /** OpenSSLCAFile: a PEM bundle file of trust anchors. */
  caFile?: string;
  /** OpenSSLCADir: a directory of PEM files (every `*.pem`, `*.crt` and hashed `*.0` file is read). */
  caDir?: string;
  /**
   * Add Node's bundled root certificates to the trust anchors above. Default: `true` on
   * clients (the toolkit verifies against the system store), `false` on servers (Node puts
   * every anchor's name into the CertificateRequest, and client certificates from a public
   * CA are rarely what a device server wants).
   */
  includeSystemRoots?: boolean;
  /** TLS12SupportedGroups / TLS13SupportedGroups: `ecdhe_secp256r1`, `x25519`, `P-384`, `ffdhe2048`, ... */
  supportedGroups?: string | readonly string[];
  /** TLS13SignatureAlgorithms / TLS12SignatureAlgorithms: `ecdsa_secp256r1_sha256`, `rsa_pss_rsae_sha256`, `sha256-rsa`, ... */
  signatureAlgorithms?: string | readonly string[];
  /** SSLKeyLogFile: append NSS key-log lines here (see {@link keyLogWriter}). */
  keyLogFile?: string;
}

const VERSIONS: ReadonlyArray<readonly [bit: number, name: TlsVersionName]> = [
  [SslProtocol.TLS1, 'TLSv1'],
  [SslProtocol.TLS1_1, 'TLSv1.1'],
  [SslProtocol.TLS1_2, 'TLSv1.2'],
  [SslProtocol.TLS1_3, 'TLSv1.3'],
];

export interface ProtocolOptions {
  minVersion: tls.SecureVersion;
  maxVersion: tls.SecureVersion;
  /** `SSL_OP_NO_TLSv1_x` bits for sets with gaps (e.g. TLS 1.0 and 1.2 without 1.1). */
  secureOptions?: number;
}

/** Maps an SSLEnabledProtocols value onto `minVersion`/`maxVersion` (+ `secureOptions` for gaps). */
export function protocolOptions(enabled: number | readonly TlsVersionName[]): ProtocolOptions {
  const order = VERSIONS.map(([, n]) => n);
  const names = typeof enabled === 'number' ? VERSIONS.filter(([bit]) => (enabled & bit) !== 0).map(([, n]) => n) : [...enabled];
  const idx = names.map((n) => {
    const i = order.indexOf(n);
    if (i < 0) throw new TlsError(TlsErrorCode.CannotAcquireCredentials, `unknown TLS version ${n}`);
    return i;
  });
  if (idx.length === 0) throw new TlsError(TlsErrorCode.CannotAcquireCredentials, `no supported TLS version enabled (${String(enabled)})`);
  const lo = Math.min(...idx);
  const hi = Math.max(...idx);
  const out: ProtocolOptions = { minVersion: order[lo]!, maxVersion: order[hi]! };
  const noFlags = [constants.SSL_OP_NO_TLSv1, constants.SSL_OP_NO_TLSv1_1, constants.SSL_OP_NO_TLSv1_2, constants.SSL_OP_NO_TLSv1_3];
  let secureOptions = 0;
  for (let i = lo + 1; i < hi; i++) if (!idx.includes(i)) secureOptions |= noFlags[i] ?? 0;
  if (secureOptions) out.secureOptions = secureOptions;
  return out;
}

const BY_IANA = new Map(CIPHER_SUITES.map((s) => [s[1], s]));
const BY_OPENSSL = new Map(CIPHER_SUITES.map((s) => [s[2], s]));
const BY_CODE = new Map(CIPHER_SUITES.map((s) => [s[0], s]));

/** IANA name of a cipher suite code (`0x1301` → `TLS_AES_128_GCM_SHA256`), or `0xXXXX` when unknown. */
export function cipherSuiteName(code: number): string {
  return BY_CODE.get(code)?.[1] ?? `0x${code.toString(16).padStart(4, '0').toUpperCase()}`;
}

/** IANA name for an OpenSSL cipher name (`ECDHE-RSA-AES128-GCM-SHA256` → `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`). */
export function ianaCipherName(openssl: string): string | undefined {
  return BY_OPENSSL.get(openssl)?.[1];
}

/** Bulk-cipher strength in bits of a suite given by IANA or OpenSSL name (0 when unknown). */
export function cipherStrength(name: string): number {
  return (BY_IANA.get(name) ?? BY_OPENSSL.get(name))?.[3] ?? 0;
}

/**
 * Translates SSLEnabledCipherSuites (IANA names, or OpenSSL names) into Node's `ciphers`
 * string (Node routes `TLS_AES_*` names to the TLS 1.3 list itself). `'*'` or empty returns
 * `undefined` (OpenSSL's defaults). Unknown names throw 273.
 */
export function cipherSuitesToOpenssl(suites: string): string | undefined {
  const list = suites
    .split(/[;,:\s]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0 || list.includes('*')) return undefined;
  const out: string[] = [];
  for (const name of list) {
    const entry = BY_IANA.get(name.toUpperCase()) ?? BY_OPENSSL.get(name.toUpperCase()) ?? BY_OPENSSL.get(name);
    if (!entry) throw new TlsError(TlsErrorCode.CannotAcquireCredentials, `unknown cipher suite ${name}`);
    out.push(entry[2]);
  }
  return out.join(':');
}

const GROUP_ALIASES: Readonly<Record<string, string>> = {
  ecdhe_secp256r1: 'P-256',
  secp256r1: 'P-256',
  prime256v1: 'P-256',
  ecdhe_secp384r1: 'P-384',
  secp384r1: 'P-384',
  ecdhe_secp521r1: 'P-521',
  secp521r1: 'P-521',
  x25519: 'X25519',
  ecdhe_x25519: 'X25519',
  x448: 'X448',
  ecdhe_x448: 'X448',
};

const listOf = (v: string | readonly string[]): string[] =>
  (typeof v === 'string' ? v.split(/[,:;\s]+/) : [...v]).map((s) => s.trim()).filter(Boolean);

/** TLS12/13SupportedGroups → Node `ecdhCurve` (`X25519:P-256`). */
export function groupsToEcdhCurve(groups: string | readonly string[]): string {
  return listOf(groups)
    .map((g) => GROUP_ALIASES[g.toLowerCase()] ?? g)
    .join(':');
}

/** Signature algorithm lists → Node `sigalgs`. `sha256-rsa` style names become `RSA+SHA256`. */
export function signatureAlgorithmsToSigalgs(algs: string | readonly string[]): string {
  return listOf(algs)
    .map((a) => {
      const m = a.match(/^(sha\d+|md5)-(rsa|ecdsa|dsa|rsapss)$/i);
      if (!m) return a;
      const alg = m[2]!.toLowerCase() === 'rsapss' ? 'RSA-PSS' : m[2]!.toUpperCase();
      return `${alg}+${m[1]!.toUpperCase()}`;
    })
    .join(':');
}

function pemList(input: PemInput | undefined): string[] {
  if (input === undefined) return [];
  const items = typeof input === 'string' || input instanceof Uint8Array ? [input] : [...input];
  const out: string[] = [];
  for (const item of items) {
    const text = typeof item === 'string' ? item : Buffer.from(item).toString('latin1');
    if (text.includes('-----BEGIN')) {
      for (const m of text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)) out.push(`${m[0]}\n`);
    } else if (typeof item !== 'string') {
      out.push(Certificate.fromDer(item).encoded);
    }
  }
  return out;
}

function readCaDir(dir: string): string[] {
  const out: string[] = [];
  for (const f of readdirSync(dir)) {
    if (/\.(pem|crt|cer)$|\.\d+$/.test(f)) out.push(...pemList(readFileSync(join(dir, f), 'latin1')));
  }
  return out;
}

/** Trust anchors from `trustedCaCerts`, `caFile`, `caDir` (+ Node's roots when asked). `undefined` = Node's default roots. */
export function trustAnchors(settings: TlsSettings, includeSystemRootsDefault: boolean): string[] | undefined {
  const own = [...pemList(settings.trustedCaCerts)];
  try {
    if (settings.caFile) own.push(...pemList(readFileSync(settings.caFile, 'latin1')));
    if (settings.caDir) own.push(...readCaDir(settings.caDir));
  } catch (err) {
    throw new TlsError(TlsErrorCode.CannotOpenStore, `cannot read CA certificates: ${(err as Error).message}`, { cause: err });
  }
  const system = settings.includeSystemRoots ?? includeSystemRootsDefault;
  if (own.length === 0) return system ? undefined : [];
  return system ? [...tls.rootCertificates, ...own] : own;
}

export interface SecureContextInput extends TlsSettings {
  /** Our certificate (server certificate, or the client certificate for mutual TLS). */
  certificate?: CertificateInput;
}

/**
 * Builds `tls.createSecureContext` options from the settings. `defaultProtocols` is the
 * component's SSLEnabledProtocols default; `side` picks the trust-anchor default.
 */
export function secureContextOptions(
  input: SecureContextInput,
  defaults: { side: 'server' | 'client'; protocols?: number | readonly TlsVersionName[] },
): tls.SecureContextOptions {
  const out: tls.SecureContextOptions = {};
  const protocols = input.enabledProtocols ?? defaults.protocols ?? SslProtocol.TLS1_2 | SslProtocol.TLS1_3;
  const p = protocolOptions(protocols);
  out.minVersion = p.minVersion;
  out.maxVersion = p.maxVersion;
  if (p.secureOptions) out.secureOptions = p.secureOptions;

  let ciphers = input.cipherSuites !== undefined ? cipherSuitesToOpenssl(input.cipherSuites) : undefined;
  if (ciphers === undefined && input.cipherList) ciphers = input.cipherList;
  // OpenSSL 3 refuses TLS 1.0/1.1 at the default security level; enabling them means lowering it.
  if (p.minVersion === 'TLSv1' || p.minVersion === 'TLSv1.1') ciphers = `${ciphers ?? tls.DEFAULT_CIPHERS}:@SECLEVEL=0`;
  if (ciphers !== undefined) out.ciphers = ciphers;

  if (input.supportedGroups !== undefined) out.ecdhCurve = groupsToEcdhCurve(input.supportedGroups);
  if (input.signatureAlgorithms !== undefined) out.sigalgs = signatureAlgorithmsToSigalgs(input.signatureAlgorithms);

  if (input.certificate !== undefined) {
    const cert = Certificate.from(input.certificate);
    const { cert: chainPem, key } = cert.toSecureContextOptions();
    out.cert = chainPem + pemList(input.caCerts).join('');
    out.key = key;
  }
  const ca = trustAnchors(input, defaults.side === 'client');
  if (ca !== undefined) out.ca = ca;
  return out;
}

/**
 * `tls.createSecureContext` with the settings; setting errors surface as {@link TlsError} 273
 * (OpenSSL rejects a cipher list or group it does not know only at this point).
 */
export function createSecureContext(
  input: SecureContextInput,
  defaults: { side: 'server' | 'client'; protocols?: number | readonly TlsVersionName[] },
): tls.SecureContext {
  const options = secureContextOptions(input, defaults);
  try {
    return tls.createSecureContext(options);
  } catch (err) {
    throw new TlsError(TlsErrorCode.CannotAcquireCredentials, `cannot create the TLS context: ${(err as Error).message}`, { cause: err });
  }
}

export interface ServerTlsInput extends SecureContextInput {
  certificate: CertificateInput;
  /** SSLAuthenticateClients: request a client certificate; the verdict event decides. */
  authenticateClients?: boolean;
  /** DefaultConnectionTimeout, in ms. */
  handshakeTimeoutMs?: number;
}

/**
 * Options for `tls.createServer` / `new tls.TLSSocket(socket, { isServer: true, ... })`.
 * Client certificates are requested but never rejected by OpenSSL (`rejectUnauthorized:
 * false`): the application's verdict handler decides, as the toolkit's
 * SSLClientAuthentication event does. Protocol default: TLS 1.2 only (the toolkit's server default).
 */
export function serverTlsOptions(input: ServerTlsInput): tls.TlsOptions {
  const options: tls.TlsOptions = {
    ...secureContextOptions(input, { side: 'server', protocols: SslProtocol.TLS1_2 }),
    requestCert: input.authenticateClients ?? false,
    rejectUnauthorized: false,
  };
  if (input.handshakeTimeoutMs !== undefined) options.handshakeTimeout = input.handshakeTimeoutMs;
  return options;
}

export interface ClientTlsInput extends SecureContextInput {
  /** SNI and the name the server certificate is checked against. */
  servername?: string;
}

/**
 * Options for `tls.connect`. `rejectUnauthorized` is false so the server-certificate verdict
 * (with pinning) decides; {@link serverCertificateVerdict} reads Node's result. Protocol
 * default: TLS 1.2 and 1.3.
 */
export function clientTlsOptions(input: ClientTlsInput): tls.ConnectionOptions {
  const options: tls.ConnectionOptions = {
    ...secureContextOptions(input, { side: 'client', protocols: SslProtocol.TLS1_2 | SslProtocol.TLS1_3 }),
    rejectUnauthorized: false,
  };
  if (input.servername !== undefined) options.servername = input.servername;
  return options;
}
