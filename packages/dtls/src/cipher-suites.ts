import { DtlsError } from './errors.js';

/** How the premaster secret is agreed and the server authenticated. */
export type KeyExchangeAlgorithm = 'PSK' | 'ECDHE_ECDSA' | 'ECDHE_PSK';
/** Record protection (all AEAD; DTLS here has no CBC suites). */
export type BulkCipher = 'AES_128_CCM_8' | 'AES_128_CCM' | 'AES_128_GCM' | 'CHACHA20_POLY1305';

export interface CipherSuite {
  /** IANA code point. */
  readonly id: number;
  /** IANA name, e.g. `TLS_PSK_WITH_AES_128_CCM_8`. */
  readonly name: string;
  /** OpenSSL's name, e.g. `PSK-AES128-CCM8` (tests and logs). */
  readonly openssl: string;
  readonly keyExchange: KeyExchangeAlgorithm;
  readonly cipher: BulkCipher;
  /** node:crypto cipher name. */
  readonly algorithm: 'aes-128-ccm' | 'aes-128-gcm' | 'chacha20-poly1305';
  readonly keyLength: number;
  /** Implicit (salt) IV bytes from the key block. */
  readonly fixedIvLength: number;
  /** Explicit nonce bytes carried in each record (8 for AES AEAD, 0 for ChaCha20, RFC 7905). */
  readonly recordIvLength: number;
  readonly tagLength: number;
  /** Bulk cipher strength in bits. */
  readonly strength: number;
}

function suite(id: number, name: string, openssl: string, keyExchange: KeyExchangeAlgorithm, cipher: BulkCipher): CipherSuite {
  const chacha = cipher === 'CHACHA20_POLY1305';
  return Object.freeze({
    id,
    name,
    openssl,
    keyExchange,
    cipher,
    algorithm: chacha ? 'chacha20-poly1305' : cipher === 'AES_128_GCM' ? 'aes-128-gcm' : 'aes-128-ccm',
    keyLength: chacha ? 32 : 16,
    fixedIvLength: chacha ? 12 : 4,
    recordIvLength: chacha ? 0 : 8,
    tagLength: cipher === 'AES_128_CCM_8' ? 8 : 16,
    strength: chacha ? 256 : 128,
  });
}

/**
 * Every suite this implementation speaks, in default preference order: the RFC 7252 / RFC 7925
 * mandatory CCM-8 suites first (tinydtls-class peers speak nothing else), then GCM, CCM and
 * ChaCha20-Poly1305. All use the SHA-256 PRF.
 */
export const CIPHER_SUITES: readonly CipherSuite[] = [
  suite(0xc0ae, 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8', 'ECDHE-ECDSA-AES128-CCM8', 'ECDHE_ECDSA', 'AES_128_CCM_8'),
  suite(0xc0a8, 'TLS_PSK_WITH_AES_128_CCM_8', 'PSK-AES128-CCM8', 'PSK', 'AES_128_CCM_8'),
  suite(0xc02b, 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE_ECDSA', 'AES_128_GCM'),
  suite(0x00a8, 'TLS_PSK_WITH_AES_128_GCM_SHA256', 'PSK-AES128-GCM-SHA256', 'PSK', 'AES_128_GCM'),
  suite(0xc0ac, 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM', 'ECDHE-ECDSA-AES128-CCM', 'ECDHE_ECDSA', 'AES_128_CCM'),
  suite(0xc0a4, 'TLS_PSK_WITH_AES_128_CCM', 'PSK-AES128-CCM', 'PSK', 'AES_128_CCM'),
  suite(0xccac, 'TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-PSK-CHACHA20-POLY1305', 'ECDHE_PSK', 'CHACHA20_POLY1305'),
  suite(0xcca9, 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE_ECDSA', 'CHACHA20_POLY1305'),
  suite(0xccab, 'TLS_PSK_WITH_CHACHA20_POLY1305_SHA256', 'PSK-CHACHA20-POLY1305', 'PSK', 'CHACHA20_POLY1305'),
];

const BY_ID = new Map(CIPHER_SUITES.map((s) => [s.id, s]));
const BY_NAME = new Map(CIPHER_SUITES.flatMap((s) => [[s.name.toUpperCase(), s] as const, [s.openssl.toUpperCase(), s] as const]));

export function cipherSuiteById(id: number): CipherSuite | undefined {
  return BY_ID.get(id);
}

/** Looks a suite up by IANA name (or OpenSSL name); case-insensitive. */
export function cipherSuiteByName(name: string): CipherSuite | undefined {
  return BY_NAME.get(name.trim().toUpperCase());
}

/** True for suites whose key exchange uses a pre-shared key. */
export function usesPsk(s: CipherSuite): boolean {
  return s.keyExchange === 'PSK' || s.keyExchange === 'ECDHE_PSK';
}
/** True for suites with an ephemeral ECDH exchange. */
export function usesEcdhe(s: CipherSuite): boolean {
  return s.keyExchange === 'ECDHE_ECDSA' || s.keyExchange === 'ECDHE_PSK';
}

/**
 * Resolves the seed's `SSLEnabledCipherSuites` form: `'*'` (all), a `;`/`,`-separated string of
 * IANA names, or an array. Unknown names are a configuration error rather than silently ignored,
 * and RC4 (forbidden in DTLS, RFC 6347 §4.1.2.3) is refused by name.
 */
export function resolveCipherSuites(spec: string | readonly string[] | undefined): CipherSuite[] {
  if (spec === undefined || spec === '*' || (Array.isArray(spec) && spec.length === 1 && spec[0] === '*')) return [...CIPHER_SUITES];
  const names = typeof spec === 'string' ? spec.split(/[;,:\s]+/) : [...spec];
  const out: CipherSuite[] = [];
  for (const raw of names) {
    if (!raw.trim()) continue;
    if (/RC4/i.test(raw)) throw new DtlsError('ERR_DTLS_CONFIG', `${raw}: RC4 must not be used with DTLS (RFC 6347 §4.1.2.3)`);
    const s = cipherSuiteByName(raw);
    if (!s)
      throw new DtlsError('ERR_DTLS_CONFIG', `unsupported cipher suite ${raw}; supported: ${CIPHER_SUITES.map((c) => c.name).join(', ')}`);
    if (!out.includes(s)) out.push(s);
  }
  if (out.length === 0) throw new DtlsError('ERR_DTLS_CONFIG', 'no cipher suites enabled');
  return out;
}
