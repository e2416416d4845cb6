import { clientError } from './errors.js';
import type { MqttMessage } from './message.js';

interface Waiter {
  resolve(m: MqttMessage): void;
  reject(e: unknown): void;
  timer: ReturnType<typeof setTimeout> | undefined;
}

const hex = (u: Uint8Array): string => {
  let s = '';
  for (let i = 0; i < u.length; i++) s += (u[i] as number).toString(16).padStart(2, '0');
  return s;
};

/**
 * MQTT 5 request/response (§4.10): each request carries a Response Topic and unique
 * Correlation Data; the response is matched back by its correlation data.
 */
export class RequestTracker {
  readonly #waiting = new Map<string, Waiter>();
  #counter = 0;
  readonly #prefix: Uint8Array;

  constructor() {
    this.#prefix = new Uint8Array(8);
    globalThis.crypto.getRandomValues(this.#prefix);
  }

  get pending(): number {
    return this.#waiting.size;
  }

  /** Fresh correlation data: 8 random bytes for this client + a 4-byte counter. */
  nextCorrelation(): Uint8Array {
    const out = new Uint8Array(12);
    out.set(this.#prefix, 0);
    const n = this.#counter++ >>> 0;
    out[8] = n >>> 24;
    out[9] = (n >>> 16) & 0xff;
    out[10] = (n >>> 8) & 0xff;
    out[11] = n & 0xff;
    return out;
  }

  /** Registers a waiter for `correlation`; rejects with ERR_TIMEOUT after `timeoutMs` (0 = never). */
  wait(correlation: Uint8Array, timeoutMs: number): Promise<MqttMessage> {
    const key = hex(correlation);
    return new Promise<MqttMessage>((resolve, reject) => {
      const w: Waiter = { resolve, reject, timer: undefined };
      if (timeoutMs > 0) {
        w.timer = setTimeout(() => {
          this.#waiting.delete(key);
          reject(clientError('ERR_TIMEOUT', `no response within ${timeoutMs} ms`));
        }, timeoutMs);
      }
      this.#waiting.set(key, w);
    });
  }

  /** Offers an incoming message; true when it answered a pending request. */
  offer(msg: MqttMessage): boolean {
    const corr = msg.properties?.correlationData;
    if (!corr || this.#waiting.size === 0) return false;
    const key = hex(corr);
    const w = this.#waiting.get(key);
    if (!w) return false;
    this.#waiting.delete(key);
    if (w.timer) clearTimeout(w.timer);
    w.resolve(msg);
    return true;
  }

  /** Cancels one request (its publish failed). */
  cancel(correlation: Uint8Array, err: unknown): void {
    const key = hex(correlation);
    const w = this.#waiting.get(key);
    if (!w) return;
    this.#waiting.delete(key);
    if (w.timer) clearTimeout(w.timer);
    w.reject(err);
  }

  rejectAll(err: unknown): void {
    for (const w of this.#waiting.values()) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(err);
    }
    this.#waiting.clear();
  }
}
