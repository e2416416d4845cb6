import { Backoff } from './backoff.js';
import type { Clock } from './clock.js';

export interface ReconnectOptions {
  /** Reconnect after an unexpected loss. Default false. */
  enabled?: boolean;
  /** First delay, ms. Default 1000. */
  minDelayMs?: number;
  /** Longest delay, ms. Default 30000. */
  maxDelayMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Randomised fraction of each delay. Default 0.5. */
  jitter?: number;
  /** Give up after this many failed attempts in a row. Default Infinity. */
  maxAttempts?: number;
}

/**
 * When to try again after an unexpected loss: exponential backoff with jitter, reset after
 * a successful CONNACK. Never after disconnect()/interrupt() (the client does not ask).
 */
export class ReconnectPolicy {
  readonly enabled: boolean;
  readonly maxAttempts: number;
  readonly #backoff: Backoff;
  #timer: unknown;

  constructor(
    options: ReconnectOptions,
    private readonly clock: Clock,
    random: () => number = Math.random,
  ) {
    this.enabled = options.enabled ?? false;
    this.maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY;
    this.#backoff = new Backoff(
      {
        initialDelay: options.minDelayMs ?? 1000,
        maxDelay: options.maxDelayMs ?? 30_000,
        factor: options.factor ?? 2,
        jitter: options.jitter ?? 0.5,
      },
      random,
    );
  }

  get attempt(): number {
    return this.#backoff.attempt;
  }

  get scheduled(): boolean {
    return this.#timer !== undefined;
  }

  /** Schedules `attempt` after the next delay; returns the delay, or undefined when giving up. */
  schedule(attempt: () => void): number | undefined {
    this.cancel();
    if (!this.enabled || this.#backoff.attempt >= this.maxAttempts) return undefined;
    const delay = this.#backoff.next();
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      attempt();
    }, delay);
    return delay;
  }

  cancel(): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** A connection succeeded. */
  succeeded(): void {
    this.#backoff.reset();
  }
}
