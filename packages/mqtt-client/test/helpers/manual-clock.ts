import type { Clock } from '../../src/clock.js';

/**
 * A clock whose time moves only when told; timers due by then fire in order. What `afterIo`
 * does is the test's choice: `'sync'` runs the callback at once, `'immediate'` leaves it to the
 * real event loop (tests over real sockets), `'queue'` holds it until `runIo()` (the keep-alive
 * tests, which model a stalled event loop).
 */
export class ManualClock implements Clock {
  t = 0;
  timers: { at: number; fn: () => void; id: number }[] = [];
  io: (() => void)[] = [];
  #id = 0;
  constructor(private readonly ioMode: 'sync' | 'immediate' | 'queue' = 'sync') {}
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.#id;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  };
  clearTimeout = (h: unknown) => {
    this.timers = this.timers.filter((x) => x.id !== h);
  };
  afterIo = (fn: () => void) => {
    if (this.ioMode === 'sync') fn();
    else if (this.ioMode === 'immediate') setImmediate(fn);
    else this.io.push(fn);
  };
  /** Advances time by `ms`, firing due timers in order (a normal, responsive event loop). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at); // a late timer fires at the current time
      next.fn();
      this.runIo();
    }
    this.t = end;
  }
  /** The event loop was blocked for `ms`: time passes, no timer runs; then due timers fire late. */
  stall(ms: number): void {
    this.t += ms;
  }
  fireDue(): void {
    this.advance(0);
  }
  runIo(): void {
    const io = this.io;
    this.io = [];
    for (const f of io) f();
  }
}
