import { describe, expect, it } from 'vitest';
import { Backoff } from '../src/index.js';

describe('Backoff', () => {
  it('grows exponentially up to the cap without jitter', () => {
    const b = new Backoff({ initialDelay: 100, maxDelay: 1000, jitter: 0 });
    expect([b.next(), b.next(), b.next(), b.next(), b.next()]).toEqual([100, 200, 400, 800, 1000]);
    b.reset();
    expect(b.next()).toBe(100);
  });

  it('spreads delays within the jitter band', () => {
    const low = new Backoff({ initialDelay: 1000, jitter: 0.5 }, () => 0);
    const high = new Backoff({ initialDelay: 1000, jitter: 0.5 }, () => 1);
    expect(low.next()).toBe(500);
    expect(high.next()).toBe(1000);
  });
});
