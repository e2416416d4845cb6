/** The clock and timer functions the CoAP layers use; injectable for tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Pending timers alone must not keep the host alive; sockets do that while open.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** One scheduled callback. Owners keep and reuse their Timer, so rescheduling allocates nothing. */
export class Timer {
  deadline = 0;
  /** Position in the heap, −1 when not scheduled. */
  index = -1;
  constructor(public callback: () => void) {}

  get scheduled(): boolean {
    return this.index >= 0;
  }
}

/**
 * All of an endpoint's timers (retransmissions, request deadlines, separate-response delays) in
 * one binary min-heap behind a single runtime timer: O(log n) schedule and cancel, no timer
 * object per message.
 */
export class TimerQueue {
  readonly #heap: Timer[] = [];
  #handle: unknown;
  #armedFor = Number.POSITIVE_INFINITY;

  constructor(readonly clock: Clock = systemClock) {}

  get size(): number {
    return this.#heap.length;
  }

  /** Schedules (or reschedules) `timer` to run `delayMs` from now. */
  schedule(timer: Timer, delayMs: number): void {
    this.scheduleAt(timer, this.clock.now() + delayMs);
  }

  scheduleAt(timer: Timer, deadline: number): void {
    if (timer.index >= 0) this.#remove(timer.index);
    timer.deadline = deadline;
    timer.index = this.#heap.length;
    this.#heap.push(timer);
    this.#up(timer.index);
    if (deadline < this.#armedFor) this.#arm(deadline);
  }

  cancel(timer: Timer): void {
    // The runtime timer is left armed; it re-arms for the next deadline when it fires.
    if (timer.index >= 0) this.#remove(timer.index);
  }

  /** Cancels everything. */
  clear(): void {
    for (const t of this.#heap) t.index = -1;
    this.#heap.length = 0;
    if (this.#handle !== undefined) this.clock.clearTimeout(this.#handle);
    this.#handle = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }

  #arm(deadline: number): void {
    if (this.#handle !== undefined) this.clock.clearTimeout(this.#handle);
    this.#armedFor = deadline;
    this.#handle = this.clock.setTimeout(() => this.#fire(), Math.max(0, deadline - this.clock.now()));
  }

  #fire(): void {
    this.#handle = undefined;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = this.clock.now();
    // Bounded: callbacks that reschedule for "now" run on the next firing, not in this loop.
    let budget = this.#heap.length;
    while (budget-- > 0 && this.#heap.length > 0 && (this.#heap[0] as Timer).deadline <= now) {
      const t = this.#heap[0] as Timer;
      this.#remove(0);
      t.callback();
    }
    const next = this.#heap[0];
    if (next !== undefined && next.deadline < this.#armedFor) this.#arm(next.deadline);
  }

  #remove(i: number): void {
    const heap = this.#heap;
    const t = heap[i] as Timer;
    t.index = -1;
    const last = heap.pop() as Timer;
    if (i < heap.length) {
      heap[i] = last;
      last.index = i;
      this.#down(i);
      this.#up(last.index);
    }
  }

  #up(i: number): void {
    const heap = this.#heap;
    const t = heap[i] as Timer;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p] as Timer;
      if (parent.deadline <= t.deadline) break;
      heap[i] = parent;
      parent.index = i;
      i = p;
    }
    heap[i] = t;
    t.index = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const t = heap[i] as Timer;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && (heap[r] as Timer).deadline < (heap[l] as Timer).deadline ? r : l;
      const child = heap[c] as Timer;
      if (child.deadline >= t.deadline) break;
      heap[i] = child;
      child.index = i;
      i = c;
    }
    heap[i] = t;
    t.index = i;
  }
}
