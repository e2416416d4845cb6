import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DedupCache, DedupState } from '../src/dedup.js';
import { isNewerNotification } from '../src/index.js';
import { PeerRegistry } from '../src/peers.js';
import { Timer, TimerQueue } from '../src/timers.js';
import { TokenSource, tokenKey } from '../src/tokens.js';

describe('RFC 7641 §3.4 freshness', () => {
  it.each([
    [1, 2, 0, true, 'larger value'],
    [2, 1, 0, false, 'smaller value'],
    [5, 5, 0, false, 'same value'],
    [0xffffff, 0, 0, true, 'wrap-around'],
    [0, 0xffffff, 0, false, 'wrapped backwards'],
    [0, 1 << 23, 0, false, 'exactly half the space ahead'],
    [0, (1 << 23) - 1, 0, true, 'just under half ahead'],
    [10, 3, 128_001, true, 'older value but more than 128 s later'],
    [10, 3, 128_000, false, 'exactly 128 s later'],
  ])('%i then %i after %i ms → %s (%s)', (v1, v2, dt, newer) => {
    expect(isNewerNotification(v1, 1000, v2, 1000 + dt)).toBe(newer);
  });

  it('is antisymmetric within the reordering window', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffff }), fc.integer({ min: 0, max: 0xffffff }), (a, b) => {
        if (a === b || Math.abs(a - b) === 1 << 23) return;
        expect(isNewerNotification(a, 0, b, 0)).toBe(!isNewerNotification(b, 0, a, 0));
      }),
    );
  });
});

describe('TimerQueue', () => {
  afterEach(() => vi.useRealTimers());

  it('fires in deadline order, supports cancel and reschedule, with one runtime timer', () => {
    vi.useFakeTimers();
    const q = new TimerQueue();
    const fired: string[] = [];
    const mk = (n: string) => new Timer(() => fired.push(n));
    const a = mk('a');
    const b = mk('b');
    const c = mk('c');
    const d = mk('d');
    q.schedule(c, 300);
    q.schedule(a, 100);
    q.schedule(b, 200);
    q.schedule(d, 50);
    q.cancel(d);
    q.schedule(b, 400); // reschedule later
    expect(q.size).toBe(3);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual(['a', 'c', 'b']);
    expect(q.size).toBe(0);
  });

  it('keeps heap order for many random deadlines', () => {
    vi.useFakeTimers();
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 10_000 }), { minLength: 1, maxLength: 200 }),
        fc.array(fc.nat(), { maxLength: 50 }),
        (delays, cancels) => {
          const q = new TimerQueue();
          const fired: number[] = [];
          const timers = delays.map((dl, i) => {
            const t = new Timer(() => fired.push(i));
            q.schedule(t, dl);
            return t;
          });
          const cancelled = new Set<number>();
          for (const c of cancels) {
            const i = c % timers.length;
            q.cancel(timers[i] as Timer);
            cancelled.add(i);
          }
          vi.advanceTimersByTime(20_000);
          const expected = delays
            .map((dl, i) => [dl, i] as const)
            .filter(([, i]) => !cancelled.has(i))
            .sort((x, y) => x[0] - y[0] || 0)
            .map(([dl]) => dl);
          expect(fired.map((i) => delays[i])).toEqual(expected);
          q.clear();
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('DedupCache', () => {
  const peers = new PeerRegistry();
  const peer = peers.get({ address: '1.2.3.4', port: 1, family: 'IPv4' }, undefined);

  it('replays small replies from its slot store and large ones up to a byte cap', () => {
    const cache = new DedupCache({ capacity: 8, slotBytes: 16, maxLargeBytes: 100, conLifetimeMs: 1000, nonLifetimeMs: 500 }, peers);
    const s1 = cache.insert(peer, 1, true, 0);
    cache.setReply(s1, Buffer.alloc(10, 1));
    expect(cache.reply(s1)?.equals(Buffer.alloc(10, 1))).toBe(true);
    const s2 = cache.insert(peer, 2, true, 0);
    cache.setReply(s2, Buffer.alloc(60, 2));
    expect(cache.reply(s2)?.length).toBe(60);
    const s3 = cache.insert(peer, 3, true, 0);
    cache.setReply(s3, Buffer.alloc(60, 3)); // 120 > 100: the oldest entries go
    expect(cache.largeBytes).toBeLessThanOrEqual(100);
    expect(cache.lookup(peer, 1, 0)).toBe(-1);
    expect(cache.reply(cache.lookup(peer, 3, 0))?.[0]).toBe(3);
    const s4 = cache.insert(peer, 4, true, 0);
    cache.setReply(s4, Buffer.alloc(500)); // can never fit: only an empty ACK is repeated
    expect(cache.state(s4)).toBe(DedupState.EmptyAck);
  });

  it('expires by age and evicts the oldest when full, releasing peers', () => {
    const reg = new PeerRegistry();
    const cache = new DedupCache({ capacity: 3, slotBytes: 8, maxLargeBytes: 0, conLifetimeMs: 1000, nonLifetimeMs: 500 }, reg);
    const ps = [1, 2, 3, 4].map((i) => reg.get({ address: `10.0.0.${i}`, port: 9, family: 'IPv4' }, undefined));
    cache.insert(ps[0]!, 1, false, 0);
    cache.insert(ps[1]!, 1, true, 0);
    cache.insert(ps[2]!, 1, true, 0);
    cache.insert(ps[3]!, 1, true, 0);
    expect(cache.evicted).toBe(1);
    expect(reg.size).toBe(3);
    expect(cache.lookup(ps[0]!, 1, 0)).toBe(-1);
    cache.expire(1000);
    expect(cache.size).toBe(0);
    expect(reg.size).toBe(0);
  });
});

describe('DedupCache index (model-based)', () => {
  it('finds exactly the live entries under random inserts, reuses and evictions', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 30 })), { minLength: 1, maxLength: 300 }),
        (capacity, ops) => {
          const reg = new PeerRegistry();
          const peersById = Array.from({ length: 6 }, (_, i) => reg.get({ address: `10.1.0.${i}`, port: 7, family: 'IPv4' }, undefined));
          for (const p of peersById) reg.retain(p); // keep ids stable for the model
          const cache = new DedupCache({ capacity, slotBytes: 4, maxLargeBytes: 0, conLifetimeMs: 1e9, nonLifetimeMs: 1e9 }, reg);
          const ring: string[] = []; // model: live keys in arrival order (duplicates allowed)
          for (const [pi, mid] of ops) {
            const peer = peersById[pi] as (typeof peersById)[number];
            const k = `${pi}/${mid}`;
            if (cache.lookup(peer, mid, 0) >= 0) {
              expect(ring).toContain(k);
              continue;
            }
            expect(ring).not.toContain(k);
            cache.insert(peer, mid, true, 0);
            ring.push(k);
            if (ring.length > capacity) ring.shift();
          }
          for (let pi = 0; pi < 6; pi++) {
            for (let mid = 0; mid <= 30; mid++) {
              expect(cache.lookup(peersById[pi]!, mid, 0) >= 0).toBe(ring.includes(`${pi}/${mid}`));
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('tokens', () => {
  it('keys tokens of different lengths apart and makes random tokens of the configured length', () => {
    expect(tokenKey(Uint8Array.of(1))).not.toBe(tokenKey(Uint8Array.of(0, 1)));
    expect(tokenKey(new Uint8Array(0))).toBe(0);
    expect(typeof tokenKey(new Uint8Array(8))).toBe('string');
    const src = new TokenSource(6);
    const seen = new Set<number | string>();
    for (let i = 0; i < 2000; i++) seen.add(tokenKey(src.next()));
    expect(seen.size).toBe(2000);
    expect(() => new TokenSource(9)).toThrow(RangeError);
  });
});
