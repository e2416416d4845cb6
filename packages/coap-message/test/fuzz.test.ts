import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CoapMessageError, decode, decodeTcpFrame, decodeWs, encode, parseLinks, parseUri, TcpFrameReader } from '../src/index.js';

// Any input either decodes or fails with a CoapMessageError: never another exception, never a hang.
function onlyTypedErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof CoapMessageError)) throw e;
  }
}

describe('fuzzing', () => {
  it('decode() on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        onlyTypedErrors(() => {
          const m = decode(b);
          // Whatever decodes must re-encode to the same bytes (canonical input) or decode equal.
          const again = decode(encode(m));
          expect(again.options.length).toBe(m.options.length);
        });
      }),
      { numRuns: 20_000 },
    );
  });

  it('decode() on mutated valid messages', () => {
    const seed = Buffer.from('4202714561627273f3427570d1030ad2140190d4dbd5f1e461ff6c357a', 'hex');
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(seed.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(seed.length),
        (flips, cut) => {
          const b = Buffer.from(seed);
          for (const [i, v] of flips) b[i] = v;
          onlyTypedErrors(() => decode(b.subarray(0, cut)));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('TCP and WebSocket decoders on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
        onlyTypedErrors(() => decodeTcpFrame(b, 0, 1152));
        onlyTypedErrors(() => decodeWs(b));
        const r = new TcpFrameReader(256);
        onlyTypedErrors(() => r.push(b));
        expect(r.bufferedBytes).toBeLessThanOrEqual(256 + 64);
      }),
      { numRuns: 10_000 },
    );
  });

  it('URI and link-format parsers on random text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (s) => {
        onlyTypedErrors(() => parseUri(`coap://${s}`));
        onlyTypedErrors(() => parseLinks(s));
      }),
      { numRuns: 10_000 },
    );
  });
});
