import type { Clock } from './clock.js';

export interface KeepAliveHooks {
  /** Write a PINGREQ. */
  sendPing(): void;
  /** The link is dead: no PINGRESP (nor anything else) within the timeout after PINGREQ. */
  onTimeout(): void;
}

/**
 * MQTT keep-alive (§3.1.2.10 / §4.6 of the digest). Elapsed time comes from a monotonic
 * clock, never from counting timer ticks, so a timer that fires late after an event-loop
 * stall sees the real idle time:
 * - PINGREQ goes out only when nothing was *sent* for the interval (any packet resets it).
 * - A missing PINGRESP is judged only after pending I/O has been read: when the check runs
 *   late (a stall), the response may already sit in the socket buffer, so the verdict waits
 *   one I/O turn (`afterIo`) and any packet received since the PINGREQ counts as alive.
 */
export class KeepAlive {
  #intervalMs = 0;
  #timeoutMs = 0;
  #timer: unknown;
  #lastSent = 0;
  #lastReceived = 0;
  #pingSentAt = -1;
  #running = false;

  constructor(
    private readonly clock: Clock,
    private readonly hooks: KeepAliveHooks,
  ) {}

  /** Interval in effect, seconds (0 = disabled). */
  get intervalSeconds(): number {
    return this.#intervalMs / 1000;
  }

  /** True while a PINGREQ awaits its answer. */
  get pingOutstanding(): boolean {
    return this.#pingSentAt >= 0;
  }

  /** Starts (or restarts) with `seconds`; 0 disables. `timeoutMs` defaults to the interval. */
  start(seconds: number, timeoutMs?: number): void {
    this.stop();
    if (seconds <= 0) return;
    this.#intervalMs = seconds * 1000;
    this.#timeoutMs = timeoutMs ?? this.#intervalMs;
    const now = this.clock.now();
    this.#lastSent = now;
    this.#lastReceived = now;
    this.#running = true;
    this.#arm(this.#intervalMs);
  }

  stop(): void {
    this.#running = false;
    this.#pingSentAt = -1;
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Something was written (called once per batched flush, not per packet). */
  sent(): void {
    this.#lastSent = this.clock.now();
  }

  /** Something arrived. */
  received(): void {
    this.#lastReceived = this.clock.now();
  }

  /** PINGRESP arrived. */
  pong(): void {
    this.#lastReceived = this.clock.now();
    this.#pingSentAt = -1;
  }

  #arm(ms: number): void {
    if (this.#timer !== undefined) this.clock.clearTimeout(this.#timer);
    this.#timer = this.clock.setTimeout(() => this.#check(), Math.max(0, Math.ceil(ms)));
  }

  #check(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const now = this.clock.now();
    if (this.#pingSentAt >= 0) {
      if (this.#lastReceived > this.#pingSentAt) {
        this.#pingSentAt = -1; // some other packet proved the link alive
      } else if (now - this.#pingSentAt >= this.#timeoutMs) {
        // Read whatever arrived during a stall before calling the link dead.
        this.clock.afterIo(() => {
          if (!this.#running || this.#pingSentAt < 0) return;
          if (this.#lastReceived > this.#pingSentAt) {
            this.#pingSentAt = -1;
            this.#check();
            return;
          }
          this.#running = false;
          this.hooks.onTimeout();
        });
        return;
      } else {
        this.#arm(this.#pingSentAt + this.#timeoutMs - now);
        return;
      }
    }
    const idle = now - this.#lastSent;
    if (idle >= this.#intervalMs) {
      this.#pingSentAt = now;
      this.hooks.sendPing(); // updates lastSent through sent()
      this.#lastSent = now;
      this.#arm(Math.min(this.#timeoutMs, this.#intervalMs));
    } else {
      this.#arm(this.#intervalMs - idle);
    }
  }
}
