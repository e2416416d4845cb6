/**
 * Latency histogram with log-spaced buckets (1% wide), so percentiles of any number of
 * samples come from a fixed 20 KiB of memory. Values are microseconds.
 */
const BASE = 1.01;
const LOG_BASE = Math.log(BASE);
/** 1.01^2600 µs is about 5 days: nothing a benchmark measures falls outside. */
const BUCKETS = 2600;

export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS);
  #count = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = 0;
  #sum = 0;

  get count(): number {
    return this.#count;
  }
  get min(): number {
    return this.#count ? this.#min : 0;
  }
  get max(): number {
    return this.#max;
  }
  get mean(): number {
    return this.#count ? this.#sum / this.#count : 0;
  }

  /** Records one latency in microseconds (negative values count as 0). */
  record(us: number): void {
    const v = Number.isNaN(us) ? 0 : Math.max(us, 0);
    const i = v < 1 ? 0 : Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(v) / LOG_BASE));
    this.#counts[i]!++;
    this.#count++;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  /**
   * The value at percentile `p` (0..100): the sample of rank ceil(p% of n), reported as the
   * middle of its bucket (within 0.5%) and clamped to the observed min/max.
   */
  percentile(p: number): number {
    if (!this.#count) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) {
        const mid = i === 0 ? 0.5 : BASE ** (i - 1) * Math.sqrt(BASE);
        return Math.min(this.#max, Math.max(this.#min, mid));
      }
    }
    return this.#max;
  }
}
