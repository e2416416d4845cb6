// Short fuzz run (the long one, >= 1,000,000 inputs, is `pnpm --filter @iotwire/bench fuzz:codec`):
// random and mutated inputs, fed in random fragments. The decoder may accept or reject, but it
// must only ever throw MqttPacketError, always terminate, and whatever it accepts must encode
// back and decode to the same packet.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Decoder, decode, encode, MqttPacketError, type Packet, type ProtocolVersion, type Side } from '../src/index.js';
import * as arb from './arbitraries.js';

/** mulberry32: small, seeded, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SPECIAL = [0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, 0x23, 0x2b, 0x2f, 0x24, 0xc0, 0xed, 0xf0];

function mutate(input: Buffer, rnd: () => number): Buffer {
  const b = Buffer.from(input);
  const int = (n: number) => Math.floor(rnd() * n);
  const ops = 1 + int(4);
  let out = b;
  for (let k = 0; k < ops; k++) {
    const at = int(Math.max(out.length, 1));
    switch (int(8)) {
      case 0:
        if (out.length) out[at] = (out[at] as number) ^ (1 << int(8));
        break;
      case 1:
        if (out.length) out[at] = SPECIAL[int(SPECIAL.length)] as number;
        break;
      case 2:
        if (out.length) out[at] = int(256);
        break;
      case 3:
        out = Buffer.concat([out.subarray(0, at), Buffer.from([int(256)]), out.subarray(at)]);
        break;
      case 4:
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
        break;
      case 5:
        out = out.subarray(0, at);
        break;
      case 6:
        // Tweak the Remaining Length.
        if (out.length > 1) out[1] = (out[1] as number) + (int(2) ? 1 : -1);
        break;
      default: {
        const from = int(Math.max(out.length, 1));
        out = Buffer.concat([out, out.subarray(from, from + int(8))]);
      }
    }
  }
  return out;
}

interface Outcome {
  accepted: number;
  rejected: number;
  packets: number;
}

/** Feeds `input` in random fragments; returns packets delivered, or the MqttPacketError. */
function feed(input: Buffer, version: ProtocolVersion | undefined, side: Side | undefined, rnd: () => number, out: Outcome): void {
  const decoded: [Packet, ProtocolVersion][] = [];
  const strict = rnd() < 0.8;
  const d = new Decoder((p) => decoded.push([p, p.type === 'connect' ? p.protocolVersion : (d.protocolVersion ?? 4)]), {
    protocolVersion: version,
    side,
    strictTopicFilters: strict,
  });
  try {
    let pos = 0;
    while (pos < input.length) {
      const n = rnd() < 0.3 ? 1 : 1 + Math.floor(rnd() * input.length);
      d.push(input.subarray(pos, pos + n));
      pos += n;
    }
    out.accepted++;
  } catch (e) {
    if (!(e instanceof MqttPacketError)) throw e;
    out.rejected++;
  }
  for (const [p, v] of decoded) {
    out.packets++;
    // What the strict decoder accepts, the encoder reproduces canonically (the lenient one lets
    // malformed filters through for the application to answer, and the encoder refuses those).
    if (!strict) continue;
    const bytes = encode(p, v);
    expect(decode(bytes, v)).toEqual(p);
  }
}

describe('fuzz (short run)', () => {
  it('never throws anything but MqttPacketError on 40,000 random and mutated inputs', () => {
    const rnd = prng(0x1077);
    const corpus: Buffer[] = [];
    for (const v of [3, 4, 5] as const) for (const p of fc.sample(arb.packet(v), { numRuns: 300, seed: v })) corpus.push(encode(p, v));
    const out: Outcome = { accepted: 0, rejected: 0, packets: 0 };
    for (let i = 0; i < 40_000; i++) {
      let input: Buffer;
      const kind = i % 4;
      if (kind === 0) {
        input = Buffer.alloc(Math.floor(rnd() * 64));
        for (let j = 0; j < input.length; j++) input[j] = Math.floor(rnd() * 256);
        if (input.length) input[0] = (input[0] as number) & 0xf0; // plausible header more often
      } else if (kind === 3) {
        const a = corpus[Math.floor(rnd() * corpus.length)] as Buffer;
        const b = corpus[Math.floor(rnd() * corpus.length)] as Buffer;
        input = mutate(Buffer.concat([a, b]), rnd);
      } else {
        input = mutate(corpus[Math.floor(rnd() * corpus.length)] as Buffer, rnd);
      }
      const version = ([3, 4, 5, undefined] as const)[Math.floor(rnd() * 4)];
      const side = (['server', 'client', undefined] as const)[Math.floor(rnd() * 3)];
      feed(input, version, side, rnd, out);
      // The one-shot decoder must behave the same way.
      try {
        decode(input, version ?? 4, { side });
      } catch (e) {
        if (!(e instanceof MqttPacketError)) throw e;
      }
    }
    // Both outcomes must actually occur, or the run proves little.
    expect(out.rejected).toBeGreaterThan(10_000);
    expect(out.packets).toBeGreaterThan(1_000);
  });
});
