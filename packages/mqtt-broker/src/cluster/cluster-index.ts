import type { Session, Subscription } from '../session.js';
import { type MatchResult, type SubscriptionIndex, TopicTrie } from '../subscription-index.js';

/** The cluster-wide key of a filter: the filter, or `$share/{name}/{filter}`. */
export function filterKey(topicFilter: string, shareName: string | undefined): string {
  return shareName === undefined ? topicFilter : `$share/${shareName}/${topicFilter}`;
}

/**
 * The broker's subscription index when clustered: the usual trie, plus a count of local
 * subscriptions per filter, so the node tells the cluster only when a filter appears on it or
 * disappears (the routing seam of `subscription-index.ts`).
 */
export class ClusterIndex implements SubscriptionIndex<Subscription> {
  readonly #trie = new TopicTrie<Subscription>();
  readonly #counts = new Map<string, number>();

  constructor(private readonly changed: (key: string, present: boolean) => void) {}

  get generation(): number {
    return this.#trie.generation;
  }
  get size(): number {
    return this.#trie.size;
  }
  /** Filters held on this node (with `$share/` keys for shared ones). */
  filters(): IterableIterator<string> {
    return this.#counts.keys();
  }

  add(sub: Subscription): Subscription | undefined {
    const replaced = this.#trie.add(sub);
    if (replaced === undefined) {
      const k = filterKey(sub.topicFilter, sub.shareName);
      const n = (this.#counts.get(k) ?? 0) + 1;
      this.#counts.set(k, n);
      if (n === 1) this.changed(k, true);
    }
    return replaced;
  }

  remove(clientId: string, topicFilter: string, shareName?: string): Subscription | undefined {
    const removed = this.#trie.remove(clientId, topicFilter, shareName);
    if (removed !== undefined) {
      const k = filterKey(topicFilter, shareName);
      const n = (this.#counts.get(k) ?? 1) - 1;
      if (n <= 0) {
        this.#counts.delete(k);
        this.changed(k, false);
      } else this.#counts.set(k, n);
    }
    return removed;
  }

  match(topic: string): MatchResult<Subscription> {
    return this.#trie.match(topic);
  }
}

/** Drops a session's subscriptions from the index (hand-over to another node). */
export function unindexSession(index: SubscriptionIndex<Subscription>, session: Session): void {
  if (!session.hasSubscriptions) return;
  for (const sub of session.subscriptions.values()) index.remove(session.clientId, sub.topicFilter, sub.shareName);
}
