/**
 * PKCS#12 (PFX): reading through node-forge (which also decrypts the legacy 3DES and RC2
 * bags that OpenSSL 3 no longer offers), and writing with node:crypto so any key type works
 * (node-forge cannot encode EC keys). Written files use the OpenSSL 3 defaults: PBES2 with
 * PBKDF2-HMAC-SHA256 and AES-256-CBC for the key, an HMAC-SHA256 MAC.
 */
import { createHash, createHmac, createPrivateKey, type KeyObject, randomBytes, X509Certificate } from 'node:crypto';
import forge from 'node-forge';
import * as der from './der.js';
import { TlsError, TlsErrorCode } from './errors.js';
import { OID } from './oids.js';

export interface Pkcs12Certificate {
  /** DER of the certificate. */
  der: Buffer;
  /** Hex of the localKeyId attribute, when present. */
  localKeyId?: string;
  friendlyName?: string;
}

export interface Pkcs12Key {
  /** Unencrypted PKCS#8 PrivateKeyInfo, DER. */
  pkcs8: Buffer;
  localKeyId?: string;
  friendlyName?: string;
}

export interface Pkcs12Contents {
  certificates: Pkcs12Certificate[];
  keys: Pkcs12Key[];
}

const binary = (s: string): Buffer => Buffer.from(s, 'binary');

function bagAttrs(bag: forge.pkcs12.Bag): { localKeyId?: string; friendlyName?: string } {
  const attrs = bag.attributes as Record<string, string[] | undefined>;
  const id = attrs.localKeyId?.[0];
  const name = attrs.friendlyName?.[0];
  return { ...(id !== undefined ? { localKeyId: binary(id).toString('hex') } : {}), ...(name !== undefined ? { friendlyName: name } : {}) };
}

/**
 * Decrypts a PKCS#12 file. `data` is the DER bytes (or their base64 text, as the toolkit's
 * PFX blob store accepts). Throws {@link TlsError} 271 on a malformed file or wrong password.
 */
export function readPkcs12(data: Uint8Array | string, password = ''): Pkcs12Contents {
  const bytes = typeof data === 'string' ? Buffer.from(data.replace(/\s+/g, ''), 'base64') : Buffer.from(data);
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(forge.asn1.fromDer(forge.util.createBuffer(bytes.toString('binary'))), false, password);
  } catch (err) {
    throw new TlsError(TlsErrorCode.CannotOpenStore, `cannot open PKCS#12 store: ${(err as Error).message}`, { cause: err });
  }
  const out: Pkcs12Contents = { certificates: [], keys: [] };
  for (const safe of p12.safeContents) {
    for (const bag of safe.safeBags) {
      const withAsn1 = bag as forge.pkcs12.Bag & { asn1?: forge.asn1.Asn1 };
      if (bag.type === forge.pki.oids.certBag) {
        // forge parses RSA certificates and keeps the raw ASN.1 of others (EC, Ed25519).
        const asn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : withAsn1.asn1;
        if (!asn1) continue;
        out.certificates.push({ der: binary(forge.asn1.toDer(asn1).getBytes()), ...bagAttrs(bag) });
      } else if (bag.type === forge.pki.oids.keyBag || bag.type === forge.pki.oids.pkcs8ShroudedKeyBag) {
        const asn1 = bag.key ? forge.pki.wrapRsaPrivateKey(forge.pki.privateKeyToAsn1(bag.key)) : withAsn1.asn1;
        if (!asn1) continue;
        out.keys.push({ pkcs8: binary(forge.asn1.toDer(asn1).getBytes()), ...bagAttrs(bag) });
      }
    }
  }
  return out;
}

/** RFC 7292 Appendix B.2 key derivation with SHA-256 (u = 32, v = 64). */
export function pkcs12Kdf(password: string, salt: Buffer, id: 1 | 2 | 3, iterations: number, size: number): Buffer {
  const u = 32;
  const v = 64;
  // Password as a NUL-terminated BMPString.
  const pw = Buffer.from(`${password}\0`, 'utf16le');
  pw.swap16();
  const fill = (src: Buffer): Buffer => {
    if (src.length === 0) return Buffer.alloc(0);
    const out = Buffer.alloc(v * Math.ceil(src.length / v));
    for (let i = 0; i < out.length; i++) out[i] = src[i % src.length]!;
    return out;
  };
  const D = Buffer.alloc(v, id);
  const I = Buffer.concat([fill(salt), fill(pw)]);
  const result: Buffer[] = [];
  for (let produced = 0; produced < size; produced += u) {
    let A = createHash('sha256').update(D).update(I).digest();
    for (let r = 1; r < iterations; r++) A = createHash('sha256').update(A).digest();
    result.push(A);
    const B = fill(A);
    for (let j = 0; j < I.length; j += v) {
      // I_j = (I_j + B + 1) mod 2^(8v)
      let carry = 1;
      for (let k = v - 1; k >= 0; k--) {
        const sum = I[j + k]! + B[k]! + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  return Buffer.concat(result).subarray(0, size);
}

export interface CreatePfxOptions {
  /** The certificate (PEM or DER); it is paired with `key`. */
  cert: string | Uint8Array;
  /** Its private key (PEM or KeyObject). Omit for a certificate-only store. */
  key?: string | KeyObject;
  /** Further certificates (intermediates, CA), PEM or DER. */
  chain?: ReadonlyArray<string | Uint8Array>;
  /** Store password. Default `''`. */
  password?: string;
  /** friendlyName attribute of the pair. */
  friendlyName?: string;
  /** PBKDF2 and MAC iteration count. Default 2048 (OpenSSL's default). */
  iterations?: number;
}

function certDer(c: string | Uint8Array): Buffer {
  return typeof c === 'string' ? Buffer.from(new X509Certificate(c).raw) : Buffer.from(c);
}

/**
 * Writes a PKCS#12 file (for tests and tooling). Any key type node:crypto knows works; OpenSSL,
 * Node's `tls` (`pfx` option) and {@link readPkcs12} read the result.
 */
export function createPfx(options: CreatePfxOptions): Buffer {
  const password = options.password ?? '';
  const iterations = options.iterations ?? 2048;
  const leaf = certDer(options.cert);
  const localKeyId = createHash('sha1').update(leaf).digest();
  const attrs = der.set(
    der.seq(der.oid(OID.localKeyId), der.set(der.octets(localKeyId))),
    ...(options.friendlyName !== undefined ? [der.seq(der.oid(OID.friendlyName), der.set(der.bmp(options.friendlyName)))] : []),
  );
  const certBag = (d: Buffer, withAttrs: boolean) =>
    der.seq(
      der.oid(OID.certBag),
      der.explicit(0, der.seq(der.oid(OID.x509Certificate), der.explicit(0, der.octets(d)))),
      ...(withAttrs ? [attrs] : []),
    );
  const dataInfo = (content: Buffer) => der.seq(der.oid(OID.data), der.explicit(0, der.octets(content)));

  const contents: Buffer[] = [
    dataInfo(der.seq(certBag(leaf, options.key !== undefined), ...(options.chain ?? []).map((c) => certBag(certDer(c), false)))),
  ];
  if (options.key !== undefined) {
    const key = typeof options.key === 'string' ? createPrivateKey(options.key) : options.key;
    const encrypted = key.export({ type: 'pkcs8', format: 'der', cipher: 'aes-256-cbc', passphrase: password });
    contents.push(dataInfo(der.seq(der.seq(der.oid(OID.pkcs8ShroudedKeyBag), der.explicit(0, encrypted), attrs))));
  }
  const authSafe = der.seq(...contents);
  const macSalt = randomBytes(8);
  const macKey = pkcs12Kdf(password, macSalt, 3, iterations, 32);
  const mac = createHmac('sha256', macKey).update(authSafe).digest();
  const macData = der.seq(der.seq(der.algorithm(OID.sha256, der.nul()), der.octets(mac)), der.octets(macSalt), der.int(iterations));
  return der.seq(der.int(3), dataInfo(authSafe), macData);
}
