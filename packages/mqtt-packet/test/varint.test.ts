import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MqttPacketError, readVarint, VARINT_MAX, varintSize, writeVarint } from '../src/index.js';

// MQTT 5.0 §1.5.5 Table 1-1 / MQTT 3.1.1 §2.2.3 Table 2.4: size boundaries.
const vectors: [number, number[]][] = [
  [0, [0x00]],
  [127, [0x7f]],
  [128, [0x80, 0x01]],
  [16_383, [0xff, 0x7f]],
  [16_384, [0x80, 0x80, 0x01]],
  [2_097_151, [0xff, 0xff, 0x7f]],
  [2_097_152, [0x80, 0x80, 0x80, 0x01]],
  [268_435_455, [0xff, 0xff, 0xff, 0x7f]],
];

describe('Variable Byte Integer', () => {
  it.each(vectors)('encodes %i byte-exactly', (value, bytes) => {
    const buf = new Uint8Array(4);
    expect(writeVarint(buf, 0, value)).toBe(bytes.length);
    expect([...buf.subarray(0, bytes.length)]).toEqual(bytes);
    expect(varintSize(value)).toBe(bytes.length);
    expect(readVarint(Uint8Array.from(bytes), 0)).toEqual([value, bytes.length]);
  });

  it('asks for more bytes on a truncated integer', () => {
    expect(readVarint(Uint8Array.from([0x80, 0x80]), 0)).toBeUndefined();
  });

  it('rejects a fifth byte as malformed [MQTT-1.5.5-1]', () => {
    const err = (() => {
      try {
        readVarint(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x01]), 0);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(MqttPacketError);
    expect(err).toMatchObject({ reasonCode: 0x81 });
  });

  it('rejects out-of-range values on encode', () => {
    expect(() => writeVarint(new Uint8Array(5), 0, VARINT_MAX + 1)).toThrow(MqttPacketError);
    expect(() => writeVarint(new Uint8Array(5), 0, -1)).toThrow(MqttPacketError);
  });

  it('round-trips every value in range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: VARINT_MAX }), (v) => {
        const buf = new Uint8Array(4);
        const n = writeVarint(buf, 0, v);
        expect(readVarint(buf, 0)).toEqual([v, n]);
      }),
    );
  });
});
