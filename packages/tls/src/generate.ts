/**
 * Certificate generation for demos and tests: keys from node:crypto (RSA, EC P-256/384/521,
 * Ed25519), certificates built with the small DER encoder and signed by node:crypto. One code
 * path for every key type; node-forge is not used here because it has no EC support.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import * as der from './der.js';
import { OID } from './oids.js';
import { parseDn } from './x509-fields.js';

export type KeyType = 'rsa' | 'ec' | 'ed25519';
export type NamedCurve = 'P-256' | 'P-384' | 'P-521';

export interface KeyOptions {
  /** Key algorithm. Default `'rsa'`. */
  keyType?: KeyType;
  /** RSA modulus size in bits. Default 2048. */
  keySize?: number;
  /** EC curve. Default `'P-256'`. */
  curve?: NamedCurve;
}

/** What a certificate is for: sets key usage, extended key usage and basic constraints. */
export type CertificateUsage = 'server' | 'client' | 'both' | 'ca';

export interface CertificateOptions extends KeyOptions {
  /** Subject common name. Default `'localhost'`. Ignored when `subject` is given. */
  commonName?: string;
  /** Full subject DN in the toolkit's syntax, e.g. `CN=device-7, O=Acme, C=DE`. */
  subject?: string;
  /** DNS names and IP addresses for subjectAltName. Default `['localhost', '127.0.0.1', '::1']`. */
  altNames?: string[];
  /** Validity in days from now (starts one minute in the past). Default 365. */
  days?: number;
  /** Explicit validity start (overrides the default). */
  notBefore?: Date;
  /** Explicit validity end (overrides `days`). */
  notAfter?: Date;
  /** Default: `'both'` for self-signed and issued certificates, `'ca'` for authorities. */
  usage?: CertificateUsage;
  /** Sign this existing private key's public half instead of generating a key (PEM or KeyObject). */
  key?: KeyObject | string;
}

export interface PemKeyPair {
  /** Certificate, PEM. */
  cert: string;
  /** Private key, PKCS#8 PEM. */
  key: string;
}

/** Generates a private key of the requested type. */
export function generatePrivateKey(options: KeyOptions = {}): KeyObject {
  const type = options.keyType ?? 'rsa';
  if (type === 'rsa') return generateKeyPairSync('rsa', { modulusLength: options.keySize ?? 2048 }).privateKey;
  if (type === 'ec') return generateKeyPairSync('ec', { namedCurve: options.curve ?? 'P-256' }).privateKey;
  return generateKeyPairSync('ed25519').privateKey;
}

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  // IPv6: expand '::' and an embedded dotted quad.
  let s = ip;
  const v4 = s.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    const b = ipBytes(v4[1]!);
    s = `${s.slice(0, -v4[1]!.length)}${b.readUInt16BE(0).toString(16)}:${b.readUInt16BE(2).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  for (let i = 0; i < groups.length; i++) out.writeUInt16BE(Number.parseInt(groups[i] || '0', 16), i * 2);
  return out;
}

function encodeName(dn: string): Buffer {
  const attrs = parseDn(dn).reverse();
  const oidOf: Record<string, string> = {
    CN: OID.commonName,
    C: OID.countryName,
    L: OID.localityName,
    S: OID.stateOrProvinceName,
    O: OID.organizationName,
    OU: OID.organizationalUnitName,
    E: OID.emailAddress,
  };
  return der.seq(
    ...attrs.map(([name, value]) => {
      const o = oidOf[name] ?? (/^\d+(\.\d+)+$/.test(name) ? name : undefined);
      if (!o) throw new RangeError(`unsupported DN attribute ${name}`);
      const v = name === 'C' ? der.printable(value) : name === 'E' ? der.ia5(value) : der.utf8(value);
      return der.set(der.seq(der.oid(o), v));
    }),
  );
}

function signatureParams(key: KeyObject): { algorithm: Buffer; hash: string | null } {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { algorithm: der.algorithm(OID.sha256WithRSAEncryption, der.nul()), hash: 'sha256' };
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'secp384r1') return { algorithm: der.algorithm(OID.ecdsaWithSha384), hash: 'sha384' };
      if (curve === 'secp521r1') return { algorithm: der.algorithm(OID.ecdsaWithSha512), hash: 'sha512' };
      return { algorithm: der.algorithm(OID.ecdsaWithSha256), hash: 'sha256' };
    }
    case 'ed25519':
      return { algorithm: der.algorithm(OID.ed25519), hash: null };
    default:
      throw new RangeError(`cannot sign with a ${key.asymmetricKeyType} key`);
  }
}

/** SHA-1 over the subjectPublicKey bits (RFC 5280 §4.2.1.2 method 1). */
function keyIdentifier(spki: Buffer): Buffer {
  const bits = der.children(der.read(spki))[1]!;
  return createHash('sha1').update(bits.content.subarray(1)).digest();
}

interface BuildInput {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  signingKey: KeyObject;
  issuerKeyId: Buffer | undefined;
  notBefore: Date;
  notAfter: Date;
  usage: CertificateUsage;
  altNames: string[];
  pathLength?: number;
  /** A self-signed end-entity certificate that must also serve as its own trust anchor. */
  anchor?: boolean;
}

function buildCertificate(input: BuildInput): Buffer {
  const spki = input.publicKey.export({ type: 'spki', format: 'der' });
  const ski = keyIdentifier(spki);
  const sig = signatureParams(input.signingKey);
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01; // positive and non-zero, 16 bytes

  const ext = (id: string, critical: boolean, value: Buffer) =>
    critical ? der.seq(der.oid(id), der.bool(true), der.octets(value)) : der.seq(der.oid(id), der.octets(value));
  const isCa = input.usage === 'ca';
  // Key usage bits: digitalSignature 0x80, keyEncipherment 0x20, keyCertSign 0x04, cRLSign 0x02.
  let ku = isCa ? 0x80 | 0x04 | 0x02 : 0x80;
  if (!isCa && input.publicKey.asymmetricKeyType === 'rsa') ku |= 0x20;
  // OpenSSL only treats a self-signed certificate as self-issued (a usable anchor) when it may sign certificates.
  if (input.anchor) ku |= 0x04;
  let unused = 0;
  while (unused < 7 && (ku & (1 << unused)) === 0) unused++;
  const extensions: Buffer[] = [
    ext(
      OID.basicConstraints,
      true,
      isCa || input.anchor ? der.seq(der.bool(true), ...(input.pathLength !== undefined ? [der.int(input.pathLength)] : [])) : der.seq(),
    ),
    ext(OID.keyUsage, true, der.bitString(Buffer.from([ku]), unused)),
    ext(OID.subjectKeyIdentifier, false, der.octets(ski)),
  ];
  if (input.issuerKeyId) extensions.push(ext(OID.authorityKeyIdentifier, false, der.seq(der.implicit(0, input.issuerKeyId))));
  if (!isCa) {
    const ekus =
      input.usage === 'server' ? [OID.serverAuth] : input.usage === 'client' ? [OID.clientAuth] : [OID.serverAuth, OID.clientAuth];
    extensions.push(ext(OID.extKeyUsage, false, der.seq(...ekus.map((o) => der.oid(o)))));
  }
  if (input.altNames.length > 0) {
    const names = input.altNames.map((n) =>
      isIPv4(n) || isIPv6(n) ? der.implicit(7, ipBytes(n)) : der.implicit(2, Buffer.from(n, 'latin1')),
    );
    extensions.push(ext(OID.subjectAltName, false, der.seq(...names)));
  }

  const tbs = der.seq(
    der.explicit(0, der.int(2)),
    der.int(serial),
    sig.algorithm,
    encodeName(input.issuer),
    der.seq(der.time(input.notBefore), der.time(input.notAfter)),
    encodeName(input.subject),
    spki,
    der.explicit(3, der.seq(...extensions)),
  );
  const signature = sign(sig.hash, tbs, input.signingKey);
  return der.seq(tbs, sig.algorithm, der.bitString(signature));
}

function toPem(derBytes: Buffer): string {
  const b64 = derBytes.toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}

function resolveKey(options: CertificateOptions): KeyObject {
  if (options.key === undefined) return generatePrivateKey(options);
  return typeof options.key === 'string' ? createPrivateKey(options.key) : options.key;
}

function validity(options: CertificateOptions): { notBefore: Date; notAfter: Date } {
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = options.notAfter ?? new Date(notBefore.getTime() + 60_000 + (options.days ?? 365) * 86_400_000);
  return { notBefore, notAfter };
}

const keyPem = (k: KeyObject): string => k.export({ type: 'pkcs8', format: 'pem' }) as string;

/**
 * Generates a self-signed certificate (RSA by default; `keyType: 'ec'` for P-256, as DTLS
 * tests need). The certificate is its own trust anchor: pass `cert` as `ca` to the peer.
 */
export function generateSelfSigned(options: CertificateOptions = {}): PemKeyPair {
  const key = resolveKey(options);
  const subject = options.subject ?? `CN=${options.commonName ?? 'localhost'}`;
  const { notBefore, notAfter } = validity(options);
  const certDer = buildCertificate({
    subject,
    issuer: subject,
    publicKey: createPublicKey(key),
    signingKey: key,
    issuerKeyId: undefined,
    notBefore,
    notAfter,
    // A self-signed certificate doubles as its own CA so OpenSSL accepts it as an anchor.
    usage: options.usage ?? 'both',
    altNames: options.altNames ?? ['localhost', '127.0.0.1', '::1'],
    anchor: true,
  });
  return { cert: toPem(certDer), key: keyPem(key) };
}

export interface AuthorityOptions extends KeyOptions {
  /** Subject common name. Default `'iotwire test CA'`. */
  commonName?: string;
  subject?: string;
  days?: number;
  notBefore?: Date;
  notAfter?: Date;
  /** basicConstraints pathLenConstraint. Unset = unlimited. */
  pathLength?: number;
}

/**
 * A small certificate authority for tests: issues server, client and intermediate
 * certificates. Mutual-TLS tests across the repository use it.
 */
export class CertificateAuthority implements PemKeyPair {
  readonly cert: string;
  readonly key: string;
  /** PEM certificates from this authority up to (excluding) the root, for building chains. */
  readonly chain: readonly string[];
  readonly #key: KeyObject;
  readonly #subject: string;
  readonly #keyId: Buffer;

  private constructor(cert: string, key: KeyObject, subject: string, chain: readonly string[]) {
    this.cert = cert;
    this.#key = key;
    this.key = keyPem(key);
    this.#subject = subject;
    this.chain = chain;
    this.#keyId = keyIdentifier(createPublicKey(key).export({ type: 'spki', format: 'der' }));
  }

  /** Creates a self-signed root authority. */
  static create(options: AuthorityOptions = {}): CertificateAuthority {
    const key = generatePrivateKey(options);
    const subject = options.subject ?? `CN=${options.commonName ?? 'iotwire test CA'}`;
    const { notBefore, notAfter } = validity({ days: options.days ?? 3650, notBefore: options.notBefore, notAfter: options.notAfter });
    const certDer = buildCertificate({
      subject,
      issuer: subject,
      publicKey: createPublicKey(key),
      signingKey: key,
      issuerKeyId: undefined,
      notBefore,
      notAfter,
      usage: 'ca',
      altNames: [],
      pathLength: options.pathLength,
    });
    return new CertificateAuthority(toPem(certDer), key, subject, []);
  }

  /** Issues an end-entity certificate (usage `'both'` unless told otherwise). */
  issue(options: CertificateOptions = {}): PemKeyPair {
    const key = resolveKey(options);
    const { notBefore, notAfter } = validity(options);
    const usage = options.usage ?? 'both';
    const certDer = buildCertificate({
      subject: options.subject ?? `CN=${options.commonName ?? 'localhost'}`,
      issuer: this.#subject,
      publicKey: createPublicKey(key),
      signingKey: this.#key,
      issuerKeyId: this.#keyId,
      notBefore,
      notAfter,
      usage,
      altNames: options.altNames ?? (usage === 'client' ? [] : ['localhost', '127.0.0.1', '::1']),
    });
    return { cert: toPem(certDer), key: keyPem(key) };
  }

  /** Issues an intermediate authority signed by this one. */
  intermediate(options: AuthorityOptions = {}): CertificateAuthority {
    const key = generatePrivateKey(options);
    const subject = options.subject ?? `CN=${options.commonName ?? 'iotwire test intermediate CA'}`;
    const { notBefore, notAfter } = validity({ days: options.days ?? 1825, notBefore: options.notBefore, notAfter: options.notAfter });
    const certDer = buildCertificate({
      subject,
      issuer: this.#subject,
      publicKey: createPublicKey(key),
      signingKey: this.#key,
      issuerKeyId: this.#keyId,
      notBefore,
      notAfter,
      usage: 'ca',
      altNames: [],
      pathLength: options.pathLength,
    });
    const cert = toPem(certDer);
    return new CertificateAuthority(cert, key, subject, [cert, ...this.chain]);
  }
}

export interface TestPkiOptions extends KeyOptions {
  /** Server certificate names. Default CN `localhost` with SANs localhost, 127.0.0.1, ::1. */
  server?: Pick<CertificateOptions, 'commonName' | 'altNames' | 'subject'>;
  /** Common names of the client certificates to issue. Default `['client']`. */
  clients?: string[];
}

export interface TestPki {
  ca: CertificateAuthority;
  server: PemKeyPair;
  /** Client certificates by common name. */
  clients: Record<string, PemKeyPair>;
  /** A second, unrelated authority with one client certificate it issued: for rejection tests. */
  rogue: { ca: CertificateAuthority; client: PemKeyPair };
}

/**
 * One call for mutual-TLS tests: a CA, a server certificate, client certificates, and a rogue
 * CA with a client certificate the real CA never issued.
 */
export function createTestPki(options: TestPkiOptions = {}): TestPki {
  const keys: KeyOptions = { keyType: options.keyType ?? 'ec', keySize: options.keySize, curve: options.curve };
  const ca = CertificateAuthority.create({ ...keys, commonName: 'iotwire test CA' });
  const server = ca.issue({ ...keys, ...options.server, usage: 'server' });
  const clients: Record<string, PemKeyPair> = {};
  for (const cn of options.clients ?? ['client']) clients[cn] = ca.issue({ ...keys, commonName: cn, usage: 'client' });
  const rogueCa = CertificateAuthority.create({ ...keys, commonName: 'iotwire rogue CA' });
  return { ca, server, clients, rogue: { ca: rogueCa, client: rogueCa.issue({ ...keys, commonName: 'rogue', usage: 'client' }) } };
}
