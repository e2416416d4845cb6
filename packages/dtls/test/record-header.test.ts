import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ContentType, DTLS_1_2, readRecordHeader, writeRecordHeader } from '../src/index.js';

describe('DTLS record header', () => {
  it('encodes byte-exactly (RFC 6347 §4.1)', () => {
    const buf = new Uint8Array(13);
    writeRecordHeader(buf, 0, { type: ContentType.Handshake, version: DTLS_1_2, epoch: 1, sequence: 0x0102_0304_0506, length: 0x0a0b });
    expect([...buf]).toEqual([22, 0xfe, 0xfd, 0, 1, 1, 2, 3, 4, 5, 6, 0x0a, 0x0b]);
  });

  it('needs 13 bytes', () => {
    expect(readRecordHeader(new Uint8Array(12), 0)).toBeUndefined();
  });

  it('round-trips 48-bit sequence numbers', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), fc.integer({ min: 0, max: 65535 }), (sequence, epoch) => {
        const buf = new Uint8Array(20);
        const h = { type: 23, version: DTLS_1_2, epoch, sequence, length: 7 };
        writeRecordHeader(buf, 3, h);
        expect(readRecordHeader(buf, 3)).toEqual(h);
      }),
    );
  });
});
