/**
 * The routing seam: which subscriptions match a topic. The broker uses {@link TopicTrie}; a
 * cluster router can implement {@link SubscriptionIndex} to forward only to nodes that hold
 * matching subscribers.
 */

/** What the index needs to know about a subscription. */
export interface IndexedSubscription {
  /** Owner (one subscription per client and filter). */
  readonly clientId: string;
  /** The filter without any `$share/{name}/` prefix. */
  readonly topicFilter: string;
  /** Share name for `$share/{name}/{filter}` subscriptions. */
  readonly shareName: string | undefined;
}

/** The members of one shared subscription (`$share/{shareName}/{topicFilter}`). */
export interface SharedGroup<S extends IndexedSubscription> {
  readonly shareName: string;
  readonly topicFilter: string;
  readonly members: S[];
  /** Round-robin cursor, owned by the router. */
  next: number;
}

export interface MatchResult<S extends IndexedSubscription> {
  /** Ordinary subscriptions whose filter matches (a client may appear more than once). */
  readonly subscriptions: readonly S[];
  /** Shared groups whose filter matches. */
  readonly shared: readonly SharedGroup<S>[];
}

export interface SubscriptionIndex<S extends IndexedSubscription> {
  /** Adds or replaces (same client, filter and share name). Returns the replaced one, if any. */
  add(subscription: S): S | undefined;
  /** Removes; returns the removed subscription. */
  remove(clientId: string, topicFilter: string, shareName?: string): S | undefined;
  match(topic: string): MatchResult<S>;
  /** Changes on every add/remove, so callers can cache match results. */
  readonly generation: number;
  /** Number of subscriptions held. */
  readonly size: number;
}

const EMPTY: MatchResult<never> = Object.freeze({ subscriptions: Object.freeze([]), shared: Object.freeze([]) });

class Node<S extends IndexedSubscription> {
  children: Map<string, Node<S>> | null = null;
  subs: S[] | null = null;
  shared: Map<string, SharedGroup<S>> | null = null;
  get empty(): boolean {
    return (
      (this.children === null || this.children.size === 0) &&
      (this.subs === null || this.subs.length === 0) &&
      (this.shared === null || this.shared.size === 0)
    );
  }
}

/**
 * Topic trie: one node per level; `+` and `#` are children like any other level. Matching
 * follows the exact level, `+` and `#`, and skips wildcards at the first level of a `$` topic
 * [MQTT-4.7.2-1].
 */
export class TopicTrie<S extends IndexedSubscription> implements SubscriptionIndex<S> {
  #root = new Node<S>();
  #generation = 0;
  #size = 0;

  get generation(): number {
    return this.#generation;
  }
  get size(): number {
    return this.#size;
  }

  add(sub: S): S | undefined {
    let node = this.#root;
    for (const level of sub.topicFilter.split('/')) {
      node.children ??= new Map();
      let child = node.children.get(level);
      if (child === undefined) {
        child = new Node();
        node.children.set(level, child);
      }
      node = child;
    }
    this.#generation++;
    let list: S[];
    if (sub.shareName !== undefined) {
      node.shared ??= new Map();
      let group = node.shared.get(sub.shareName);
      if (group === undefined) {
        group = { shareName: sub.shareName, topicFilter: sub.topicFilter, members: [], next: 0 };
        node.shared.set(sub.shareName, group);
      }
      list = group.members;
    } else {
      node.subs ??= [];
      list = node.subs;
    }
    for (let i = 0; i < list.length; i++) {
      const old = list[i] as S;
      if (old.clientId === sub.clientId) {
        list[i] = sub;
        return old;
      }
    }
    list.push(sub);
    this.#size++;
    return undefined;
  }

  remove(clientId: string, topicFilter: string, shareName?: string): S | undefined {
    const path: Node<S>[] = [];
    const levels = topicFilter.split('/');
    let node: Node<S> | undefined = this.#root;
    for (const level of levels) {
      path.push(node);
      node = node.children?.get(level);
      if (node === undefined) return undefined;
    }
    let list: S[] | undefined;
    let group: SharedGroup<S> | undefined;
    if (shareName !== undefined) {
      group = node.shared?.get(shareName);
      list = group?.members;
    } else {
      list = node.subs ?? undefined;
    }
    if (list === undefined) return undefined;
    const i = list.findIndex((s) => s.clientId === clientId);
    if (i < 0) return undefined;
    const [removed] = list.splice(i, 1);
    this.#size--;
    this.#generation++;
    if (group !== undefined && group.members.length === 0) node.shared?.delete(group.shareName);
    // Prune empty nodes bottom-up so the trie does not keep dead levels.
    for (let d = levels.length - 1; d >= 0 && node.empty; d--) {
      const parent = path[d] as Node<S>;
      parent.children?.delete(levels[d] as string);
      node = parent;
    }
    return removed;
  }

  match(topic: string): MatchResult<S> {
    const subs: S[] = [];
    const shared: SharedGroup<S>[] = [];
    const levels = topic.split('/');
    const dollar = topic.charCodeAt(0) === 0x24;
    const collect = (n: Node<S>) => {
      if (n.subs !== null) for (const s of n.subs) subs.push(s);
      if (n.shared !== null) for (const g of n.shared.values()) shared.push(g);
    };
    const walk = (n: Node<S>, i: number) => {
      const ch = n.children;
      if (i === levels.length) {
        collect(n);
        // "a/#" matches "a" too: '#' includes the parent level.
        const hash = ch?.get('#');
        if (hash !== undefined) collect(hash);
        return;
      }
      if (ch === null) return;
      const wild = !(i === 0 && dollar);
      if (wild) {
        const hash = ch.get('#');
        if (hash !== undefined) collect(hash);
        const plus = ch.get('+');
        if (plus !== undefined) walk(plus, i + 1);
      }
      const exact = ch.get(levels[i] as string);
      if (exact !== undefined) walk(exact, i + 1);
    };
    walk(this.#root, 0);
    if (subs.length === 0 && shared.length === 0) return EMPTY;
    return { subscriptions: subs, shared };
  }
}
