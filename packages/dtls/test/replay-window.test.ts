import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReplayWindow } from '../src/replay-window.js';

describe('anti-replay window (RFC 6347 §4.1.2.6)', () => {
  it('accepts new numbers, rejects duplicates and those left of the window', () => {
    const w = new ReplayWindow(64);
    expect(w.check(0)).toBe(true);
    w.accept(0);
    expect(w.check(0)).toBe(false);
    w.accept(100);
    expect(w.check(36)).toBe(false); // 100 - 64 = 36 is outside
    expect(w.check(37)).toBe(true);
    w.accept(37);
    expect(w.check(37)).toBe(false);
    expect(w.check(99)).toBe(true);
    expect(w.check(2 ** 48 - 1)).toBe(true);
  });

  it('check() does not mutate: only accept() (after authentication) moves the window', () => {
    const w = new ReplayWindow();
    w.accept(5);
    for (let i = 0; i < 10; i++) w.check(1000 + i);
    expect(w.highest).toBe(5);
    expect(w.check(4)).toBe(true);
  });

  it('handles large jumps and reset', () => {
    const w = new ReplayWindow(32);
    w.accept(1);
    w.accept(1_000_000);
    expect(w.check(1)).toBe(false);
    expect(w.check(999_999)).toBe(true);
    w.reset();
    expect(w.check(1)).toBe(true);
  });

  it('refuses a width that is not a multiple of 32', () => {
    expect(() => new ReplayWindow(48)).toThrow(RangeError);
  });

  it('agrees with a reference model on random sequences', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 300 }), fc.constantFrom(32, 64, 128), (seqs, size) => {
        const w = new ReplayWindow(size);
        const seen = new Set<number>();
        let max = -1;
        for (const s of seqs) {
          const expected = s > max || (s > max - size && !seen.has(s));
          expect(w.check(s)).toBe(expected);
          if (expected) {
            w.accept(s);
            seen.add(s);
            max = Math.max(max, s);
          }
        }
      }),
    );
  });
});
