/** Time and timers, injectable so timing logic is tested with fake clocks. */
export interface Clock {
  /** Monotonic milliseconds (never jumps with wall-clock changes). */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Runs `fn` after pending I/O callbacks (setImmediate in Node, a 0 ms timer elsewhere). */
  afterIo(fn: () => void): void;
}

const perf = (globalThis as { performance?: { now(): number } }).performance;
const setImm = (globalThis as { setImmediate?: (fn: () => void) => unknown }).setImmediate;

export const systemClock: Clock = {
  now: perf ? () => perf.now() : () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms) as unknown as { unref?: () => void };
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  afterIo: setImm ? (fn) => setImm(fn) : (fn) => setTimeout(fn, 0),
};
