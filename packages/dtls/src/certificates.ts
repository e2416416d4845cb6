import { createHash, createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { AlertDescription } from './constants.js';
import { DtlsError } from './errors.js';

/** A certificate given as PEM text, DER bytes or an `X509Certificate`. */
export type CertificateInput = string | Uint8Array | X509Certificate;
/** A private key given as PEM text, DER (PKCS#8) bytes or a `KeyObject`. */
export type PrivateKeyInput = string | Uint8Array | KeyObject;
/** A public key given as PEM text, SPKI DER bytes or a `KeyObject` (public or private). */
export type PublicKeyInput = string | Uint8Array | KeyObject;

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Parses certificates from PEM bundles (text between blocks is allowed, as in an OpenSSL CA
 * file), DER buffers or `X509Certificate`s. Order is kept (leaf first for a chain).
 */
export function loadCertificates(input: CertificateInput | readonly CertificateInput[] | undefined): X509Certificate[] {
  if (input === undefined) return [];
  const items = Array.isArray(input) ? input : [input];
  const out: X509Certificate[] = [];
  for (const item of items as CertificateInput[]) {
    if (item instanceof X509Certificate) {
      out.push(item);
      continue;
    }
    const text = typeof item === 'string' ? item : looksLikePem(item) ? Buffer.from(item).toString('latin1') : undefined;
    try {
      if (text !== undefined) {
        const blocks = text.match(PEM_CERT);
        if (!blocks) throw new Error('no PEM CERTIFICATE block');
        for (const b of blocks) out.push(new X509Certificate(b));
      } else {
        out.push(new X509Certificate(Buffer.from(item as Uint8Array)));
      }
    } catch (err) {
      throw new DtlsError('ERR_DTLS_CREDENTIALS', `cannot parse certificate: ${(err as Error).message}`, undefined, { cause: err });
    }
  }
  return out;
}

function looksLikePem(b: Uint8Array): boolean {
  return Buffer.from(b.subarray(0, 64)).toString('latin1').includes('-----BEGIN');
}

export function loadPrivateKey(input: PrivateKeyInput): KeyObject {
  try {
    if (typeof input === 'string') return createPrivateKey(input);
    if (input instanceof Uint8Array) {
      return looksLikePem(input)
        ? createPrivateKey(Buffer.from(input).toString('latin1'))
        : createPrivateKey({ key: Buffer.from(input), format: 'der', type: 'pkcs8' });
    }
    if (input.type !== 'private') throw new Error(`a ${input.type} key is not a private key`);
    return input;
  } catch (err) {
    throw new DtlsError('ERR_DTLS_CREDENTIALS', `cannot load private key: ${(err as Error).message}`, undefined, { cause: err });
  }
}

export function loadPublicKey(input: PublicKeyInput): KeyObject {
  try {
    if (typeof input === 'string') return createPublicKey(input);
    if (input instanceof Uint8Array) {
      return looksLikePem(input)
        ? createPublicKey(Buffer.from(input).toString('latin1'))
        : createPublicKey({ key: Buffer.from(input), format: 'der', type: 'spki' });
    }
    return input.type === 'private' ? createPublicKey(input) : input;
  } catch (err) {
    throw new DtlsError('ERR_DTLS_CREDENTIALS', `cannot load public key: ${(err as Error).message}`, undefined, { cause: err });
  }
}

/** DER SubjectPublicKeyInfo of a key: exactly the RFC 7250 raw-public-key Certificate body. */
export function spkiOf(key: KeyObject): Buffer {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'der' });
}

/**
 * RFC 6920 named-information identity of a raw public key: `ni:///sha-256;<base64url>`
 * (RFC 7252 §9.1.3.2.1). `truncated` gives the `sha-256-120` form.
 */
export function rawPublicKeyIdentity(spki: Uint8Array, truncated = false): string {
  const h = createHash('sha256').update(spki).digest();
  return truncated ? `ni:///sha-256-120;${h.subarray(0, 15).toString('base64url')}` : `ni:///sha-256;${h.toString('base64url')}`;
}

/** The hash and TLS SignatureScheme for signing with `key` (ECDSA on P-256 or P-384). */
export function signingSchemeFor(key: KeyObject): { scheme: number; hash: 'sha256' | 'sha384' } {
  if (key.asymmetricKeyType !== 'ec')
    throw new DtlsError('ERR_DTLS_CREDENTIALS', `ECDSA suites need an EC key, got ${key.asymmetricKeyType}`);
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (curve === 'prime256v1') return { scheme: 0x0403, hash: 'sha256' };
  if (curve === 'secp384r1') return { scheme: 0x0503, hash: 'sha384' };
  throw new DtlsError('ERR_DTLS_CREDENTIALS', `unsupported EC curve ${curve}; use P-256 (RFC 7925) or P-384`);
}

/** Hash for a peer's SignatureScheme, or undefined if we do not accept it. */
export function hashForScheme(scheme: number): 'sha256' | 'sha384' | 'sha512' | undefined {
  switch (scheme) {
    case 0x0403:
    case 0x0401:
      return 'sha256';
    case 0x0503:
    case 0x0501:
      return 'sha384';
    case 0x0603:
    case 0x0601:
      return 'sha512';
    default:
      return undefined;
  }
}

/** The seed's `SSLSecurityFlags` relaxations that apply here (others are Windows CryptoAPI only). */
export const SecurityFlags = {
  /** 0x1: ignore notBefore/notAfter. */
  IgnoreTimeValidity: 0x1,
  /** 0x10: accept a chain that does not end at a trusted CA. */
  AllowUnknownCa: 0x10,
  /** 0x20: ignore CA flag and extended key usage problems. */
  IgnoreWrongUsage: 0x20,
  /** 0x80000000: ignore host name mismatch. */
  IgnoreCnMismatch: 0x80000000,
} as const;

export type CertificateStatusCode =
  | 'OK'
  | 'NO_CERTIFICATE'
  | 'EXPIRED'
  | 'NOT_YET_VALID'
  | 'SELF_SIGNED'
  | 'UNKNOWN_CA'
  | 'BAD_SIGNATURE'
  | 'NOT_A_CA'
  | 'WRONG_USAGE'
  | 'HOSTNAME_MISMATCH'
  | 'CHAIN_TOO_LONG'
  | 'UNTRUSTED_KEY';

export interface ValidationResult {
  ok: boolean;
  code: CertificateStatusCode;
  /** Human text for the seed's `Status` ("OK" or the reason). */
  status: string;
  /** The alert to send when the verdict stays negative. */
  alert: number;
  /** The verified path from the leaf towards the anchor. */
  path: X509Certificate[];
}

export interface ValidationOptions {
  /** Trust anchors. */
  ca: readonly X509Certificate[];
  /** `'server'` or `'client'`: which extended key usage the leaf needs. */
  purpose: 'server' | 'client';
  /** Host name or IP the leaf must match (client side, when a server name is known). */
  host?: string;
  /** `SecurityFlags` bits. */
  flags?: number;
  /** Validation time. Default now. */
  now?: Date;
  /** Longest path (leaf + intermediates + anchor). Default 8. */
  maxDepth?: number;
}

const EKU = { server: '1.3.6.1.5.5.7.3.1', client: '1.3.6.1.5.5.7.3.2', any: '2.5.29.37.0' };

const STATUS: Record<CertificateStatusCode, [string, number]> = {
  OK: ['OK', 0],
  NO_CERTIFICATE: ['no certificate presented', AlertDescription.HandshakeFailure],
  EXPIRED: ['certificate has expired', AlertDescription.CertificateExpired],
  NOT_YET_VALID: ['certificate is not yet valid', AlertDescription.BadCertificate],
  SELF_SIGNED: ['self-signed certificate is not trusted', AlertDescription.UnknownCa],
  UNKNOWN_CA: ['unable to get local issuer certificate', AlertDescription.UnknownCa],
  BAD_SIGNATURE: ['certificate signature failure', AlertDescription.BadCertificate],
  NOT_A_CA: ['issuer is not a CA certificate', AlertDescription.BadCertificate],
  WRONG_USAGE: ['unsupported certificate purpose', AlertDescription.UnsupportedCertificate],
  HOSTNAME_MISMATCH: ['host name mismatch', AlertDescription.CertificateUnknown],
  CHAIN_TOO_LONG: ['certificate chain too long', AlertDescription.BadCertificate],
  UNTRUSTED_KEY: ['raw public key is not trusted', AlertDescription.CertificateUnknown],
};

export function statusResult(code: CertificateStatusCode, path: X509Certificate[] = []): ValidationResult {
  const [status, alert] = STATUS[code];
  return { ok: code === 'OK', code, status, alert, path };
}

function issuedBy(child: X509Certificate, issuer: X509Certificate): 'yes' | 'no' | 'bad-signature' {
  if (!child.checkIssued(issuer)) return 'no';
  try {
    return child.verify(issuer.publicKey) ? 'yes' : 'bad-signature';
  } catch {
    return 'bad-signature';
  }
}

/**
 * Builds and checks a certification path (a subset of RFC 5280 §6: signatures, validity
 * periods, CA flag of issuers, extended key usage of the leaf, host name). `crypto.X509Certificate`
 * has no path builder, so the path is assembled here from the peer's chain and the anchors.
 * Revocation is not checked (RFC 7925 §4.4.3 leaves it optional).
 */
export function validateChain(chain: readonly X509Certificate[], options: ValidationOptions): ValidationResult {
  const flags = options.flags ?? 0;
  const leaf = chain[0];
  if (!leaf) return statusResult('NO_CERTIFICATE');
  const maxDepth = options.maxDepth ?? 8;
  const path: X509Certificate[] = [leaf];
  let current = leaf;
  let trusted = false;
  let failure: CertificateStatusCode | undefined;
  const anchors = options.ca;
  for (;;) {
    if (anchors.some((a) => a.fingerprint256 === current.fingerprint256)) {
      trusted = true;
      break;
    }
    let next: X509Certificate | undefined;
    for (const a of anchors) {
      const r = issuedBy(current, a);
      if (r === 'yes') {
        next = a;
        trusted = true;
        break;
      }
      if (r === 'bad-signature') failure = 'BAD_SIGNATURE';
    }
    if (!next) {
      for (const c of chain) {
        if (path.includes(c)) continue;
        const r = issuedBy(current, c);
        if (r === 'yes') {
          next = c;
          break;
        }
        if (r === 'bad-signature') failure = 'BAD_SIGNATURE';
      }
    }
    if (!next) break;
    if (!next.ca && !(flags & SecurityFlags.IgnoreWrongUsage)) return statusResult('NOT_A_CA', path);
    path.push(next);
    if (trusted) break;
    if (path.length >= maxDepth) return statusResult('CHAIN_TOO_LONG', path);
    current = next;
  }
  if (!trusted && !(flags & SecurityFlags.AllowUnknownCa)) {
    if (failure) return statusResult(failure, path);
    const last = path[path.length - 1]!;
    return statusResult(issuedBy(last, last) === 'yes' ? 'SELF_SIGNED' : 'UNKNOWN_CA', path);
  }
  if (!(flags & SecurityFlags.IgnoreTimeValidity)) {
    const now = (options.now ?? new Date()).getTime();
    for (const c of path) {
      if (now > Date.parse(c.validTo)) return statusResult('EXPIRED', path);
      if (now < Date.parse(c.validFrom)) return statusResult('NOT_YET_VALID', path);
    }
  }
  if (!(flags & SecurityFlags.IgnoreWrongUsage)) {
    const eku = leaf.keyUsage;
    if (eku?.length && !eku.includes(EKU[options.purpose]) && !eku.includes(EKU.any)) return statusResult('WRONG_USAGE', path);
  }
  if (options.host && !(flags & SecurityFlags.IgnoreCnMismatch)) {
    // RFC 7252 §9.1.3.3: no wildcard matching.
    const ok = isIP(options.host)
      ? leaf.checkIP(options.host) !== undefined
      : leaf.checkHost(options.host, { wildcards: false }) !== undefined;
    if (!ok) return statusResult('HOSTNAME_MISMATCH', path);
  }
  return statusResult('OK', path);
}
