import { topicMatches } from '@iotwire/mqtt-packet';
import type { BrokerMessage } from './message.js';

/**
 * Retained messages by topic [MQTT-3.3.1-5]: a RETAIN=1 PUBLISH replaces the topic's message,
 * one with an empty payload deletes it and is not stored [MQTT-3.3.1-10] [MQTT-3.3.1-11].
 * Lookups for a new subscription scan by filter (exact filters are a direct hit).
 */
export class RetainedStore {
  readonly #byTopic = new Map<string, BrokerMessage>();
  #bytes = 0;

  get size(): number {
    return this.#byTopic.size;
  }
  /** Payload bytes held. */
  get bytes(): number {
    return this.#bytes;
  }

  get(topic: string): BrokerMessage | undefined {
    return this.#byTopic.get(topic);
  }

  /** Stores, replaces or (empty payload) deletes. Returns true when the store changed. */
  set(message: BrokerMessage): boolean {
    const old = this.#byTopic.get(message.topic);
    if (old !== undefined) this.#bytes -= old.payload.length;
    if (message.payload.length === 0) {
      return this.#byTopic.delete(message.topic);
    }
    this.#byTopic.set(message.topic, message);
    this.#bytes += message.payload.length;
    return true;
  }

  delete(topic: string): boolean {
    const old = this.#byTopic.get(topic);
    if (old === undefined) return false;
    this.#bytes -= old.payload.length;
    return this.#byTopic.delete(topic);
  }

  clear(): void {
    this.#byTopic.clear();
    this.#bytes = 0;
  }

  /** Retained messages whose topic matches `filter` (inner filter, no `$share/`). Expired ones are skipped and dropped. */
  *match(filter: string, now = Date.now()): Generator<BrokerMessage> {
    const wild = filter.includes('+') || filter.includes('#');
    if (!wild) {
      const m = this.#byTopic.get(filter);
      if (m !== undefined && !this.#expired(m, now)) yield m;
      return;
    }
    for (const m of [...this.#byTopic.values()]) {
      if (topicMatches(filter, m.topic) && !this.#expired(m, now)) yield m;
    }
  }

  values(): IterableIterator<BrokerMessage> {
    return this.#byTopic.values();
  }

  #expired(m: BrokerMessage, now: number): boolean {
    if (m.expiresAt !== 0 && m.expiresAt <= now) {
      this.delete(m.topic);
      return true;
    }
    return false;
  }
}
