import type { Subscription, UserProperties } from '@iotwire/mqtt-packet';

/** A subscription the server granted, remembered so it can be restored after a lost session. */
export interface SubscriptionRecord extends Subscription {
  subscriptionIdentifier?: number;
  userProperties?: UserProperties;
}

/**
 * The client's view of its granted subscriptions. When a reconnect finds no session on the
 * server (Session Present 0), they are re-issued: MQTT.js users' most common complaint is
 * subscriptions silently lost after a reconnect.
 */
export class SubscriptionRegistry {
  readonly #byFilter = new Map<string, SubscriptionRecord>();

  get size(): number {
    return this.#byFilter.size;
  }

  /** Records a granted subscription (replacing an earlier one for the same filter, as the server does). */
  granted(record: SubscriptionRecord): void {
    this.#byFilter.set(record.topicFilter, { ...record });
  }

  removed(topicFilter: string): void {
    this.#byFilter.delete(topicFilter);
  }

  has(topicFilter: string): boolean {
    return this.#byFilter.has(topicFilter);
  }

  get(topicFilter: string): SubscriptionRecord | undefined {
    return this.#byFilter.get(topicFilter);
  }

  clear(): void {
    this.#byFilter.clear();
  }

  list(): SubscriptionRecord[] {
    return [...this.#byFilter.values()];
  }

  /**
   * Groups for re-subscribing: one SUBSCRIBE per distinct (subscription identifier, user
   * properties), since those are per packet, not per filter. The requested QoS is what the
   * application originally asked for.
   */
  restoreGroups(): { subscriptions: Subscription[]; subscriptionIdentifier?: number; userProperties?: UserProperties }[] {
    const groups = new Map<string, { subscriptions: Subscription[]; subscriptionIdentifier?: number; userProperties?: UserProperties }>();
    for (const r of this.#byFilter.values()) {
      const key = `${r.subscriptionIdentifier ?? ''}|${r.userProperties ? JSON.stringify(r.userProperties) : ''}`;
      let g = groups.get(key);
      if (!g) {
        g = { subscriptions: [] };
        if (r.subscriptionIdentifier !== undefined) g.subscriptionIdentifier = r.subscriptionIdentifier;
        if (r.userProperties !== undefined) g.userProperties = r.userProperties;
        groups.set(key, g);
      }
      const s: Subscription = { topicFilter: r.topicFilter, qos: r.qos };
      if (r.noLocal !== undefined) s.noLocal = r.noLocal;
      if (r.retainAsPublished !== undefined) s.retainAsPublished = r.retainAsPublished;
      if (r.retainHandling !== undefined) s.retainHandling = r.retainHandling;
      g.subscriptions.push(s);
    }
    return [...groups.values()];
  }
}
