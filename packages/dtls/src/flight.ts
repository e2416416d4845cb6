import type { Timers } from './timers.js';

/** Flight retransmission settings (RFC 6347 §4.2.4; RFC 7925 §11 suggests a 9 s initial timer for slow links). */
export interface RetransmitOptions {
  /** First retransmission timeout in ms. Default 1000 (RFC 6347). */
  initialMs?: number;
  /** Upper bound for the doubled timeout in ms. Default 60000. */
  maxMs?: number;
  /** Retransmissions of one flight before the handshake is abandoned. Default 5. */
  maxRetransmissions?: number;
  /**
   * After this many retransmissions of a flight, re-fragment it into datagrams of at most
   * `backoffMtu` bytes, in case the path MTU was the problem. Default 2.
   */
  backoffAfter?: number;
  /** Datagram size in back-off mode. Default 512. */
  backoffMtu?: number;
}

export type ResolvedRetransmit = Required<RetransmitOptions>;

export function resolveRetransmit(o: RetransmitOptions | undefined): ResolvedRetransmit {
  const r = {
    initialMs: o?.initialMs ?? 1000,
    maxMs: o?.maxMs ?? 60_000,
    maxRetransmissions: o?.maxRetransmissions ?? 5,
    backoffAfter: o?.backoffAfter ?? 2,
    backoffMtu: o?.backoffMtu ?? 512,
  };
  if (!(r.initialMs > 0) || !(r.maxMs >= r.initialMs) || r.maxRetransmissions < 0) {
    throw new RangeError('retransmit: need 0 < initialMs <= maxMs and maxRetransmissions >= 0');
  }
  return r;
}

/**
 * The WAITING state of RFC 6347 §4.2.4's flight state machine for one outstanding flight:
 * the timer doubles on each expiry (capped at `maxMs`); after `maxRetransmissions` expiries the
 * flight is abandoned. A flight that needs no answer (the last one of a handshake) is not timed;
 * it is resent only when the peer retransmits.
 */
export class FlightTimer {
  #handle: unknown;
  #timeout: number;
  #attempts = 0;

  constructor(
    private readonly timers: Timers,
    private readonly options: ResolvedRetransmit,
    /** Called on expiry with the retransmission number (1-based): resend the flight. */
    private readonly onRetransmit: (attempt: number) => void,
    /** Called when the retransmissions are exhausted. */
    private readonly onGiveUp: () => void,
  ) {
    this.#timeout = options.initialMs;
  }

  get armed(): boolean {
    return this.#handle !== undefined;
  }
  get attempts(): number {
    return this.#attempts;
  }
  /** The timeout that the next expiry will use. */
  get currentTimeoutMs(): number {
    return this.#timeout;
  }

  /** A new flight was sent: start waiting with the initial timeout. */
  start(): void {
    this.stop();
    this.#attempts = 0;
    this.#timeout = this.options.initialMs;
    this.#arm();
  }

  /** The peer's next flight arrived (or the handshake ended): stop waiting. */
  stop(): void {
    if (this.#handle !== undefined) this.timers.clearTimeout(this.#handle);
    this.#handle = undefined;
  }

  #arm(): void {
    this.#handle = this.timers.setTimeout(() => this.#expire(), this.#timeout);
  }

  #expire(): void {
    this.#handle = undefined;
    if (this.#attempts >= this.options.maxRetransmissions) {
      this.onGiveUp();
      return;
    }
    this.#attempts++;
    this.#timeout = Math.min(this.#timeout * 2, this.options.maxMs);
    this.#arm(); // before the callback, which may stop() us
    this.onRetransmit(this.#attempts);
  }
}
