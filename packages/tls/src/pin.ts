/**
 * Server-certificate pinning in the manner of the toolkit's SSLAcceptServerCert: accept the
 * peer certificate that matches, whatever the chain verification said.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { Certificate } from './certificate.js';
import { normalizeHex } from './format.js';

/**
 * `'*'` (accept any certificate), a fingerprint (MD5, SHA-1 or SHA-256 hex of the DER, colons
 * optional), the certificate itself (PEM text, DER bytes, X509Certificate or Certificate).
 */
export type CertificatePin = '*' | string | Uint8Array | X509Certificate | Certificate;

const HASH_BY_HEX_LENGTH: Readonly<Record<number, string>> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };

/** True when `cert` matches `pin` (or any of the pins). */
export function pinMatches(cert: X509Certificate | undefined, pin: CertificatePin | readonly CertificatePin[]): boolean {
  if (Array.isArray(pin)) return (pin as readonly CertificatePin[]).some((p) => pinMatches(cert, p));
  const p = pin as CertificatePin;
  if (p === '*') return true;
  if (!cert) return false;
  const raw = cert.raw;
  if (p instanceof Certificate) return Buffer.compare(p.x509.raw, raw) === 0;
  if (p instanceof X509Certificate) return Buffer.compare(p.raw, raw) === 0;
  if (p instanceof Uint8Array) return Buffer.compare(Buffer.from(p), raw) === 0;
  if (p.includes('-----BEGIN')) {
    try {
      return Buffer.compare(new X509Certificate(p).raw, raw) === 0;
    } catch {
      return false;
    }
  }
  const hex = normalizeHex(p);
  const algo = /^[0-9a-f]+$/.test(hex) ? HASH_BY_HEX_LENGTH[hex.length] : undefined;
  if (algo) return createHash(algo).update(raw).digest('hex') === hex;
  // Otherwise: base64 of the DER (the toolkit's Encoded without PEM armour).
  return Buffer.compare(Buffer.from(p.replace(/\s+/g, ''), 'base64'), raw) === 0;
}
