export interface BackoffOptions {
  /** First delay in ms. Default 1000. */
  initialDelay?: number;
  /** Upper bound in ms. Default 30000. */
  maxDelay?: number;
  /** Growth factor per attempt. Default 2. */
  factor?: number;
  /** Fraction of the delay randomised ("full jitter" on that fraction). Default 0.5. */
  jitter?: number;
}

/**
 * Reconnect delays: exponential growth with jitter so a fleet of clients does not reconnect
 * in lock-step after a broker restart.
 */
export class Backoff {
  readonly #initial: number;
  readonly #max: number;
  readonly #factor: number;
  readonly #jitter: number;
  #attempt = 0;

  constructor(
    options: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.#initial = options.initialDelay ?? 1000;
    this.#max = options.maxDelay ?? 30_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = Math.min(1, Math.max(0, options.jitter ?? 0.5));
  }

  /** Attempts made since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt, in ms. */
  next(): number {
    const base = Math.min(this.#max, this.#initial * this.#factor ** this.#attempt);
    this.#attempt++;
    return Math.round(base * (1 - this.#jitter) + base * this.#jitter * this.random());
  }

  /** Call after a successful connection. */
  reset(): void {
    this.#attempt = 0;
  }
}
