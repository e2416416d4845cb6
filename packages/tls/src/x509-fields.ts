/**
 * Reads the X.509 fields Node's `X509Certificate` does not expose (version, signature
 * algorithm, key-usage bits, basic constraints, key identifiers) and renders distinguished
 * names in the reference toolkit's comma syntax.
 */
import { children, DerError, type Node, read, readOid, Tag } from './der.js';
import { ALGORITHM_NAMES, DN_NAMES, OID } from './oids.js';

export interface DnAttribute {
  /** Dotted OID of the attribute type. */
  readonly oid: string;
  /** Short name (`CN`, `O`, ...) or the dotted OID when unknown. */
  readonly name: string;
  readonly value: string;
}

export interface X509Fields {
  /** 1, 2 or 3. */
  readonly version: number;
  readonly signatureAlgorithmOid: string;
  /** Name of the signature algorithm, or its OID when unknown. */
  readonly signatureAlgorithm: string;
  /** RDNs in encoded order (most significant first, usually `C` ... `CN`). */
  readonly subject: readonly DnAttribute[];
  readonly issuer: readonly DnAttribute[];
  /** Key-usage bits in the reference toolkit's layout (0x80 digital signature ... 0x01 encipher only; 0x8000 decipher only). */
  readonly usageFlags: number;
  readonly hasKeyUsage: boolean;
  readonly extendedKeyUsage: readonly string[];
  readonly isCa: boolean;
  readonly pathLength: number | undefined;
  readonly subjectKeyId: Buffer | undefined;
  readonly authorityKeyId: Buffer | undefined;
}

function decodeString(node: Node): string {
  switch (node.tag) {
    case Tag.Utf8String:
      return node.content.toString('utf8');
    case Tag.BmpString: {
      const b = Buffer.from(node.content);
      b.swap16();
      return b.toString('utf16le');
    }
    case 0x1c: {
      // UniversalString: UTF-32BE
      let s = '';
      for (let i = 0; i + 3 < node.content.length; i += 4) s += String.fromCodePoint(node.content.readUInt32BE(i));
      return s;
    }
    default:
      // PrintableString, IA5String, TeletexString, VisibleString, NumericString
      return node.content.toString('latin1');
  }
}

function readName(node: Node): DnAttribute[] {
  const out: DnAttribute[] = [];
  for (const rdn of children(node)) {
    for (const atv of children(rdn)) {
      const [type, value] = children(atv);
      if (!type || !value) throw new DerError('bad AttributeTypeAndValue');
      const o = readOid(type);
      out.push({ oid: o, name: DN_NAMES[o] ?? o, value: decodeString(value) });
    }
  }
  return out;
}

/** Parses a DER certificate's TBS fields. Throws {@link DerError} on malformed input. */
export function readX509Fields(der: Buffer): X509Fields {
  const cert = read(der);
  const [tbs, sigAlg] = children(cert);
  if (!tbs || !sigAlg) throw new DerError('not a certificate');
  const parts = children(tbs);
  let i = 0;
  let version = 1;
  if (parts[0]?.tag === 0xa0) {
    const v = children(parts[0])[0];
    version = v ? Number(v.content[v.content.length - 1] ?? 0) + 1 : 1;
    i = 1;
  }
  // serial, signature, issuer, validity, subject, spki
  const issuer = parts[i + 2];
  const subject = parts[i + 4];
  if (!issuer || !subject) throw new DerError('truncated TBSCertificate');
  const sigOid = readOid(children(sigAlg)[0]!);

  let usageFlags = 0;
  let hasKeyUsage = false;
  const eku: string[] = [];
  let isCa = false;
  let pathLength: number | undefined;
  let subjectKeyId: Buffer | undefined;
  let authorityKeyId: Buffer | undefined;
  const extWrapper = parts.slice(i + 6).find((p) => p.tag === 0xa3);
  if (extWrapper) {
    const list = children(extWrapper)[0];
    for (const ext of list ? children(list) : []) {
      const fields = children(ext);
      const id = readOid(fields[0]!);
      const value = fields[fields.length - 1]!.content;
      if (id === OID.keyUsage) {
        hasKeyUsage = true;
        const bits = read(value).content;
        usageFlags = (bits[1] ?? 0) | ((bits[2] ?? 0) << 8);
      } else if (id === OID.extKeyUsage) {
        for (const o of children(read(value))) eku.push(readOid(o));
      } else if (id === OID.basicConstraints) {
        for (const f of children(read(value))) {
          if (f.tag === Tag.Boolean) isCa = f.content[0] !== 0;
          else if (f.tag === Tag.Integer) pathLength = Number(f.content.readUIntBE(0, Math.min(f.content.length, 6)));
        }
      } else if (id === OID.subjectKeyIdentifier) {
        subjectKeyId = Buffer.from(read(value).content);
      } else if (id === OID.authorityKeyIdentifier) {
        const k = children(read(value)).find((f) => f.tag === 0x80);
        if (k) authorityKeyId = Buffer.from(k.content);
      }
    }
  }
  return {
    version,
    signatureAlgorithmOid: sigOid,
    signatureAlgorithm: ALGORITHM_NAMES[sigOid] ?? sigOid,
    subject: readName(subject),
    issuer: readName(issuer),
    usageFlags,
    hasKeyUsage,
    extendedKeyUsage: eku,
    isCa,
    pathLength,
    subjectKeyId,
    authorityKeyId,
  };
}

const USAGE_NAMES: ReadonlyArray<readonly [number, string]> = [
  [0x80, 'Digital Signature'],
  [0x40, 'Non-Repudiation'],
  [0x20, 'Key Encipherment'],
  [0x10, 'Data Encipherment'],
  [0x08, 'Key Agreement'],
  [0x04, 'Certificate Signing'],
  [0x02, 'CRL Signing'],
  [0x01, 'Encipher Only'],
  [0x8000, 'Decipher Only'],
];

/** Text form of key-usage flags, e.g. `Digital Signature, Key Encipherment`. */
export function usageText(flags: number): string {
  return USAGE_NAMES.filter(([bit]) => flags & bit)
    .map(([, name]) => name)
    .join(', ');
}

function quote(value: string): string {
  return /[,+="\\<>;#]|^\s|\s$/.test(value) ? `"${value.replace(/(["\\])/g, '\\$1')}"` : value;
}

/**
 * Renders a DN in the reference toolkit's syntax: `CN=..., O=..., C=...` (most specific
 * first, as Windows and RFC 4514 print it); values containing commas are quoted.
 */
export function formatDn(attrs: readonly DnAttribute[]): string {
  return [...attrs]
    .reverse()
    .map((a) => `${a.name}=${quote(a.value)}`)
    .join(', ');
}

/** Splits a DN string in that syntax into `[name, value]` pairs (quotes removed, names upper-cased). */
export function parseDn(dn: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = 0;
  while (i < dn.length) {
    while (dn[i] === ' ' || dn[i] === ',') i++;
    if (i >= dn.length) break;
    const eq = dn.indexOf('=', i);
    if (eq < 0) throw new RangeError(`bad distinguished name: ${dn}`);
    const name = dn.slice(i, eq).trim().toUpperCase();
    i = eq + 1;
    let value = '';
    if (dn[i] === '"') {
      i++;
      while (i < dn.length && dn[i] !== '"') {
        if (dn[i] === '\\' && i + 1 < dn.length) i++;
        value += dn[i++];
      }
      i++;
    } else {
      while (i < dn.length && dn[i] !== ',') {
        if (dn[i] === '\\' && i + 1 < dn.length) i++;
        value += dn[i++];
      }
      value = value.trim();
    }
    out.push([name === 'ST' ? 'S' : name === 'EMAILADDRESS' ? 'E' : name, value]);
  }
  return out;
}
