import { describe, expect, it } from 'vitest';
import { FlightTimer, resolveRetransmit } from '../src/flight.js';
import { ManualTimers } from './helpers/timers.js';

describe('flight retransmission timer (RFC 6347 §4.2.4)', () => {
  it('doubles up to the cap and gives up after maxRetransmissions', () => {
    const t = new ManualTimers();
    const fired: [number, number][] = [];
    let gaveUp = 0;
    const start = t.now();
    const timer = new FlightTimer(
      t,
      resolveRetransmit({ initialMs: 1000, maxMs: 4000, maxRetransmissions: 4 }),
      (n) => fired.push([n, t.now() - start]),
      () => gaveUp++,
    );
    timer.start();
    t.advance(60_000);
    // 1 s, then 2 s, 4 s, 4 s (capped) between expiries; give up at the fifth expiry.
    expect(fired).toEqual([
      [1, 1000],
      [2, 3000],
      [3, 7000],
      [4, 11000],
    ]);
    expect(gaveUp).toBe(1);
    expect(timer.armed).toBe(false);
  });

  it('stop() cancels; start() resets to the initial timeout', () => {
    const t = new ManualTimers();
    let fired = 0;
    const timer = new FlightTimer(
      t,
      resolveRetransmit({ initialMs: 100 }),
      () => fired++,
      () => {},
    );
    timer.start();
    t.advance(100);
    expect(fired).toBe(1);
    expect(timer.currentTimeoutMs).toBe(200);
    timer.stop();
    t.advance(10_000);
    expect(fired).toBe(1);
    timer.start();
    expect(timer.currentTimeoutMs).toBe(100);
    expect(timer.attempts).toBe(0);
  });

  it('a callback that stops the timer is respected', () => {
    const t = new ManualTimers();
    let n = 0;
    const timer: FlightTimer = new FlightTimer(
      t,
      resolveRetransmit({ initialMs: 10 }),
      () => {
        n++;
        timer.stop();
      },
      () => {},
    );
    timer.start();
    t.advance(1000);
    expect(n).toBe(1);
  });

  it('validates settings; defaults follow RFC 6347 (1 s, 60 s)', () => {
    expect(resolveRetransmit(undefined)).toMatchObject({ initialMs: 1000, maxMs: 60_000 });
    expect(() => resolveRetransmit({ initialMs: 0 })).toThrow(RangeError);
    expect(() => resolveRetransmit({ initialMs: 100, maxMs: 50 })).toThrow(RangeError);
  });
});
