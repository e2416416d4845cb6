/**
 * ClientHello reader (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2) for the toolkit's
 * SSLConnectionRequest event: a server peeks at the client's offer (cipher suites, signature
 * algorithms, SNI) before choosing the certificate for the connection. Bounded: the hello may
 * span several records but never more than `MAX_CLIENT_HELLO` bytes.
 */
import { TlsError, TlsErrorCode } from './errors.js';
import { cipherSuiteName } from './settings.js';

export const MAX_CLIENT_HELLO = 64 * 1024;

const SIGNATURE_SCHEMES: Readonly<Record<number, string>> = {
  513: 'rsa_pkcs1_sha1',
  514: 'dsa_sha1',
  515: 'ecdsa_sha1',
  769: 'rsa_pkcs1_sha224',
  770: 'dsa_sha224',
  771: 'ecdsa_sha224',
  1025: 'rsa_pkcs1_sha256',
  1026: 'dsa_sha256',
  1027: 'ecdsa_secp256r1_sha256',
  1281: 'rsa_pkcs1_sha384',
  1282: 'dsa_sha384',
  1283: 'ecdsa_secp384r1_sha384',
  1537: 'rsa_pkcs1_sha512',
  1538: 'dsa_sha512',
  1539: 'ecdsa_secp521r1_sha512',
  2052: 'rsa_pss_rsae_sha256',
  2053: 'rsa_pss_rsae_sha384',
  2054: 'rsa_pss_rsae_sha512',
  2055: 'ed25519',
  2056: 'ed448',
  2057: 'rsa_pss_pss_sha256',
  2058: 'rsa_pss_pss_sha384',
  2059: 'rsa_pss_pss_sha512',
  2074: 'ecdsa_brainpoolP256r1tls13_sha256',
  2075: 'ecdsa_brainpoolP384r1tls13_sha384',
  2076: 'ecdsa_brainpoolP512r1tls13_sha512',
};

/** IANA name of a SignatureScheme code, or `0xXXXX`. */
export function signatureSchemeName(code: number): string {
  return SIGNATURE_SCHEMES[code] ?? `0x${code.toString(16).padStart(4, '0')}`;
}

export interface ClientHelloInfo {
  /** `legacy_version` (0x0303 for TLS 1.2 and 1.3 hellos). */
  legacyVersion: number;
  cipherSuites: number[];
  /** IANA names of {@link cipherSuites} (GREASE and unknown values as `0xXXXX`). */
  cipherSuiteNames: string[];
  signatureAlgorithms: number[];
  signatureAlgorithmNames: string[];
  /** SNI host name, if sent. */
  serverName: string | undefined;
  /** supported_versions extension (TLS 1.3 clients). */
  supportedVersions: number[];
  supportedGroups: number[];
  alpnProtocols: string[];
}

function malformed(what: string): never {
  throw new TlsError(TlsErrorCode.HandshakeError, `malformed ClientHello: ${what}`);
}

class Reader {
  off = 0;
  constructor(readonly b: Buffer) {}
  need(n: number): void {
    if (this.off + n > this.b.length) malformed('truncated');
  }
  u8(): number {
    this.need(1);
    return this.b[this.off++]!;
  }
  u16(): number {
    this.need(2);
    const v = this.b.readUInt16BE(this.off);
    this.off += 2;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const v = this.b.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
}

function u16List(b: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < b.length; i += 2) out.push(b.readUInt16BE(i));
  return out;
}

/** Parses a ClientHello handshake message body (after the 4-byte handshake header). */
export function parseClientHelloBody(body: Buffer): ClientHelloInfo {
  const r = new Reader(body);
  const legacyVersion = r.u16();
  r.bytes(32); // random
  r.bytes(r.u8()); // legacy_session_id
  const suitesLen = r.u16();
  if (suitesLen % 2 !== 0) malformed('odd cipher_suites length');
  const cipherSuites = u16List(r.bytes(suitesLen));
  r.bytes(r.u8()); // compression methods
  const info: ClientHelloInfo = {
    legacyVersion,
    cipherSuites,
    cipherSuiteNames: cipherSuites.map(cipherSuiteName),
    signatureAlgorithms: [],
    signatureAlgorithmNames: [],
    serverName: undefined,
    supportedVersions: [],
    supportedGroups: [],
    alpnProtocols: [],
  };
  if (r.off === body.length) return info; // no extensions (old clients)
  const ext = new Reader(r.bytes(r.u16()));
  while (ext.off < ext.b.length) {
    const type = ext.u16();
    const data = ext.bytes(ext.u16());
    const d = new Reader(data);
    switch (type) {
      case 0x0000: {
        // server_name: list of (type u8, name<u16>)
        const list = new Reader(d.bytes(d.u16()));
        while (list.off < list.b.length) {
          const t = list.u8();
          const name = list.bytes(list.u16());
          if (t === 0) info.serverName = name.toString('latin1');
        }
        break;
      }
      case 0x000a:
        info.supportedGroups = u16List(d.bytes(d.u16()));
        break;
      case 0x000d:
        info.signatureAlgorithms = u16List(d.bytes(d.u16()));
        info.signatureAlgorithmNames = info.signatureAlgorithms.map(signatureSchemeName);
        break;
      case 0x0010: {
        const list = new Reader(d.bytes(d.u16()));
        while (list.off < list.b.length) info.alpnProtocols.push(list.bytes(list.u8()).toString('latin1'));
        break;
      }
      case 0x002b:
        info.supportedVersions = u16List(d.bytes(d.u8()));
        break;
      default:
        break;
    }
  }
  return info;
}

/**
 * Collects TLS records until a whole ClientHello is present. `push` returns the parsed hello
 * once complete, `undefined` while more bytes are needed, and throws {@link TlsError} 276 when
 * the bytes are not a TLS handshake or exceed {@link MAX_CLIENT_HELLO}.
 */
export class ClientHelloCollector {
  #buf: Buffer = Buffer.alloc(0);

  /** Every byte received so far (to hand to the TLS layer once the hello is read). */
  get bytes(): Buffer {
    return this.#buf;
  }

  push(chunk: Buffer): ClientHelloInfo | undefined {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    if (this.#buf.length > MAX_CLIENT_HELLO + 5 * 16) malformed('too large');
    // Reassemble the handshake bytes from consecutive handshake records.
    let off = 0;
    const parts: Buffer[] = [];
    let have = 0;
    while (off + 5 <= this.#buf.length) {
      const type = this.#buf[off]!;
      if (type !== 22) malformed('not a TLS handshake record (plaintext on a TLS port?)');
      const major = this.#buf[off + 1]!;
      if (major !== 3) malformed('bad record version');
      const len = this.#buf.readUInt16BE(off + 3);
      if (len === 0 || len > 16384 + 256) malformed('bad record length');
      if (off + 5 + len > this.#buf.length) break;
      parts.push(this.#buf.subarray(off + 5, off + 5 + len));
      have += len;
      off += 5 + len;
      if (have >= 4) {
        const hs = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        if (hs[0] !== 1) malformed('first handshake message is not a ClientHello');
        const bodyLen = hs.readUIntBE(1, 3);
        if (bodyLen > MAX_CLIENT_HELLO) malformed('too large');
        if (hs.length >= 4 + bodyLen) return parseClientHelloBody(hs.subarray(4, 4 + bodyLen));
      }
    }
    if (this.#buf.length >= 1 && this.#buf[0] !== 22) malformed('not a TLS handshake record (plaintext on a TLS port?)');
    return undefined;
  }
}
