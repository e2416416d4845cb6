import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type FlightItem, mergeRange, planFlight, Reassembler } from '../src/fragmentation.js';
import { readHandshakeFragments } from '../src/handshake-messages.js';

const overhead = (epoch: number) => 13 + (epoch ? 16 : 0);

function flight(sizes: number[]): FlightItem[] {
  return sizes.map((n, i) => ({ kind: 'handshake' as const, epoch: 0, type: 11, messageSeq: i + 1, body: Buffer.alloc(n, i + 1) }));
}

describe('flight fragmentation (RFC 6347 §4.2.3)', () => {
  it('packs small messages into one datagram and splits large ones to the MTU', () => {
    const plan = planFlight([...flight([60, 800, 0]), { kind: 'ccs', epoch: 0 }], 500, overhead);
    for (const dg of plan) expect(dg.reduce((n, r) => n + overhead(r.epoch) + r.payload.length, 0)).toBeLessThanOrEqual(500);
    const frags = plan
      .flat()
      .filter((r) => r.type === 22)
      .map((r) => readHandshakeFragments(r.payload)[0]!);
    expect(frags.filter((f) => f.messageSeq === 2).reduce((n, f) => n + f.fragmentLength, 0)).toBe(800);
    expect(frags.find((f) => f.messageSeq === 3)?.length).toBe(0); // empty message still gets a record
    expect(plan.flat().at(-1)?.type).toBe(20);
  });

  it('keeps an empty message that does not fit in the current datagram (regression: ServerHelloDone was lost)', () => {
    const plan = planFlight(flight([878, 144, 0]), 200, overhead);
    const seqs = plan.flat().map((r) => readHandshakeFragments(r.payload)[0]!.messageSeq);
    expect(new Set(seqs)).toEqual(new Set([1, 2, 3]));
  });

  it('refuses an MTU that cannot carry a fragment', () => {
    expect(() => planFlight(flight([10]), 20, overhead)).toThrow(RangeError);
  });

  it('fragments reassemble to the original whatever the MTU, order, duplication and overlap', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 3000 })), {
          minLength: 1,
          maxLength: 5,
        }),
        fc.integer({ min: 120, max: 1500 }),
        fc.integer({ min: 120, max: 1500 }),
        fc.array(fc.nat(), { maxLength: 50 }),
        (sizes, mtu1, mtu2, shuffle) => {
          const items = flight(sizes);
          // Two transmissions fragmented differently (a retransmission in back-off mode) overlap.
          const frags = [...planFlight(items, mtu1, overhead), ...planFlight(items, mtu2, overhead)]
            .flat()
            .map((r) => readHandshakeFragments(r.payload)[0]!);
          for (let i = 0; i < shuffle.length; i++) {
            const j = shuffle[i]! % frags.length;
            [frags[i % frags.length], frags[j]] = [frags[j]!, frags[i % frags.length]!];
          }
          const r = new Reassembler(4000, 10, 20000);
          r.nextSeq = 1;
          for (const f of frags) r.add(f, 0);
          for (const it of items) {
            const m = r.take();
            expect(m?.messageSeq).toBe((it as { messageSeq: number }).messageSeq);
            expect(m?.body).toEqual((it as { body: Buffer }).body);
          }
          expect(r.take()).toBeUndefined();
          expect(r.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('reassembler limits', () => {
  const frag = (messageSeq: number, length: number, offset: number, n: number, type = 11) => ({
    type,
    length,
    messageSeq,
    fragmentOffset: offset,
    fragmentLength: n,
    fragment: Buffer.alloc(n, 1),
  });

  it('delivers in message_seq order only', () => {
    const r = new Reassembler();
    expect(r.add(frag(1, 4, 0, 4), 0)).toBe('complete');
    expect(r.take()).toBeUndefined(); // seq 0 still missing
    r.add(frag(0, 2, 0, 2), 0);
    expect(r.take()?.messageSeq).toBe(0);
    expect(r.take()?.messageSeq).toBe(1);
  });

  it('reports old messages and drops those too far ahead, too large, or inconsistent', () => {
    const r = new Reassembler(1000, 4, 1500);
    r.nextSeq = 5;
    expect(r.add(frag(4, 10, 0, 10), 0)).toBe('old');
    expect(r.add(frag(9, 10, 0, 10), 0)).toBe('dropped'); // window 4: 5..8
    expect(r.add(frag(5, 1001, 0, 10), 0)).toBe('dropped'); // size cap
    expect(r.add(frag(5, 900, 0, 10), 0)).toBe('buffered');
    expect(r.add(frag(5, 901, 10, 10), 0)).toBe('dropped'); // length differs
    expect(r.add(frag(5, 900, 10, 10, 12), 0)).toBe('dropped'); // type differs
    expect(r.add(frag(5, 900, 10, 10), 1)).toBe('dropped'); // epoch differs
    expect(r.add(frag(6, 900, 0, 10), 0)).toBe('dropped'); // total buffered cap 1500
    expect(r.bufferedBytes).toBe(900);
    r.clear();
    expect(r.bufferedBytes).toBe(0);
  });

  it('merges ranges', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(100), fc.nat(20))), (ranges) => {
        let list: number[] = [];
        const covered = new Set<number>();
        for (const [s, n] of ranges) {
          list = mergeRange(list, s, s + n);
          for (let i = s; i < s + n; i++) covered.add(i);
        }
        const fromList = new Set<number>();
        for (let i = 0; i < list.length; i += 2) {
          expect(list[i]!).toBeLessThan(list[i + 1]!);
          if (i) expect(list[i]!).toBeGreaterThan(list[i - 1]!);
          for (let k = list[i]!; k < list[i + 1]!; k++) fromList.add(k);
        }
        expect(fromList).toEqual(covered);
      }),
    );
  });
});
