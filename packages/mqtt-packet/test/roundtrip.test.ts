import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decoder, decode, encode, encodeInto, type Packet, type ProtocolVersion, packetSize } from '../src/index.js';
import * as arb from './arbitraries.js';

const VERSIONS: ProtocolVersion[] = [3, 4, 5];

describe.each(VERSIONS)('round trip, protocol level %i', (version) => {
  it('decode(encode(p)) deep-equals p for generated packets of every type', () => {
    fc.assert(
      fc.property(arb.packet(version), (p) => {
        const bytes = encode(p, version);
        expect(bytes.length).toBe(packetSize(p, version));
        expect(decode(bytes, version)).toEqual(p);
      }),
      { numRuns: 1500 },
    );
  });

  it('encode(decode(b)) reproduces the bytes (the encoding is canonical)', () => {
    fc.assert(
      fc.property(arb.packet(version), (p) => {
        const bytes = encode(p, version);
        expect(encode(decode(bytes, version), version).equals(bytes)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('the streaming decoder yields the same packets for any chunking of a packet stream', () => {
    fc.assert(
      fc.property(
        fc.array(arb.packet(version), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }),
        (packets, cuts) => {
          // CONNECT switches the decoder's level; keep the stream in one level.
          const stream = Buffer.concat(packets.map((p) => encode(p, version)));
          const got: Packet[] = [];
          const d = new Decoder((p) => got.push(p), { protocolVersion: version });
          let pos = 0;
          let i = 0;
          while (pos < stream.length) {
            const n = cuts[i++ % cuts.length] as number;
            d.push(stream.subarray(pos, pos + n));
            pos += n;
          }
          expect(got).toEqual(packets);
          expect(d.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('encodeInto writes the same bytes as encode, back to back', () => {
    fc.assert(
      fc.property(fc.array(arb.packet(version), { minLength: 1, maxLength: 5 }), (packets) => {
        const expected = Buffer.concat(packets.map((p) => encode(p, version)));
        const target = Buffer.alloc(expected.length + 3);
        let off = 3;
        for (const p of packets) off += encodeInto(p, version, target, off);
        expect(off).toBe(target.length);
        expect(target.subarray(3).equals(expected)).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
