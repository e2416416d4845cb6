import type { Clock } from './clock.js';

/**
 * A token bucket for the outbound byte rate (the toolkit's MaxTransferRate). Tokens are bytes;
 * they refill continuously at `rate` per second up to `burst`. `take` may overdraw (the bucket
 * goes into debt) so a send that was allowed never has to be split; the debt delays what
 * follows, which keeps the long-run average at `rate`.
 */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(
    /** Bytes per second (> 0). */
    readonly rate: number,
    /** Most bytes that may go out at once after an idle period. */
    readonly burst: number,
    private readonly clock: Clock,
  ) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`rate must be a positive number of bytes per second (got ${rate})`);
    if (!(burst >= 1)) throw new RangeError(`burst must be at least 1 byte (got ${burst})`);
    this.#tokens = burst;
    this.#last = clock.now();
  }

  /** Default burst for a rate: 100 ms worth of bytes, at least 64 (a small packet never waits for itself). */
  static defaultBurst(rate: number): number {
    return Math.max(64, Math.ceil(rate / 10));
  }

  #refill(): void {
    const now = this.clock.now();
    if (now > this.#last) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) * this.rate) / 1000);
      this.#last = now;
    }
  }

  /** Whole bytes that may be sent now (0 while in debt). */
  available(): number {
    this.#refill();
    return Math.max(0, Math.floor(this.#tokens));
  }

  /** Spends `n` bytes (may overdraw). */
  take(n: number): void {
    this.#refill();
    this.#tokens -= n;
  }

  /** Milliseconds until `n` bytes (capped at `burst`) are available; 0 when they are now. */
  delayFor(n: number): number {
    this.#refill();
    const want = Math.min(n, this.burst);
    if (this.#tokens >= want) return 0;
    return Math.ceil(((want - this.#tokens) * 1000) / this.rate);
  }
}
