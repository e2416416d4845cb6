import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader } from '../src/bytes.js';
import { ExtensionType } from '../src/constants.js';
import { DtlsDecodeError, DtlsError } from '../src/errors.js';
import { ext, parseExtensions } from '../src/extensions.js';
import {
  decodeCertificateList,
  decodeCertificateRequest,
  decodeClientHello,
  decodeClientKeyExchange,
  decodeDigitallySigned,
  decodeFinished,
  decodeHelloVerifyRequest,
  decodeRawPublicKey,
  decodeServerHello,
  decodeServerKeyExchange,
  encodeCertificateList,
  encodeCertificateRequest,
  encodeClientHello,
  encodeClientKeyExchange,
  encodeDigitallySigned,
  encodeEcdhParams,
  encodeHelloVerifyRequest,
  encodeRawPublicKey,
  encodeServerHello,
  encodeServerKeyExchange,
  encodeUnfragmented,
  readHandshakeFragments,
} from '../src/handshake-messages.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('handshake header (RFC 6347 §4.2.2)', () => {
  it('is 12 bytes: type, length(3), message_seq(2), fragment_offset(3), fragment_length(3)', () => {
    expect(encodeUnfragmented(20, 0x0304, Buffer.alloc(12, 0xaa)).toString('hex')).toBe(
      `14 00000c 0304 000000 00000c`.replace(/ /g, '') + 'aa'.repeat(12),
    );
  });

  it('reads several fragments from one record', () => {
    const rec = hex('0b 000010 0002 000000 000004 01020304  0b 000010 0002 000004 000002 0506');
    const f = readHandshakeFragments(rec);
    expect(f.map((x) => [x.type, x.length, x.messageSeq, x.fragmentOffset, x.fragmentLength])).toEqual([
      [11, 16, 2, 0, 4],
      [11, 16, 2, 4, 2],
    ]);
  });

  const malformed: [string, string][] = [
    ['short header', '01 000001 0000 0000'],
    ['fragment past the message length', '01 000002 0000 000001 000002 aabb'],
    ['fragment body cut short', '01 000004 0000 000000 000004 aabb'],
  ];
  for (const [name, bytes] of malformed) {
    it(`rejects ${name}`, () => expect(() => readHandshakeFragments(hex(bytes))).toThrow(DtlsDecodeError));
  }
});

describe('hello messages', () => {
  it('encodes a ClientHello byte-exactly', () => {
    const body = encodeClientHello({
      version: 0xfefd,
      random: Buffer.alloc(32, 0x11),
      sessionId: Buffer.alloc(0),
      cookie: Buffer.from([0xc0, 0x0c]),
      cipherSuites: [0xc0a8],
      compressionMethods: [0],
      extensions: [ext.extendedMasterSecret()],
    });
    expect(body.toString('hex')).toBe(`fefd${'11'.repeat(32)}00 02c00c 0002c0a8 0100 0004 0017 0000`.replace(/ /g, ''));
  });

  it('encodes a HelloVerifyRequest as version 1.0 + cookie', () => {
    expect(encodeHelloVerifyRequest({ version: 0xfeff, cookie: Buffer.from([1, 2, 3]) }).toString('hex')).toBe('feff03010203');
    expect(decodeHelloVerifyRequest(hex('feff03010203')).cookie).toEqual(Buffer.from([1, 2, 3]));
  });

  const arbExts = fc.uniqueArray(
    fc.record({ type: fc.integer({ min: 0, max: 65535 }), data: fc.uint8Array({ maxLength: 20 }).map((u) => Buffer.from(u)) }),
    {
      selector: (e) => e.type,
      maxLength: 5,
    },
  );

  it('round-trips ClientHello and ServerHello', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ maxLength: 32 }),
        fc.uint8Array({ maxLength: 255 }),
        fc.array(fc.integer({ min: 0, max: 65535 }), { minLength: 1, maxLength: 20 }),
        arbExts,
        (random, sid, cookie, suites, extensions) => {
          const ch = {
            version: 0xfefd,
            random: Buffer.from(random),
            sessionId: Buffer.from(sid),
            cookie: Buffer.from(cookie),
            cipherSuites: suites,
            compressionMethods: [0],
            extensions,
          };
          expect(decodeClientHello(encodeClientHello(ch))).toEqual(ch);
          const sh = {
            version: 0xfefd,
            random: Buffer.from(random),
            sessionId: Buffer.from(sid),
            cipherSuite: suites[0]!,
            compressionMethod: 0,
            extensions,
          };
          expect(decodeServerHello(encodeServerHello(sh))).toEqual(sh);
        },
      ),
    );
  });

  it('rejects every truncation of a ClientHello, and trailing bytes', () => {
    const body = encodeClientHello({
      version: 0xfefd,
      random: Buffer.alloc(32),
      sessionId: Buffer.alloc(4, 1),
      cookie: Buffer.alloc(3, 2),
      cipherSuites: [0xc0a8, 0xc0ae],
      compressionMethods: [0],
      extensions: [ext.supportedGroups([23, 29]), ext.renegotiationInfo()],
    });
    for (let n = 0; n < body.length; n++) {
      // A cut exactly at the end of compression_methods is a legal hello without extensions.
      if (n === 2 + 32 + 5 + 4 + 6 + 2) continue;
      expect(() => decodeClientHello(body.subarray(0, n)), `prefix ${n}`).toThrow(DtlsError);
    }
    expect(() => decodeClientHello(Buffer.concat([body, Buffer.from([0])]))).toThrow(DtlsDecodeError);
  });

  const badHellos: [string, string][] = [
    ['session id over 32 bytes', `fefd${'00'.repeat(32)}21${'00'.repeat(33)}00 0002c0a8 0100`],
    ['odd cipher_suites length', `fefd${'00'.repeat(32)}00 00 0003c0a8ff 0100`],
    ['empty cipher_suites', `fefd${'00'.repeat(32)}00 00 0000 0100`],
    ['empty compression_methods', `fefd${'00'.repeat(32)}00 00 0002c0a8 00`],
    ['duplicate extension', `fefd${'00'.repeat(32)}00 00 0002c0a8 0100 0008 00170000 00170000`],
  ];
  for (const [name, h] of badHellos) {
    it(`rejects a ClientHello with ${name}`, () => expect(() => decodeClientHello(hex(h))).toThrow(DtlsError));
  }
});

describe('key exchange and certificate messages', () => {
  it('ECDHE_ECDSA ServerKeyExchange: curve_type 3, named_curve, point, SignatureAndHashAlgorithm, signature (RFC 8422 §5.4)', () => {
    const point = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 0x22)]);
    const raw = encodeEcdhParams(23, point);
    expect(raw.subarray(0, 4).toString('hex')).toBe('03001741');
    const body = encodeServerKeyExchange('ECDHE_ECDSA', {
      ecdh: { namedCurve: 23, publicKey: point, raw },
      signatureScheme: 0x0403,
      signature: Buffer.from([0x30, 1, 2]),
    });
    expect(body.subarray(raw.length).toString('hex')).toBe('04030003300102');
    const d = decodeServerKeyExchange('ECDHE_ECDSA', body);
    expect(d.ecdh?.publicKey).toEqual(point);
    expect(d.ecdh?.raw).toEqual(raw);
    expect(d.signatureScheme).toBe(0x0403);
  });

  it('PSK and ECDHE_PSK ServerKeyExchange carry the identity hint first', () => {
    expect(encodeServerKeyExchange('PSK', { hint: Buffer.from('CoAP') }).toString('hex')).toBe('0004436f4150');
    const raw = encodeEcdhParams(29, Buffer.alloc(32, 1));
    const b = encodeServerKeyExchange('ECDHE_PSK', {
      hint: Buffer.alloc(0),
      ecdh: { namedCurve: 29, publicKey: Buffer.alloc(32, 1), raw },
    });
    expect(b.subarray(0, 2).toString('hex')).toBe('0000');
    expect(decodeServerKeyExchange('ECDHE_PSK', b).ecdh?.namedCurve).toBe(29);
    expect(() => decodeServerKeyExchange('ECDHE_PSK', Buffer.concat([Buffer.from([0, 0, 1]), raw.subarray(1)]))).toThrow(DtlsError); // explicit curves
  });

  it('ClientKeyExchange: PSK identity<2>, ECDHE point<1>, ECDHE_PSK both', () => {
    expect(encodeClientKeyExchange('PSK', { identity: Buffer.from('Client_identity') }).toString('hex')).toBe(
      '000f' + Buffer.from('Client_identity').toString('hex'),
    );
    expect(encodeClientKeyExchange('ECDHE_ECDSA', { publicKey: Buffer.from([4, 1]) }).toString('hex')).toBe('020401');
    const both = encodeClientKeyExchange('ECDHE_PSK', { identity: Buffer.from('a'), publicKey: Buffer.from([9]) });
    expect(both.toString('hex')).toBe('0001610109');
    expect(decodeClientKeyExchange('ECDHE_PSK', both)).toEqual({ identity: Buffer.from('a'), publicKey: Buffer.from([9]) });
    expect(() => decodeClientKeyExchange('ECDHE_ECDSA', Buffer.from([0]))).toThrow(DtlsDecodeError); // empty point
  });

  it('round-trips Certificate lists, CertificateRequest and signatures', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.uint8Array({ minLength: 1, maxLength: 50 }).map((u) => Buffer.from(u)),
          { maxLength: 4 },
        ),
        fc.array(fc.integer({ min: 0, max: 65535 }), { minLength: 1, maxLength: 8 }),
        fc.uint8Array({ minLength: 1, maxLength: 80 }),
        (certs, schemes, sig) => {
          expect(decodeCertificateList(encodeCertificateList(certs))).toEqual(certs);
          const cr = { certificateTypes: [64, 1], signatureSchemes: schemes, authorities: certs };
          expect(decodeCertificateRequest(encodeCertificateRequest(cr))).toEqual(cr);
          const ds = { scheme: schemes[0]!, signature: Buffer.from(sig) };
          expect(decodeDigitallySigned(encodeDigitallySigned(ds))).toEqual(ds);
        },
      ),
    );
  });

  it('raw public key Certificate (RFC 7250 §3) is one SubjectPublicKeyInfo; the double-length variant is tolerated', () => {
    const spki = Buffer.concat([Buffer.from([0x30, 0x59]), Buffer.alloc(89, 7)]);
    const body = encodeRawPublicKey(spki);
    expect(body.subarray(0, 3).toString('hex')).toBe('00005b');
    expect(decodeRawPublicKey(body)).toEqual(spki);
    expect(decodeRawPublicKey(encodeCertificateList([spki]))).toEqual(spki);
    expect(decodeRawPublicKey(hex('000000'))).toBeUndefined();
  });

  it('Finished is exactly 12 bytes', () => {
    expect(decodeFinished(Buffer.alloc(12))).toHaveLength(12);
    expect(() => decodeFinished(Buffer.alloc(11))).toThrow(DtlsDecodeError);
  });
});

describe('extensions', () => {
  it('encode byte-exactly', () => {
    expect(ext.supportedGroups([23, 29]).data.toString('hex')).toBe('00040017001d');
    expect(ext.pointFormats().data.toString('hex')).toBe('0100');
    expect(ext.signatureAlgorithms([0x0403]).data.toString('hex')).toBe('00020403');
    expect(ext.renegotiationInfo().data.toString('hex')).toBe('00');
    expect(ext.certTypeList(ExtensionType.ClientCertificateType, [2]).data.toString('hex')).toBe('0102');
    expect(ext.serverName('localhost').data.toString('hex')).toBe('000c000009' + Buffer.from('localhost').toString('hex'));
  });

  it('parse and validate', () => {
    expect(ext.parseSupportedGroups(hex('00040017001d'))).toEqual([23, 29]);
    expect(() => ext.parseSupportedGroups(hex('0003001700'))).toThrow(DtlsDecodeError);
    expect(ext.parseServerName(ext.serverName('example.org').data)).toBe('example.org');
    expect(ext.parseServerName(Buffer.alloc(0))).toBeUndefined();
    expect(ext.parseCertTypeSelected(Buffer.from([2]), 'x')).toBe(2);
    expect(() => ext.parseCertTypeSelected(Buffer.from([1, 2]), 'x')).toThrow(DtlsDecodeError);
    expect(() => parseExtensions(new ByteReader(hex('0004 0017 0001')))).toThrow(DtlsDecodeError);
  });
});
