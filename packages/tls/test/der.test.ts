import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as der from '../src/der.js';

const hex = (b: Buffer) => b.toString('hex');

describe('DER encoder (X.690 vectors)', () => {
  it.each([
    [0, '020100'],
    [127, '02017f'],
    [128, '02020080'],
    [256, '02020100'],
    [65537, '0203010001'],
  ])('INTEGER %d', (n, want) => {
    expect(hex(der.int(n))).toBe(want);
  });

  it('INTEGER from a magnitude strips redundant zeros and adds a sign byte', () => {
    expect(hex(der.int(Buffer.from([0, 0, 0x7f])))).toBe('02017f');
    expect(hex(der.int(Buffer.from([0xff])))).toBe('020200ff');
  });

  it('encodes OIDs (rsaEncryption, ecPublicKey, a 2.x arc)', () => {
    expect(hex(der.oid('1.2.840.113549.1.1.1'))).toBe('06092a864886f70d010101');
    expect(hex(der.oid('1.2.840.10045.2.1'))).toBe('06072a8648ce3d0201');
    expect(hex(der.oid('2.5.29.19'))).toBe('0603551d13');
  });

  it('uses the long length form above 127 bytes', () => {
    expect(hex(der.octets(Buffer.alloc(200)).subarray(0, 3))).toBe('0481c8');
    expect(hex(der.octets(Buffer.alloc(300)).subarray(0, 4))).toBe('0482012c');
  });

  it('encodes UTCTime before 2050 and GeneralizedTime from 2050 (RFC 5280 §4.1.2.5)', () => {
    expect(der.time(new Date(Date.UTC(2024, 0, 2, 3, 4, 5))).toString('latin1', 2)).toBe('240102030405Z');
    expect(der.time(new Date(Date.UTC(2024, 0, 2, 3, 4, 5)))[0]).toBe(0x17);
    const g = der.time(new Date(Date.UTC(2050, 11, 31, 23, 59, 59)));
    expect(g[0]).toBe(0x18);
    expect(g.toString('latin1', 2)).toBe('20501231235959Z');
  });

  it('encodes BOOLEAN, NULL, BMPString and a BIT STRING with unused bits', () => {
    expect(hex(der.bool(true))).toBe('0101ff');
    expect(hex(der.nul())).toBe('0500');
    expect(hex(der.bmp('ab'))).toBe('1e0400610062');
    expect(hex(der.bitString(Buffer.from([0xa0]), 5))).toBe('030205a0');
  });
});

describe('DER reader', () => {
  it('round-trips OIDs and INTEGERs', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 2 ** 31 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 39 }), (rest, second) => {
        const dotted = [1, second, ...rest].join('.');
        expect(der.readOid(der.read(der.oid(dotted)))).toBe(dotted);
      }),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 200n }), (n) => {
        expect(der.readInt(der.read(der.int(n)))).toBe(n);
      }),
    );
  });

  it('walks nested structures', () => {
    const s = der.seq(der.int(1), der.set(der.utf8('x'), der.nul()), der.explicit(3, der.bool(false)));
    const kids = der.children(der.read(s));
    expect(kids.map((k) => k.tag)).toEqual([0x02, 0x31, 0xa3]);
    expect(der.children(kids[1]!).map((k) => k.tag)).toEqual([0x0c, 0x05]);
  });

  it.each([
    ['truncated header', '30'],
    ['content past the end', '3005020101'],
    ['indefinite length', '3080'],
    ['oversized length of length', '3085ffffffffff'],
    ['multi-byte tag', '1f8101'],
  ])('rejects %s with DerError', (_name, h) => {
    expect(() => der.children(der.read(Buffer.from(h, 'hex')))).toThrow(der.DerError);
  });

  it('never throws anything but DerError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const walk = (n: der.Node) => {
            if (n.tag & 0x20) for (const c of der.children(n)) walk(c);
          };
          walk(der.read(Buffer.from(bytes)));
        } catch (e) {
          expect(e).toBeInstanceOf(der.DerError);
        }
      }),
    );
  });
});
