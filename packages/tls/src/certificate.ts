/**
 * The Certificate type of the reference toolkit: a certificate (plus the chain that came with
 * it and, for server/client use, its private key) selected from a PEM or PKCS#12 store, with
 * the read-only fields the toolkit exposes. EC and Ed25519 keys work (node:crypto does the
 * key handling; node-forge only opens PKCS#12 containers).
 */
import { createHash, createPrivateKey, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as der from './der.js';
import { TlsError, TlsErrorCode } from './errors.js';
import { colonHex, formatCertDate, normalizeHex, parseNodeDate } from './format.js';
import { ALGORITHM_NAMES } from './oids.js';
import { readPkcs12 } from './pkcs12.js';
import { formatDn, parseDn, readX509Fields, usageText, type X509Fields } from './x509-fields.js';

/**
 * Certificate store types (the toolkit's CertStoreType numbers). Windows stores (0, 1), Java
 * keystores (4, 5) and the other exotic formats have no Node equivalent.
 */
export const CertStoreType = {
  PfxFile: 2,
  PfxBlob: 3,
  PemKeyFile: 6,
  PemKeyBlob: 7,
  PublicKeyFile: 8,
  PublicKeyBlob: 9,
  Auto: 99,
} as const;
export type CertStoreType = (typeof CertStoreType)[keyof typeof CertStoreType];
export type CertStoreTypeName = 'pfxFile' | 'pfxBlob' | 'pemKeyFile' | 'pemKeyBlob' | 'publicKeyFile' | 'publicKeyBlob' | 'auto';

const TYPE_BY_NAME: Record<CertStoreTypeName, CertStoreType> = {
  pfxFile: 2,
  pfxBlob: 3,
  pemKeyFile: 6,
  pemKeyBlob: 7,
  publicKeyFile: 8,
  publicKeyBlob: 9,
  auto: 99,
};

/** Where a certificate comes from: the toolkit's Store/StoreType/StorePassword/Subject quartet. */
export interface CertificateStore {
  storeType: CertStoreType | CertStoreTypeName;
  /** A file path for the `*File` types; the data (bytes, PEM text or base64 PFX) for the `*Blob` types. */
  store: string | Uint8Array;
  /** PFX password, or the passphrase of an encrypted PEM key. Default `''`. */
  storePassword?: string;
  /**
   * Which certificate to select: `'*'` (default) = the first one that has a private key (or
   * the first one in a public store); a DN such as `CN=server` = exact match first, then a
   * substring match; `Thumbprint=<md5|sha1|sha256 hex>`. No match throws 272.
   */
  subject?: string;
}

/** Anything the TLS options accept as a certificate: a loaded one, a store, or a PEM pair. */
export type CertificateInput =
  | Certificate
  | CertificateStore
  | { cert: string | Uint8Array; key?: string | Uint8Array | KeyObject; passphrase?: string };

interface Candidate {
  x509: X509Certificate;
  key?: KeyObject;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

/** All certificates in a PEM bundle (CA files, chains). */
export function parsePemCertificates(text: string | Uint8Array): X509Certificate[] {
  const s = typeof text === 'string' ? text : Buffer.from(text).toString('latin1');
  const out: X509Certificate[] = [];
  for (const m of s.matchAll(PEM_BLOCK)) {
    if (m[1] === 'CERTIFICATE' || m[1] === 'TRUSTED CERTIFICATE' || m[1] === 'X509 CERTIFICATE') out.push(new X509Certificate(m[0]));
  }
  return out;
}

function pemKeys(text: string, passphrase: string | undefined): KeyObject[] {
  const out: KeyObject[] = [];
  for (const m of text.matchAll(PEM_BLOCK)) {
    if (m[1]!.endsWith('PRIVATE KEY')) out.push(createPrivateKey({ key: m[0], format: 'pem', ...(passphrase ? { passphrase } : {}) }));
  }
  return out;
}

function pairKeys(certs: X509Certificate[], keys: KeyObject[]): Candidate[] {
  return certs.map((x509) => {
    const key = keys.find((k) => {
      try {
        return x509.checkPrivateKey(k);
      } catch {
        return false;
      }
    });
    return key ? { x509, key } : { x509 };
  });
}

function subjectOf(x: X509Certificate): string {
  return formatDn(readX509Fields(Buffer.from(x.raw)).subject);
}

const normDn = (dn: string): string =>
  parseDn(dn)
    .map(([n, v]) => `${n}=${v}`)
    .join(',')
    .toLowerCase();

/** Applies the toolkit's subject selection rules to the candidates. */
function select(candidates: Candidate[], selection: string): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  const sel = selection.trim();
  if (sel === '' || sel === '*') return candidates.find((c) => c.key) ?? candidates[0];
  const thumb = sel.match(/^thumbprint\s*=\s*(.+)$/i);
  if (thumb) {
    const want = normalizeHex(thumb[1]!);
    return candidates.find((c) => ['md5', 'sha1', 'sha256'].some((h) => createHash(h).update(c.x509.raw).digest('hex') === want));
  }
  let wanted: string;
  try {
    wanted = normDn(sel);
  } catch {
    wanted = sel.toLowerCase();
  }
  const exact = candidates.find((c) => normDn(subjectOf(c.x509)) === wanted);
  if (exact) return exact;
  const raw = sel.toLowerCase();
  return candidates.find((c) => {
    const s = subjectOf(c.x509).toLowerCase();
    return s.includes(raw) || normDn(s).includes(wanted);
  });
}

/** Orders the certificates that issued `leaf` (intermediates first), from the pool. */
function buildChain(leaf: X509Certificate, pool: X509Certificate[]): X509Certificate[] {
  const chain: X509Certificate[] = [];
  let current = leaf;
  for (let depth = 0; depth < 10; depth++) {
    if (current.checkIssued(current)) break; // self-signed: the chain ends here
    const issuer = pool.find((c) => c !== current && !chain.includes(c) && current.checkIssued(c) && current.verify(c.publicKey));
    if (!issuer) break;
    chain.push(issuer);
    current = issuer;
  }
  return chain;
}

function storeError(err: unknown, what: string): never {
  if (err instanceof TlsError) throw err;
  throw new TlsError(TlsErrorCode.CannotOpenStore, `cannot open ${what}: ${(err as Error).message}`, { cause: err });
}

/** An X.509 certificate with the chain it came with and, optionally, its private key. */
export class Certificate {
  readonly x509: X509Certificate;
  /** Certificates that issued this one, nearest first (sent along as the chain). */
  readonly chain: readonly X509Certificate[];
  /** The private key, when the store held one (required for server use). */
  readonly privateKey: KeyObject | undefined;
  #fields: X509Fields | undefined;
  #keyPem: string | undefined;

  constructor(x509: X509Certificate, options: { chain?: readonly X509Certificate[]; privateKey?: KeyObject } = {}) {
    this.x509 = x509;
    this.chain = options.chain ?? [];
    this.privateKey = options.privateKey;
    if (this.privateKey && !x509.checkPrivateKey(this.privateKey)) {
      throw new TlsError(TlsErrorCode.CertificateNotFound, 'the private key does not match the certificate');
    }
  }

  /**
   * From PEM text: one or more certificates, optionally with the private key in the same text
   * or given as `options.key`. The `subject` selection picks among several certificates.
   */
  static fromPem(
    pem: string | Uint8Array,
    options: { key?: string | Uint8Array | KeyObject; passphrase?: string; subject?: string } = {},
  ): Certificate {
    const text = typeof pem === 'string' ? pem : Buffer.from(pem).toString('latin1');
    let certs: X509Certificate[];
    let keys: KeyObject[];
    try {
      certs = parsePemCertificates(text);
      keys = pemKeys(text, options.passphrase);
      if (options.key !== undefined) {
        keys.push(
          typeof options.key === 'object' && 'asymmetricKeyType' in options.key
            ? (options.key as KeyObject)
            : createPrivateKey({ key: options.key as string | Buffer, ...(options.passphrase ? { passphrase: options.passphrase } : {}) }),
        );
      }
    } catch (err) {
      storeError(err, 'PEM store');
    }
    if (certs.length === 0) throw new TlsError(TlsErrorCode.CertificateNotFound, 'no certificate in the PEM data');
    return Certificate.#pick(pairKeys(certs, keys), certs, options.subject ?? '*');
  }

  /** From one DER certificate (public only unless a key is given). */
  static fromDer(bytes: Uint8Array, key?: KeyObject): Certificate {
    let x: X509Certificate;
    try {
      x = new X509Certificate(Buffer.from(bytes));
    } catch (err) {
      storeError(err, 'DER certificate');
    }
    return new Certificate(x, key ? { privateKey: key } : {});
  }

  /** From a PKCS#12 file's bytes (or base64). Throws 271 on a wrong password, 272 if nothing matches. */
  static fromPfx(data: Uint8Array | string, password = '', subject = '*'): Certificate {
    const contents = readPkcs12(data, password);
    let certs: X509Certificate[];
    let keys: KeyObject[];
    try {
      certs = contents.certificates.map((c) => new X509Certificate(c.der));
      keys = contents.keys.map((k) => createPrivateKey({ key: k.pkcs8, format: 'der', type: 'pkcs8' }));
    } catch (err) {
      storeError(err, 'PKCS#12 store');
    }
    if (certs.length === 0) throw new TlsError(TlsErrorCode.CertificateNotFound, 'no certificate in the PKCS#12 store');
    return Certificate.#pick(pairKeys(certs, keys), certs, subject);
  }

  /** Loads from a store description synchronously (file stores are read with readFileSync). */
  static fromStore(spec: CertificateStore): Certificate {
    const type = resolveType(spec.storeType);
    const isFile = type === 2 || type === 6 || type === 8 || (type === 99 && typeof spec.store === 'string' && !looksLikeData(spec.store));
    let data: string | Uint8Array = spec.store;
    if (isFile) {
      try {
        data = readFileSync(spec.store as string);
      } catch (err) {
        storeError(err, `certificate store ${String(spec.store)}`);
      }
    }
    return fromData(type, data, spec);
  }

  /** Loads from a store description; file stores are read asynchronously. */
  static async load(spec: CertificateStore): Promise<Certificate> {
    const type = resolveType(spec.storeType);
    const isFile = type === 2 || type === 6 || type === 8 || (type === 99 && typeof spec.store === 'string' && !looksLikeData(spec.store));
    if (!isFile) return fromData(type, spec.store, spec);
    let data: Buffer;
    try {
      data = await readFile(spec.store as string);
    } catch (err) {
      storeError(err, `certificate store ${String(spec.store)}`);
    }
    return fromData(type, data, spec);
  }

  /** Accepts any {@link CertificateInput}. */
  static from(input: CertificateInput): Certificate {
    if (input instanceof Certificate) return input;
    if ('storeType' in input) return Certificate.fromStore(input);
    const key = input.key;
    return Certificate.fromPem(input.cert, {
      ...(key !== undefined ? { key } : {}),
      ...(input.passphrase ? { passphrase: input.passphrase } : {}),
    });
  }

  static #pick(candidates: Candidate[], pool: X509Certificate[], subject: string): Certificate {
    const chosen = select(candidates, subject);
    if (!chosen) throw new TlsError(TlsErrorCode.CertificateNotFound, `no certificate matches subject "${subject}"`);
    return new Certificate(chosen.x509, { chain: buildChain(chosen.x509, pool), ...(chosen.key ? { privateKey: chosen.key } : {}) });
  }

  get #f(): X509Fields {
    this.#fields ??= readX509Fields(Buffer.from(this.x509.raw));
    return this.#fields;
  }

  /** PEM of the certificate (the toolkit's `Encoded`). */
  get encoded(): string {
    return this.x509.toString();
  }
  /** DER of the certificate (`EncodedB`). */
  get encodedB(): Buffer {
    return Buffer.from(this.x509.raw);
  }
  /** `CN=..., O=...` (most specific first). */
  get subject(): string {
    return formatDn(this.#f.subject);
  }
  get issuer(): string {
    return formatDn(this.#f.issuer);
  }
  get validFrom(): Date {
    return parseNodeDate(this.x509.validFrom);
  }
  get validTo(): Date {
    return parseNodeDate(this.x509.validTo);
  }
  /** `23-Jan-2000 15:00:00`, local time. */
  get effectiveDate(): string {
    return formatCertDate(this.validFrom);
  }
  get expirationDate(): string {
    return formatCertDate(this.validTo);
  }
  /** MD5 of the DER, lower-case hex with colons. */
  get fingerprint(): string {
    return colonHex(createHash('md5').update(this.x509.raw).digest());
  }
  get fingerprintSha1(): string {
    return colonHex(createHash('sha1').update(this.x509.raw).digest());
  }
  get fingerprintSha256(): string {
    return colonHex(createHash('sha256').update(this.x509.raw).digest());
  }
  /** MD5 of the DER, lower-case hex without separators. */
  get thumbprintMd5(): string {
    return createHash('md5').update(this.x509.raw).digest('hex');
  }
  get thumbprintSha1(): string {
    return createHash('sha1').update(this.x509.raw).digest('hex');
  }
  get thumbprintSha256(): string {
    return createHash('sha256').update(this.x509.raw).digest('hex');
  }
  /** Serial number, hex (two digits per byte). */
  get serialNumber(): string {
    return this.x509.serialNumber;
  }
  /** `V1`, `V2` or `V3`. */
  get version(): string {
    return `V${this.#f.version}`;
  }
  get signatureAlgorithm(): string {
    return this.#f.signatureAlgorithm;
  }
  /** SPKI public key, PEM. */
  get publicKey(): string {
    return this.x509.publicKey.export({ type: 'spki', format: 'pem' }) as string;
  }
  /** `rsaEncryption`, `ecPublicKey`, `ED25519`, ... */
  get publicKeyAlgorithm(): string {
    const spki = this.x509.publicKey.export({ type: 'spki', format: 'der' });
    const alg = der.children(der.children(der.read(spki))[0]!)[0]!;
    const o = der.readOid(alg);
    return ALGORITHM_NAMES[o] ?? o;
  }
  /** Key size in bits (RSA modulus, EC curve size, 256 for Ed25519). */
  get publicKeyLength(): number {
    const k = this.x509.publicKey;
    const d = k.asymmetricKeyDetails;
    if (d?.modulusLength) return d.modulusLength;
    const curve = d?.namedCurve;
    if (curve)
      return curve === 'prime256v1'
        ? 256
        : curve === 'secp384r1'
          ? 384
          : curve === 'secp521r1'
            ? 521
            : Number(curve.match(/\d+/)?.[0] ?? 0);
    return k.asymmetricKeyType === 'ed448' ? 456 : 256;
  }
  /** Key-usage bits (0x80 digital signature ... 0x01 encipher only); 0 when the extension is absent. */
  get usageFlags(): number {
    return this.#f.usageFlags;
  }
  /** Text form of {@link usageFlags}. */
  get usage(): string {
    return usageText(this.#f.usageFlags);
  }
  /** Comma-separated extended-key-usage OIDs. */
  get extendedKeyUsage(): string {
    return this.#f.extendedKeyUsage.join(',');
  }
  /** Comma-separated subjectAltName entries, as Node prints them (`DNS:localhost, IP Address:127.0.0.1`). */
  get subjectAltNames(): string {
    return this.x509.subjectAltName ?? '';
  }
  /** basicConstraints cA. */
  get isCa(): boolean {
    return this.#f.isCa;
  }
  get privateKeyAvailable(): boolean {
    return this.privateKey !== undefined;
  }
  /** PKCS#8 PEM of the private key, or `''` when there is none. */
  get privateKeyPem(): string {
    if (!this.privateKey) return '';
    this.#keyPem ??= this.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    return this.#keyPem;
  }

  /** The certificate followed by its chain, PEM (what `tls` wants as `cert`). */
  get certChainPem(): string {
    return [this.x509, ...this.chain].map((c) => c.toString()).join('');
  }

  /** `{ cert, key }` for `tls.createSecureContext`. Throws 272 when there is no private key. */
  toSecureContextOptions(): { cert: string; key: string } {
    if (!this.privateKey) throw new TlsError(TlsErrorCode.CertificateNotFound, `certificate "${this.subject}" has no private key`);
    return { cert: this.certChainPem, key: this.privateKeyPem };
  }

  /** The subject's public key as a KeyObject. */
  publicKeyObject(): KeyObject {
    return createPublicKey(this.x509.publicKey.export({ type: 'spki', format: 'pem' }));
  }
}

function resolveType(t: CertStoreType | CertStoreTypeName | number): CertStoreType {
  const n = typeof t === 'string' ? TYPE_BY_NAME[t as CertStoreTypeName] : t;
  if (n === undefined || ![2, 3, 6, 7, 8, 9, 99].includes(n)) {
    throw new TlsError(
      TlsErrorCode.CannotOpenStore,
      `certificate store type ${String(t)} is not supported in Node (Windows, Java, PKCS#11 and key-only stores have no equivalent); use a PFX or PEM store`,
    );
  }
  return n as CertStoreType;
}

function looksLikeData(s: string): boolean {
  return s.includes('-----BEGIN') || (s.length > 64 && /^[A-Za-z0-9+/=\s]+$/.test(s));
}

function fromData(type: CertStoreType, data: string | Uint8Array, spec: CertificateStore): Certificate {
  const subject = spec.subject ?? '*';
  const password = spec.storePassword ?? '';
  switch (type) {
    case 2:
    case 3:
      return Certificate.fromPfx(data, password, subject);
    case 6:
    case 7: {
      const c = Certificate.fromPem(data, { passphrase: password, subject });
      if (!c.privateKeyAvailable)
        throw new TlsError(TlsErrorCode.CertificateNotFound, 'the PEM key store holds no private key for the selected certificate');
      return c;
    }
    case 8:
    case 9: {
      const buf = typeof data === 'string' ? Buffer.from(data, 'latin1') : Buffer.from(data);
      if (buf.includes('-----BEGIN')) {
        return Certificate.fromPem(buf.toString('latin1'), { subject });
      }
      return Certificate.fromDer(buf);
    }
    default: {
      // Auto: PEM text, DER certificate, or PKCS#12.
      const buf =
        typeof data === 'string'
          ? data.includes('-----BEGIN')
            ? Buffer.from(data, 'latin1')
            : Buffer.from(data, 'base64')
          : Buffer.from(data);
      if (buf.includes('-----BEGIN')) return Certificate.fromPem(buf.toString('latin1'), { passphrase: password, subject });
      try {
        return Certificate.fromDer(new X509Certificate(buf).raw);
      } catch {
        return Certificate.fromPfx(buf, password, subject);
      }
    }
  }
}
