/**
 * A minimal DER (ASN.1) encoder and reader: enough to build X.509 certificates and PKCS#12
 * files with node:crypto keys (node-forge has no EC support) and to read the certificate
 * fields Node's X509Certificate does not expose (version, signature algorithm, key usage).
 */

/** Universal tags used here. */
export const Tag = {
  Boolean: 0x01,
  Integer: 0x02,
  BitString: 0x03,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Utf8String: 0x0c,
  PrintableString: 0x13,
  Ia5String: 0x16,
  UtcTime: 0x17,
  GeneralizedTime: 0x18,
  BmpString: 0x1e,
  Sequence: 0x30,
  Set: 0x31,
} as const;

function lengthBytes(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One TLV with the given tag byte and content. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), lengthBytes(content.length), content]);
}

export const seq = (...items: Uint8Array[]): Buffer => tlv(Tag.Sequence, Buffer.concat(items));
export const set = (...items: Uint8Array[]): Buffer => tlv(Tag.Set, Buffer.concat(items));
export const nul = (): Buffer => Buffer.from([Tag.Null, 0]);
export const bool = (v: boolean): Buffer => Buffer.from([Tag.Boolean, 1, v ? 0xff : 0]);
export const octets = (v: Uint8Array): Buffer => tlv(Tag.OctetString, v);
export const utf8 = (s: string): Buffer => tlv(Tag.Utf8String, Buffer.from(s, 'utf8'));
export const printable = (s: string): Buffer => tlv(Tag.PrintableString, Buffer.from(s, 'latin1'));
export const ia5 = (s: string): Buffer => tlv(Tag.Ia5String, Buffer.from(s, 'latin1'));

/** BMPString (UTF-16BE), used by PKCS#12 friendly names. */
export function bmp(s: string): Buffer {
  const b = Buffer.from(s, 'utf16le');
  b.swap16();
  return tlv(Tag.BmpString, b);
}

/** BIT STRING with `unused` trailing bits in the last byte. */
export const bitString = (v: Uint8Array, unused = 0): Buffer => tlv(Tag.BitString, Buffer.concat([Buffer.from([unused]), v]));

/** Context-specific constructed tag `[n]` (EXPLICIT wrapping). */
export const explicit = (n: number, content: Uint8Array): Buffer => tlv(0xa0 | n, content);

/** Context-specific primitive tag `[n]` (IMPLICIT primitive). */
export const implicit = (n: number, content: Uint8Array): Buffer => tlv(0x80 | n, content);

/** INTEGER from a non-negative number, bigint or big-endian magnitude. */
export function int(v: number | bigint | Uint8Array): Buffer {
  let bytes: Buffer;
  if (v instanceof Uint8Array) {
    bytes = Buffer.from(v);
  } else {
    let n = BigInt(v);
    if (n < 0n) throw new RangeError('negative INTEGER not supported');
    const out: number[] = [];
    do {
      out.unshift(Number(n & 0xffn));
      n >>= 8n;
    } while (n > 0n);
    bytes = Buffer.from(out);
  }
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0 && (bytes[i + 1]! & 0x80) === 0) i++;
  bytes = bytes.subarray(i);
  if (bytes.length === 0) bytes = Buffer.from([0]);
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
  return tlv(Tag.Integer, bytes);
}

/** OBJECT IDENTIFIER from dotted notation. */
export function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map((p) => BigInt(p));
  if (parts.length < 2) throw new RangeError(`bad OID ${dotted}`);
  const out: number[] = [Number(parts[0]! * 40n + parts[1]!)];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [];
    let v = p;
    do {
      chunk.unshift(Number(v & 0x7fn));
      v >>= 7n;
    } while (v > 0n);
    for (let i = 0; i < chunk.length - 1; i++) chunk[i]! |= 0x80;
    out.push(...chunk);
  }
  return tlv(Tag.Oid, Buffer.from(out));
}

/** UTCTime for 1950-2049, GeneralizedTime otherwise (RFC 5280 §4.1.2.5). */
export function time(d: Date): Buffer {
  const y = d.getUTCFullYear();
  const p = (n: number) => String(n).padStart(2, '0');
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(Tag.UtcTime, Buffer.from(`${p(y % 100)}${rest}`, 'latin1'));
  return tlv(Tag.GeneralizedTime, Buffer.from(`${String(y).padStart(4, '0')}${rest}`, 'latin1'));
}

/** AlgorithmIdentifier with optional parameters (omitted when undefined). */
export const algorithm = (dotted: string, params?: Uint8Array): Buffer => (params ? seq(oid(dotted), params) : seq(oid(dotted)));

// --- reading -------------------------------------------------------------------------------

/** A decoded TLV: `tag` is the full first byte; `content` is a view into the input. */
export interface Node {
  readonly tag: number;
  readonly content: Buffer;
  /** The whole TLV (header and content), a view into the input. */
  readonly raw: Buffer;
}

export class DerError extends Error {
  override readonly name = 'DerError';
  readonly code = 'ERR_DER';
}

/** Reads one TLV at `offset`. Only definite lengths (DER). */
export function read(buf: Buffer, offset = 0): Node & { end: number } {
  if (offset + 2 > buf.length) throw new DerError('truncated DER header');
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte tags are not supported');
  let len = buf[offset + 1]!;
  let p = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new DerError('unsupported DER length');
    if (p + n > buf.length) throw new DerError('truncated DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  const end = p + len;
  if (end > buf.length) throw new DerError('DER content runs past the end');
  return { tag, content: buf.subarray(p, end), raw: buf.subarray(offset, end), end };
}

/** The TLVs inside a constructed node's content. */
export function children(node: Node | Buffer): Node[] {
  const content = Buffer.isBuffer(node) ? node : (node as Node).content;
  const out: Node[] = [];
  let off = 0;
  while (off < content.length) {
    const n = read(content, off);
    out.push(n);
    off = n.end;
  }
  return out;
}

/** Dotted OID from an OBJECT IDENTIFIER node. */
export function readOid(node: Node): string {
  if (node.tag !== Tag.Oid) throw new DerError(`expected OID, got tag 0x${node.tag.toString(16)}`);
  const c = node.content;
  if (c.length === 0) throw new DerError('empty OID');
  const parts: bigint[] = [];
  let v = 0n;
  for (let i = 0; i < c.length; i++) {
    v = (v << 7n) | BigInt(c[i]! & 0x7f);
    if ((c[i]! & 0x80) === 0) {
      parts.push(v);
      v = 0n;
    }
  }
  const first = parts.shift() ?? 0n;
  const a = first < 40n ? 0n : first < 80n ? 1n : 2n;
  return [a, first - a * 40n, ...parts].join('.');
}

/** Non-negative INTEGER node as a bigint. */
export function readInt(node: Node): bigint {
  if (node.tag !== Tag.Integer) throw new DerError('expected INTEGER');
  let v = 0n;
  for (const b of node.content) v = (v << 8n) | BigInt(b);
  return v;
}
