/**
 * Routing without flooding: every node mirrors the other nodes' filters (`filters:<node>`,
 * changes announced on the cluster channel) in a topic trie, and a message goes to the stream
 * of each node whose filters match it — one frame per message per node — and to no other.
 * Shared subscriptions: the receiving node picks one node per group (round robin over the
 * nodes with members), so each group gets one copy cluster-wide.
 *
 * `$SYS` topics are never forwarded: each node's `$SYS` tree describes that node.
 */
import { parseSharedSubscription } from '@iotwire/mqtt-packet';
import type { BrokerCore } from '../core.js';
import { fanOut, type Route } from '../delivery.js';
import type { BrokerMessage } from '../message.js';
import type { Subscription } from '../session.js';
import { type MatchResult, type SharedGroup, TopicTrie } from '../subscription-index.js';
import { encodeMessage } from './codec.js';
import type { Committer } from './commit.js';

interface RemoteEntry {
  readonly clientId: string; // the node id
  readonly topicFilter: string;
  readonly shareName: string | undefined;
}

const REMOTE_CACHE_MAX = 10_000;
export const groupKey = (shareName: string, topicFilter: string) => `${shareName}\u0000${topicFilter}`;

/** The cluster-wide name of messages that came from another node (set as they are decoded). */
const origins = new WeakMap<BrokerMessage, string>();
export function setOrigin(msg: BrokerMessage, origin: string): void {
  origins.set(msg, origin);
}
/** `<run>:<message id>` of the node that received the message from its publisher. */
export function originOf(msg: BrokerMessage, run: string): string {
  return origins.get(msg) ?? `${run}:${msg.id}`;
}

export class Router {
  readonly #remote = new TopicTrie<RemoteEntry>();
  readonly #byNode = new Map<string, Set<string>>();
  #cache = new Map<string, MatchResult<RemoteEntry>>();
  #gen = -1;
  readonly #rr = new Map<string, number>();

  constructor(
    private readonly core: BrokerCore,
    private readonly committer: Committer,
    private readonly run: string,
  ) {}

  /** Nodes whose filters this node knows. */
  nodes(): IterableIterator<string> {
    return this.#byNode.keys();
  }

  #match(topic: string): MatchResult<RemoteEntry> {
    const gen = this.#remote.generation;
    if (gen !== this.#gen) {
      this.#cache.clear();
      this.#gen = gen;
    }
    let r = this.#cache.get(topic);
    if (r === undefined) {
      r = this.#remote.match(topic);
      if (this.#cache.size >= REMOTE_CACHE_MAX) this.#cache.clear();
      this.#cache.set(topic, r);
    }
    return r;
  }

  /** Delivers locally and forwards to the nodes with matching filters. Returns sessions + nodes reached. */
  route(msg: BrokerMessage, local: Route, publisher: string): number {
    if (msg.topic.startsWith('$')) return fanOut(this.core, local, msg, publisher);
    const remote = this.#match(msg.topic);
    if (remote.subscriptions.length === 0 && remote.shared.length === 0) return fanOut(this.core, local, msg, publisher);
    let targets: Map<string, { normal: boolean; groups: string[] }> | undefined;
    const target = (node: string) => {
      targets ??= new Map();
      let t = targets.get(node);
      if (t === undefined) {
        t = { normal: false, groups: [] };
        targets.set(node, t);
      }
      return t;
    };
    for (const e of remote.subscriptions) target(e.clientId).normal = true;
    let mine: Set<SharedGroup<Subscription>> | undefined;
    if (remote.shared.length > 0) {
      mine = new Set();
      const localGroups = new Map<string, SharedGroup<Subscription>>();
      for (const g of local.shared) localGroups.set(groupKey(g.shareName, g.topicFilter), g);
      for (const rg of remote.shared) {
        const key = groupKey(rg.shareName, rg.topicFilter);
        const lg = localGroups.get(key);
        localGroups.delete(key);
        const n = rg.members.length + (lg !== undefined ? 1 : 0);
        const turn = this.#rr.get(key) ?? 0;
        this.#rr.set(key, turn + 1);
        const pick = turn % n;
        if (lg !== undefined && pick === rg.members.length) mine.add(lg);
        else target((rg.members[pick] as RemoteEntry).clientId).groups.push(key);
      }
      for (const g of localGroups.values()) mine.add(g);
    }
    let n = fanOut(this.core, local, msg, publisher, mine);
    if (targets !== undefined) {
      const origin = originOf(msg, this.run);
      for (const [node, t] of targets) {
        this.committer.forward(node, encodeMessage(msg, t.normal, t.groups, origin));
        n++;
      }
    }
    return n;
  }

  /**
   * A message forwarded by another node: delivered to the local subscribers it was meant for.
   * `only` limits it to some sessions (a dead node's stream re-delivered to its adopted sessions).
   */
  deliverForwarded(msg: BrokerMessage, normal: boolean, groups: string[], only?: ReadonlySet<string>): void {
    const core = this.core;
    let route = core.route(msg.topic);
    if (only !== undefined) route = { targets: route.targets.filter((t) => only.has(t.session.clientId)), shared: route.shared };
    let mine: Set<SharedGroup<Subscription>> | undefined;
    if (route.shared.length > 0) {
      mine = new Set();
      for (const g of route.shared) if (groups.includes(groupKey(g.shareName, g.topicFilter))) mine.add(g);
    }
    fanOut(core, route, msg, msg.senderId, mine, normal);
  }

  // --- the mirror of the other nodes' filters -------------------------------------------
  add(node: string, key: string): void {
    let set = this.#byNode.get(node);
    if (set === undefined) {
      set = new Set();
      this.#byNode.set(node, set);
    }
    if (set.has(key)) return;
    set.add(key);
    const shared = key.startsWith('$share/') ? parseSharedSubscription(key) : undefined;
    this.#remote.add({ clientId: node, topicFilter: shared?.topicFilter ?? key, shareName: shared?.shareName });
  }

  remove(node: string, key: string): void {
    const set = this.#byNode.get(node);
    if (set === undefined || !set.delete(key)) return;
    const shared = key.startsWith('$share/') ? parseSharedSubscription(key) : undefined;
    this.#remote.remove(node, shared?.topicFilter ?? key, shared?.shareName);
  }

  dropNode(node: string): void {
    const set = this.#byNode.get(node);
    if (set === undefined) return;
    for (const key of [...set]) this.remove(node, key);
    this.#byNode.delete(node);
  }
}

/**
 * The filters this node serves, kept in `filters:<node>` and announced on the cluster channel:
 * only appearance and disappearance of a filter on the node (the ClusterIndex counts).
 */
export class FilterAnnouncer {
  /** Filters present on this node (desired) and what Redis was last told. */
  readonly #filters = new Map<string, boolean>();
  readonly #told = new Set<string>();

  constructor(
    private readonly filtersKey: string,
    private readonly channel: string,
    private readonly me: string,
  ) {}

  changed(key: string, present: boolean): void {
    this.#filters.set(key, present);
  }

  dirty(): boolean {
    for (const [k, present] of this.#filters) if (present !== this.#told.has(k)) return true;
    return false;
  }

  /** Commands that bring `filters:<node>` up to date, and one announcement of the change. */
  ops(): (string | Buffer)[][] {
    const add: string[] = [];
    const del: string[] = [];
    for (const [k, present] of this.#filters) {
      if (present && !this.#told.has(k)) {
        add.push(k);
        this.#told.add(k);
      } else if (!present && this.#told.has(k)) {
        del.push(k);
        this.#told.delete(k);
      }
      if (!present) this.#filters.delete(k);
    }
    if (add.length === 0 && del.length === 0) return [];
    const ops: (string | Buffer)[][] = [];
    if (add.length > 0) ops.push(['hset', this.filtersKey, ...add.flatMap((k) => [k, '1'])]);
    if (del.length > 0) ops.push(['hdel', this.filtersKey, ...del]);
    ops.push(['publish', this.channel, `F${JSON.stringify({ n: this.me, a: add, r: del })}`]);
    return ops;
  }

  /**
   * A restarted node: what its previous run announced is still in Redis (and mirrored by the
   * others). It stays until the restored sessions say otherwise, so nothing routed meanwhile
   * misses them; what no restored session needs is withdrawn with the next commit.
   */
  startFrom(told: readonly string[]): void {
    for (const k of told) {
      this.#told.add(k);
      if (!this.#filters.has(k)) this.#filters.set(k, false);
    }
  }

  /** The reaper deleted this node's filters in Redis: start the bookkeeping from nothing. */
  reset(): void {
    this.#told.clear();
    this.#filters.clear();
  }
}
