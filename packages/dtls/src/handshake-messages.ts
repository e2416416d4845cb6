import { ByteReader, ByteWriter } from './bytes.js';
import type { KeyExchangeAlgorithm } from './cipher-suites.js';
import { AlertDescription, HANDSHAKE_HEADER_SIZE } from './constants.js';
import { DtlsDecodeError, DtlsError } from './errors.js';
import { type Extension, parseExtensions, writeExtensions } from './extensions.js';

/** The 12-byte DTLS handshake header (RFC 6347 §4.2.2). */
export interface HandshakeHeader {
  type: number;
  /** Length of the whole message body. */
  length: number;
  messageSeq: number;
  fragmentOffset: number;
  fragmentLength: number;
}

export interface HandshakeFragment extends HandshakeHeader {
  /** The fragment bytes (a view into the record). */
  fragment: Buffer;
}

/** Reads every handshake fragment in a record's plaintext. */
export function readHandshakeFragments(plain: Buffer): HandshakeFragment[] {
  const out: HandshakeFragment[] = [];
  const r = new ByteReader(plain);
  while (r.remaining > 0) {
    const type = r.u8('handshake type');
    const length = r.u24('handshake length');
    const messageSeq = r.u16('message_seq');
    const fragmentOffset = r.u24('fragment_offset');
    const fragmentLength = r.u24('fragment_length');
    if (fragmentOffset + fragmentLength > length) throw new DtlsDecodeError('handshake fragment extends past the message length');
    const fragment = r.bytes(fragmentLength, 'handshake fragment');
    out.push({ type, length, messageSeq, fragmentOffset, fragmentLength, fragment });
  }
  return out;
}

export function writeHandshakeHeader(out: Buffer, offset: number, h: HandshakeHeader): void {
  out[offset] = h.type;
  out.writeUIntBE(h.length, offset + 1, 3);
  out.writeUInt16BE(h.messageSeq, offset + 4);
  out.writeUIntBE(h.fragmentOffset, offset + 6, 3);
  out.writeUIntBE(h.fragmentLength, offset + 9, 3);
}

/** A whole message in its unfragmented form: what the handshake hash covers (RFC 6347 §4.2.6). */
export function encodeUnfragmented(type: number, messageSeq: number, body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HANDSHAKE_HEADER_SIZE + body.length);
  writeHandshakeHeader(out, 0, { type, length: body.length, messageSeq, fragmentOffset: 0, fragmentLength: body.length });
  out.set(body, HANDSHAKE_HEADER_SIZE);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Hello messages

export interface ClientHello {
  version: number;
  random: Buffer;
  sessionId: Buffer;
  cookie: Buffer;
  cipherSuites: number[];
  compressionMethods: number[];
  extensions: Extension[];
}

export function encodeClientHello(m: ClientHello): Buffer {
  const w = new ByteWriter(256);
  w.u16(m.version).bytes(m.random).vector(1, m.sessionId).vector(1, m.cookie);
  w.block(2, (b) => {
    for (const s of m.cipherSuites) b.u16(s);
  });
  w.vector(1, Buffer.from(m.compressionMethods));
  writeExtensions(w, m.extensions);
  return w.finish();
}

export function decodeClientHello(body: Buffer): ClientHello {
  const r = new ByteReader(body);
  const version = r.u16('client_version');
  const random = r.bytes(32, 'random');
  const sessionId = r.vector(1, 'session_id', 0, 32);
  const cookie = r.vector(1, 'cookie', 0, 255);
  const suites = r.sub(2, 'cipher_suites', 2);
  if (suites.remaining % 2 !== 0) throw new DtlsDecodeError('cipher_suites: odd length');
  const cipherSuites: number[] = [];
  while (suites.remaining > 0) cipherSuites.push(suites.u16());
  const compressionMethods = [...r.vector(1, 'compression_methods', 1)];
  const extensions = parseExtensions(r);
  r.end('ClientHello');
  return { version, random, sessionId, cookie, cipherSuites, compressionMethods, extensions };
}

export interface ServerHello {
  version: number;
  random: Buffer;
  sessionId: Buffer;
  cipherSuite: number;
  compressionMethod: number;
  extensions: Extension[];
}

export function encodeServerHello(m: ServerHello): Buffer {
  const w = new ByteWriter(128);
  w.u16(m.version).bytes(m.random).vector(1, m.sessionId).u16(m.cipherSuite).u8(m.compressionMethod);
  writeExtensions(w, m.extensions);
  return w.finish();
}

export function decodeServerHello(body: Buffer): ServerHello {
  const r = new ByteReader(body);
  const version = r.u16('server_version');
  const random = r.bytes(32, 'random');
  const sessionId = r.vector(1, 'session_id', 0, 32);
  const cipherSuite = r.u16('cipher_suite');
  const compressionMethod = r.u8('compression_method');
  const extensions = parseExtensions(r);
  r.end('ServerHello');
  return { version, random, sessionId, cipherSuite, compressionMethod, extensions };
}

export interface HelloVerifyRequest {
  version: number;
  cookie: Buffer;
}

export function encodeHelloVerifyRequest(m: HelloVerifyRequest): Buffer {
  return new ByteWriter(3 + m.cookie.length).u16(m.version).vector(1, m.cookie).finish();
}

export function decodeHelloVerifyRequest(body: Buffer): HelloVerifyRequest {
  const r = new ByteReader(body);
  const version = r.u16('server_version');
  const cookie = r.vector(1, 'cookie', 0, 255);
  r.end('HelloVerifyRequest');
  return { version, cookie };
}

// ---------------------------------------------------------------------------------------------
// Certificate (X.509 list, RFC 5246 §7.4.2; raw public key, RFC 7250 §3)

export function encodeCertificateList(chain: readonly Uint8Array[]): Buffer {
  const w = new ByteWriter(64 + chain.reduce((n, c) => n + c.length + 3, 0));
  w.block(3, (b) => {
    for (const c of chain) b.vector(3, c);
  });
  return w.finish();
}

export function decodeCertificateList(body: Buffer): Buffer[] {
  const r = new ByteReader(body);
  const list = r.sub(3, 'certificate_list');
  r.end('Certificate');
  const out: Buffer[] = [];
  while (list.remaining > 0) out.push(list.vector(3, 'ASN.1Cert', 1));
  return out;
}

export function encodeRawPublicKey(spki: Uint8Array): Buffer {
  return new ByteWriter(spki.length + 3).vector(3, spki).finish();
}

/**
 * Decodes an RFC 7250 Certificate body (one SubjectPublicKeyInfo). Some stacks wrap it like an
 * X.509 list with a second length; that form is accepted too. An empty body means "no key".
 */
export function decodeRawPublicKey(body: Buffer): Buffer | undefined {
  const r = new ByteReader(body);
  const spki = r.vector(3, 'ASN.1_subjectPublicKeyInfo');
  r.end('Certificate');
  if (spki.length === 0) return undefined;
  if (spki[0] !== 0x30 && spki.length > 3 && spki.readUIntBE(0, 3) === spki.length - 3) return spki.subarray(3);
  return spki;
}

// ---------------------------------------------------------------------------------------------
// ServerKeyExchange (RFC 8422 §5.4, RFC 4279 §2, RFC 5489 §2)

export interface EcdhParams {
  namedCurve: number;
  publicKey: Buffer;
  /** The raw ServerECDHParams bytes (signed over in ECDHE_ECDSA). */
  raw: Buffer;
}

export interface ServerKeyExchange {
  hint?: Buffer;
  ecdh?: EcdhParams;
  /** For ECDHE_ECDSA: the signature scheme and DER signature. */
  signatureScheme?: number;
  signature?: Buffer;
}

export function encodeEcdhParams(namedCurve: number, publicKey: Uint8Array): Buffer {
  return new ByteWriter(4 + publicKey.length).u8(3).u16(namedCurve).vector(1, publicKey).finish();
}

function readEcdhParams(r: ByteReader): EcdhParams {
  const start = r.offset;
  const curveType = r.u8('curve_type');
  if (curveType !== 3)
    throw new DtlsError('ERR_DTLS_HANDSHAKE_FAILURE', `curve_type ${curveType} is not named_curve`, AlertDescription.IllegalParameter);
  const namedCurve = r.u16('named_curve');
  const publicKey = r.vector(1, 'ECPoint', 1);
  return { namedCurve, publicKey, raw: r.buf.subarray(start, r.offset) };
}

export function encodeServerKeyExchange(kx: KeyExchangeAlgorithm, m: ServerKeyExchange): Buffer {
  const w = new ByteWriter(160);
  if (kx === 'PSK' || kx === 'ECDHE_PSK') w.vector(2, m.hint ?? Buffer.alloc(0));
  if (kx !== 'PSK') w.bytes(m.ecdh!.raw);
  if (kx === 'ECDHE_ECDSA') w.u16(m.signatureScheme!).vector(2, m.signature!);
  return w.finish();
}

export function decodeServerKeyExchange(kx: KeyExchangeAlgorithm, body: Buffer): ServerKeyExchange {
  const r = new ByteReader(body);
  const out: ServerKeyExchange = {};
  if (kx === 'PSK' || kx === 'ECDHE_PSK') out.hint = r.vector(2, 'psk_identity_hint');
  if (kx !== 'PSK') out.ecdh = readEcdhParams(r);
  if (kx === 'ECDHE_ECDSA') {
    out.signatureScheme = r.u16('signature_algorithm');
    out.signature = r.vector(2, 'signature', 1);
  }
  r.end('ServerKeyExchange');
  return out;
}

// ---------------------------------------------------------------------------------------------
// CertificateRequest (RFC 5246 §7.4.4)

export interface CertificateRequest {
  certificateTypes: number[];
  signatureSchemes: number[];
  authorities: Buffer[];
}

export function encodeCertificateRequest(m: CertificateRequest): Buffer {
  const w = new ByteWriter(64);
  w.vector(1, Buffer.from(m.certificateTypes));
  w.block(2, (b) => {
    for (const s of m.signatureSchemes) b.u16(s);
  });
  w.block(2, (b) => {
    for (const a of m.authorities) b.vector(2, a);
  });
  return w.finish();
}

export function decodeCertificateRequest(body: Buffer): CertificateRequest {
  const r = new ByteReader(body);
  const certificateTypes = [...r.vector(1, 'certificate_types', 1)];
  const algs = r.sub(2, 'supported_signature_algorithms', 2);
  if (algs.remaining % 2 !== 0) throw new DtlsDecodeError('supported_signature_algorithms: odd length');
  const signatureSchemes: number[] = [];
  while (algs.remaining > 0) signatureSchemes.push(algs.u16());
  const cas = r.sub(2, 'certificate_authorities');
  const authorities: Buffer[] = [];
  while (cas.remaining > 0) authorities.push(cas.vector(2, 'DistinguishedName', 1));
  r.end('CertificateRequest');
  return { certificateTypes, signatureSchemes, authorities };
}

// ---------------------------------------------------------------------------------------------
// ClientKeyExchange

export interface ClientKeyExchange {
  identity?: Buffer;
  publicKey?: Buffer;
}

export function encodeClientKeyExchange(kx: KeyExchangeAlgorithm, m: ClientKeyExchange): Buffer {
  const w = new ByteWriter(128);
  if (kx === 'PSK' || kx === 'ECDHE_PSK') w.vector(2, m.identity!);
  if (kx !== 'PSK') w.vector(1, m.publicKey!);
  return w.finish();
}

export function decodeClientKeyExchange(kx: KeyExchangeAlgorithm, body: Buffer): ClientKeyExchange {
  const r = new ByteReader(body);
  const out: ClientKeyExchange = {};
  // RFC 4279 §5.3: identities up to 128 bytes MUST be supported; 2^16-1 is the wire limit.
  if (kx === 'PSK' || kx === 'ECDHE_PSK') out.identity = r.vector(2, 'psk_identity');
  if (kx !== 'PSK') out.publicKey = r.vector(1, 'ECPoint', 1);
  r.end('ClientKeyExchange');
  return out;
}

// ---------------------------------------------------------------------------------------------
// CertificateVerify (RFC 5246 §7.4.8) and Finished

export interface DigitallySigned {
  scheme: number;
  signature: Buffer;
}

export function encodeDigitallySigned(m: DigitallySigned): Buffer {
  return new ByteWriter(4 + m.signature.length).u16(m.scheme).vector(2, m.signature).finish();
}

export function decodeDigitallySigned(body: Buffer): DigitallySigned {
  const r = new ByteReader(body);
  const scheme = r.u16('signature_algorithm');
  const signature = r.vector(2, 'signature', 1);
  r.end('CertificateVerify');
  return { scheme, signature };
}

export function decodeFinished(body: Buffer): Buffer {
  if (body.length !== 12) throw new DtlsDecodeError(`Finished verify_data must be 12 bytes, got ${body.length}`);
  return body;
}
