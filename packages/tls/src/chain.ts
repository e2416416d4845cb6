/**
 * X.509 path validation with node:crypto's X509Certificate, for code that does its own
 * handshakes (DTLS) or must re-check a peer outside OpenSSL. Status strings are the OpenSSL
 * verify codes Node uses in `authorizationError`, so verdicts read the same either way.
 */
import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { parseNodeDate } from './format.js';
import { OID } from './oids.js';

export interface ChainVerifyOptions {
  /** Certificates the peer sent after its own (untrusted intermediates), any order. */
  intermediates?: ReadonlyArray<X509Certificate | string | Uint8Array>;
  /** Trust anchors. */
  trusted: ReadonlyArray<X509Certificate | string | Uint8Array>;
  /** Time to validate at. Default now. */
  at?: Date;
  /** Required extended key usage of the leaf, when it has the extension. */
  purpose?: 'server' | 'client';
  /** Host name or IP the leaf must be valid for. */
  host?: string;
  /** Longest chain accepted, leaf included. Default 10. */
  maxDepth?: number;
}

export interface ChainVerifyResult {
  ok: boolean;
  /** `'OK'` or an OpenSSL verify code such as `CERT_HAS_EXPIRED`, `UNABLE_TO_GET_ISSUER_CERT_LOCALLY`. */
  status: string;
  /** The path found, leaf first (ends at the anchor when `ok`). */
  chain: X509Certificate[];
}

const toX509 = (c: X509Certificate | string | Uint8Array): X509Certificate =>
  c instanceof X509Certificate ? c : new X509Certificate(typeof c === 'string' ? c : Buffer.from(c));

const same = (a: X509Certificate, b: X509Certificate): boolean => Buffer.compare(a.raw, b.raw) === 0;

function issuedBy(child: X509Certificate, parent: X509Certificate): 'yes' | 'name' | 'no' {
  if (!child.checkIssued(parent)) return 'no';
  try {
    return child.verify(parent.publicKey) ? 'yes' : 'name';
  } catch {
    return 'name';
  }
}

/** Validates `leaf` up to one of the trusted anchors. Never throws on bad certificates. */
export function verifyCertificateChain(leafInput: X509Certificate | string | Uint8Array, options: ChainVerifyOptions): ChainVerifyResult {
  const leaf = toX509(leafInput);
  const trusted = options.trusted.map(toX509);
  const pool = (options.intermediates ?? []).map(toX509);
  const at = (options.at ?? new Date()).getTime();
  const maxDepth = options.maxDepth ?? 10;
  const chain: X509Certificate[] = [leaf];
  const fail = (status: string): ChainVerifyResult => ({ ok: false, status, chain });

  let current = leaf;
  let anchored = false;
  while (!anchored) {
    if (trusted.some((t) => same(t, current))) {
      anchored = true;
      break;
    }
    let nameOnly = false;
    const anchor = trusted.find((t) => {
      const r = issuedBy(current, t);
      if (r === 'name') nameOnly = true;
      return r === 'yes';
    });
    if (anchor) {
      if (chain.length >= maxDepth) return fail('CERT_CHAIN_TOO_LONG');
      chain.push(anchor);
      anchored = true;
      break;
    }
    if (issuedBy(current, current) === 'yes') return fail(chain.length === 1 ? 'DEPTH_ZERO_SELF_SIGNED_CERT' : 'SELF_SIGNED_CERT_IN_CHAIN');
    const next = pool.find((c) => !chain.some((x) => same(x, c)) && issuedBy(current, c) === 'yes');
    if (!next) {
      if (nameOnly || pool.some((c) => issuedBy(current, c) === 'name')) return fail('CERT_SIGNATURE_FAILURE');
      return fail(chain.length === 1 ? 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' : 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY');
    }
    if (chain.length >= maxDepth) return fail('CERT_CHAIN_TOO_LONG');
    chain.push(next);
    current = next;
  }

  for (const c of chain) {
    if (parseNodeDate(c.validFrom).getTime() > at) return fail('CERT_NOT_YET_VALID');
    if (parseNodeDate(c.validTo).getTime() < at) return fail('CERT_HAS_EXPIRED');
  }
  // Every issuer must be a CA (an anchor that is the leaf itself is exempt).
  for (let i = 1; i < chain.length; i++) if (!chain[i]!.ca) return fail('INVALID_CA');
  if (options.purpose) {
    const eku = leaf.keyUsage;
    const want = options.purpose === 'server' ? OID.serverAuth : OID.clientAuth;
    if (eku && eku.length > 0 && !eku.includes(want) && !eku.includes('2.5.29.37.0')) return fail('INVALID_PURPOSE');
  }
  if (options.host !== undefined) {
    const ok = isIP(options.host) ? leaf.checkIP(options.host) !== undefined : leaf.checkHost(options.host) !== undefined;
    if (!ok) return fail('ERR_TLS_CERT_ALTNAME_INVALID');
  }
  return { ok: true, status: 'OK', chain };
}
