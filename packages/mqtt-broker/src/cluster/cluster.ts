/**
 * One node of a broker cluster on Redis. Several broker processes (one machine or many) form
 * one logical broker:
 *
 * - Routing: each node keeps the set of filters its sessions subscribe to in Redis
 *   (`filters:<node>`) and announces changes on the cluster channel; every node mirrors the
 *   others' filters in a topic trie. A message goes to the per-node stream (`fwd:<node>`) of
 *   the nodes whose filters match, and nowhere else. Shared subscriptions: the receiving node
 *   picks one node per group (round robin over the nodes with members), so each group gets
 *   one copy cluster-wide.
 * - QoS per hop: the receiving node acknowledges once the forward (and the persistent
 *   sessions' changes) are in Redis; the remote node delivers by its subscribers' session rules.
 * - Sessions: persistent session state lives in Redis (RedisStorage). A client id is owned by
 *   one node (`owner:<client>`); a CONNECT on another node asks the owner to release it (the
 *   owner closes the old connection, 0x8E, writes the session out), then loads it.
 * - Retained messages: in Redis, every change published on the cluster channel in write order,
 *   mirrored in memory by every node.
 * - Failure: nodes refresh `alive:<node>` (TTL `nodeTimeout`). When one expires, one other
 *   node (lock `reap:<node>`) publishes the dead node's registered Wills — each claimed by an
 *   HDEL first, so none is published twice — adopts its persistent sessions (so messages keep
 *   queuing for them) and frees its clean client ids.
 */
import { parseSharedSubscription } from '@iotwire/mqtt-packet';
import { Redis } from 'ioredis';
import type { MqttConnection } from '../connection.js';
import type { BrokerCore } from '../core.js';
import { fanOut, type Route } from '../delivery.js';
import { BrokerError, BrokerErrorCode } from '../errors.js';
import type { BrokerMessage } from '../message.js';
import { fromStoredMessage, type GatedOutput } from '../persistence.js';
import type { Session, Subscription } from '../session.js';
import { restoreStoredSession } from '../session-json.js';
import { decodeRetained } from '../storage/records.js';
import { type MatchResult, type SharedGroup, TopicTrie } from '../subscription-index.js';
import { unindexSession } from './cluster-index.js';
import { decodeFrames, encodeFrame } from './codec.js';
import type { ResolvedClusterOptions } from './options.js';
import { RedisStorage } from './redis-storage.js';

interface RemoteEntry {
  readonly clientId: string; // the node id
  readonly topicFilter: string;
  readonly shareName: string | undefined;
}

interface Batch {
  ops: (string | Buffer)[][];
  fwd: Map<string, Buffer[]>;
  gated: Set<GatedOutput>;
  ownerChecks: Set<string>;
}

type ClusterRedis = Redis & {
  iotwireClaim(key: string, me: string, expected: string): Promise<string>;
  iotwireAdopt(ownerKey: string, sessionKey: string, dead: string, me: string): Promise<string>;
  iotwireFree(key: string, me: string): Promise<number>;
};

// Takes a client id: free, already ours, or held by the node we asked to release it.
const CLAIM = `
local cur = redis.call('GET', KEYS[1])
if (not cur) or cur == ARGV[1] or (ARGV[2] ~= '' and cur == ARGV[2]) then
  redis.call('SET', KEYS[1], ARGV[1])
  return ''
end
return cur`;
// A dead node's client id: adopt its persistent session, or free it.
const ADOPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'other' end
if redis.call('HEXISTS', KEYS[2], 'm') == 1 then
  redis.call('SET', KEYS[1], ARGV[2])
  return 'adopt'
end
redis.call('DEL', KEYS[1])
return 'free'`;
const FREE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

const REMOTE_CACHE_MAX = 10_000;
const groupKey = (shareName: string, topicFilter: string) => `${shareName}\u0000${topicFilter}`;

function newBatch(): Batch {
  return { ops: [], fwd: new Map(), gated: new Set(), ownerChecks: new Set() };
}

export class ClusterNode {
  readonly id: string;
  readonly storage: RedisStorage;
  /** Forwards and registry changes queued so far (callers compare it around a packet). */
  queued = 0;
  readonly #o: ResolvedClusterOptions;
  readonly #core: BrokerCore;
  readonly #cmd: ClusterRedis;
  #sub: Redis | null = null;
  #blk: Redis | null = null;
  readonly #p: string;
  readonly #events: string;

  readonly #remote = new TopicTrie<RemoteEntry>();
  readonly #remoteByNode = new Map<string, Set<string>>();
  #remoteCache = new Map<string, MatchResult<RemoteEntry>>();
  #remoteGen = -1;
  readonly #rr = new Map<string, number>();

  #open = newBatch();
  #scheduled = false;
  #writing: Promise<void> | null = null;
  /** Filters present on this node (desired) and what Redis was last told. */
  readonly #filters = new Map<string, boolean>();
  readonly #told = new Set<string>();
  /** Client id → connection id whose Will is registered in Redis. */
  readonly #wills = new Map<string, string>();
  readonly #releases = new Map<string, () => void>();
  #reqSeq = 0;
  #running = false;
  #loading: [Buffer, Buffer][] | null = null;
  #heartbeat: NodeJS.Timeout | undefined;
  #beating = false;
  #reader: Promise<void> | null = null;

  constructor(core: BrokerCore, o: ResolvedClusterOptions) {
    this.#core = core;
    this.#o = o;
    this.id = o.nodeId;
    this.#p = o.keyPrefix;
    this.#events = `${o.keyPrefix}events`;
    const base = typeof o.redis === 'string' ? new Redis(o.redis, { lazyConnect: true }) : new Redis({ ...o.redis, lazyConnect: true });
    this.#cmd = base as ClusterRedis;
    this.#cmd.on('error', (err) => this.#redisError(err));
    this.#cmd.defineCommand('iotwireClaim', { numberOfKeys: 1, lua: CLAIM });
    this.#cmd.defineCommand('iotwireAdopt', { numberOfKeys: 2, lua: ADOPT });
    this.#cmd.defineCommand('iotwireFree', { numberOfKeys: 1, lua: FREE });
    this.storage = new RedisStorage(this.#cmd, { keyPrefix: o.keyPrefix, retainedChannel: this.#events });
  }

  #lastRedisError = 0;
  #redisError(err: unknown): void {
    // ioredis retries on its own; report at most once per second.
    const now = Date.now();
    if (now - this.#lastRedisError < 1000) return;
    this.#lastRedisError = now;
    this.#core.reportError(new BrokerError(BrokerErrorCode.Cluster, `redis: ${(err as Error)?.message}`, { cause: err }));
  }

  #k(...parts: string[]): string {
    return this.#p + parts.join(':');
  }

  // --- lifecycle ------------------------------------------------------------------------
  async start(): Promise<void> {
    const cmd = this.#cmd;
    try {
      await cmd.connect();
    } catch (err) {
      cmd.disconnect(); // no retrying in the background of a broker that did not start
      throw new BrokerError(BrokerErrorCode.Cluster, `cannot connect to Redis: ${(err as Error).message}`, { cause: err });
    }
    if ((await cmd.exists(this.#k('alive', this.id))) === 1) {
      cmd.disconnect();
      throw new BrokerError(BrokerErrorCode.Cluster, `cluster node id ${JSON.stringify(this.id)} is in use by a running node`);
    }
    const sub = (this.#sub = cmd.duplicate());
    sub.on('error', (err) => this.#redisError(err));
    this.#blk = cmd.duplicate();
    this.#blk.on('error', (err) => this.#redisError(err));
    this.#loading = [];
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      if (this.#loading !== null) this.#loading.push([channel, message]);
      else this.#onMessage(channel.toString(), message);
    });
    await sub.subscribe(this.#events, this.#k('ctl', this.id));
    this.#running = true;
    // What a previous run of this node id left: its Wills are due, its sessions come back.
    await this.#withReapLock(this.id, () => this.#reap(this.id), true);
    await cmd.set(this.#k('alive', this.id), String(process.pid), 'PX', this.#o.nodeTimeout);
    await cmd.sadd(this.#k('nodes'), this.id);
    await cmd.del(this.#k('fwd', this.id));
    for (const m of await this.storage.loadRetained()) {
      this.#core.seeMessageId(m.messageId);
      this.#core.retained.set(fromStoredMessage(m));
    }
    for (const node of await cmd.smembers(this.#k('nodes'))) {
      if (node === this.id) continue;
      for (const key of await cmd.hkeys(this.#k('filters', node))) this.#remoteAdd(node, key);
    }
    const buffered = this.#loading;
    this.#loading = null;
    for (const [ch, m] of buffered) this.#onMessage(ch.toString(), m);
    this.#heartbeat = setInterval(() => void this.#beat(), this.#o.heartbeatInterval);
    this.#heartbeat.unref();
    this.#reader = this.#read();
    this.#schedule();
  }

  /** Leaves the cluster: pending writes are flushed, then the other nodes take over what this node held. */
  async stop(): Promise<void> {
    if (!this.#running) {
      this.#cmd.disconnect();
      return;
    }
    this.#running = false;
    clearInterval(this.#heartbeat);
    await this.flush();
    try {
      // Wills were decided by shutdown (willOnShutdown); what is left is not to be published.
      await this.#cmd.del(this.#k('wills', this.id));
      await this.#cmd.del(this.#k('alive', this.id));
    } catch {
      // Redis gone: the others will find this node dead anyway.
    }
    this.#blk?.disconnect();
    this.#sub?.disconnect();
    await this.#reader;
    this.#cmd.disconnect();
  }

  // --- routing --------------------------------------------------------------------------
  #remoteMatch(topic: string): MatchResult<RemoteEntry> {
    const gen = this.#remote.generation;
    if (gen !== this.#remoteGen) {
      this.#remoteCache.clear();
      this.#remoteGen = gen;
    }
    let r = this.#remoteCache.get(topic);
    if (r === undefined) {
      r = this.#remote.match(topic);
      if (this.#remoteCache.size >= REMOTE_CACHE_MAX) this.#remoteCache.clear();
      this.#remoteCache.set(topic, r);
    }
    return r;
  }

  /** Delivers locally and forwards to the nodes with matching filters. Returns sessions + nodes reached. */
  route(msg: BrokerMessage, local: Route, publisher: string): number {
    const remote = this.#remoteMatch(msg.topic);
    if (remote.subscriptions.length === 0 && remote.shared.length === 0) return fanOut(this.#core, local, msg, publisher);
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
    let n = fanOut(this.#core, local, msg, publisher, mine);
    if (targets !== undefined) {
      for (const [node, t] of targets) {
        let frames = this.#open.fwd.get(node);
        if (frames === undefined) {
          frames = [];
          this.#open.fwd.set(node, frames);
        }
        frames.push(encodeFrame(msg, t.normal, t.groups));
        n++;
      }
      this.queued++;
      this.#schedule();
    }
    return n;
  }

  /** A message forwarded by another node: delivered to the local subscribers it was meant for. */
  #deliverForwarded(msg: BrokerMessage, normal: boolean, groups: string[]): void {
    const core = this.#core;
    const route = core.route(msg.topic);
    let mine: Set<SharedGroup<Subscription>> | undefined;
    if (route.shared.length > 0) {
      mine = new Set();
      for (const g of route.shared) if (groups.includes(groupKey(g.shareName, g.topicFilter))) mine.add(g);
    }
    fanOut(core, route, msg, msg.senderId, mine, normal);
  }

  async #read(): Promise<void> {
    const key = this.#k('fwd', this.id);
    let last = '0-0';
    const blk = this.#blk as Redis;
    while (this.#running) {
      let res: [Buffer, [Buffer, Buffer[]][]][] | null;
      try {
        res = (await blk.xreadBuffer('COUNT', 500, 'BLOCK', 1000, 'STREAMS', key, last)) as typeof res;
      } catch (err) {
        if (!this.#running) return;
        this.#redisError(err);
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (res === null) continue;
      for (const [, entries] of res) {
        for (const [id, fields] of entries) {
          last = id.toString();
          for (let i = 0; i + 1 < fields.length; i += 2) {
            for (const f of decodeFrames(fields[i + 1] as Buffer, () => this.#core.nextMessageId())) {
              try {
                this.#deliverForwarded(f.message, f.normal, f.groups);
              } catch (err) {
                this.#core.internalError(undefined, err);
              }
            }
          }
        }
      }
    }
  }

  // --- the per-turn Redis pipeline --------------------------------------------------------
  /** Holds `conn`'s output until what was queued in this turn is in Redis. */
  gate(conn: GatedOutput): void {
    if (this.#open.gated.has(conn)) return;
    conn.holdOutput();
    this.#open.gated.add(conn);
    this.#schedule();
  }

  #queue(...op: (string | Buffer)[]): void {
    this.#open.ops.push(op);
    this.queued++;
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing !== null || !this.#running) return;
    this.#scheduled = true;
    setImmediate(this.#commit);
  }

  #commit = (): void => {
    this.#scheduled = false;
    if (this.#writing !== null) return;
    const b = this.#open;
    const filterOps = this.#filterOps();
    if (b.ops.length === 0 && b.fwd.size === 0 && b.gated.size === 0 && b.ownerChecks.size === 0 && filterOps.length === 0) return;
    this.#open = newBatch();
    const pipe = this.#cmd.pipeline();
    for (const [node, frames] of b.fwd) {
      pipe.xadd(
        this.#k('fwd', node),
        'MAXLEN',
        '~',
        this.#o.streamMaxLength,
        '*',
        'm',
        frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames),
      );
    }
    for (const op of [...filterOps, ...b.ops]) pipe.call(op[0] as string, ...op.slice(1));
    // Client ids whose session ended here, unless a new session took them in the meantime.
    const frees = [...b.ownerChecks].filter((cid) => !this.#core.sessions.has(cid));
    for (const cid of frees) pipe.srem(this.#k('clients', this.id), cid);
    this.#writing = this.#exec(pipe, b, frees);
  };

  async #exec(pipe: ReturnType<Redis['pipeline']>, b: Batch, frees: string[]): Promise<void> {
    let failed: unknown;
    try {
      const res = await pipe.exec();
      for (const [err] of res ?? []) if (err) failed ??= err;
      for (const cid of frees) await this.#cmd.iotwireFree(this.#k('owner', cid), this.id);
    } catch (err) {
      failed = err;
    }
    for (const c of b.gated) {
      if (failed === undefined) c.releaseOutput();
      else c.failOutput('cluster write failed');
    }
    if (failed !== undefined) this.#redisError(failed);
    this.#writing = null;
    const o = this.#open;
    if (o.ops.length > 0 || o.fwd.size > 0 || o.gated.size > 0 || o.ownerChecks.size > 0 || this.#filtersDirty()) this.#schedule();
  }

  /** Resolves once everything queued so far is in Redis. */
  async flush(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      if (this.#writing !== null) {
        await this.#writing;
        continue;
      }
      const o = this.#open;
      if (o.ops.length === 0 && o.fwd.size === 0 && o.gated.size === 0 && o.ownerChecks.size === 0 && !this.#filtersDirty()) return;
      if (!this.#running) return;
      this.#commit();
    }
  }

  // --- filters ------------------------------------------------------------------------------
  /** From the ClusterIndex: a filter appeared on this node or disappeared. */
  filterChanged(key: string, present: boolean): void {
    this.#filters.set(key, present);
    this.queued++;
    this.#schedule();
  }

  #filtersDirty(): boolean {
    for (const [k, present] of this.#filters) if (present !== this.#told.has(k)) return true;
    return false;
  }

  /** Redis commands that bring `filters:<node>` up to date, and one announcement of the change. */
  #filterOps(): (string | Buffer)[][] {
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
    const key = this.#k('filters', this.id);
    const ops: (string | Buffer)[][] = [];
    if (add.length > 0) ops.push(['hset', key, ...add.flatMap((k) => [k, '1'])]);
    if (del.length > 0) ops.push(['hdel', key, ...del]);
    ops.push(['publish', this.#events, `F${JSON.stringify({ n: this.id, a: add, r: del })}`]);
    return ops;
  }

  #remoteAdd(node: string, key: string): void {
    let set = this.#remoteByNode.get(node);
    if (set === undefined) {
      set = new Set();
      this.#remoteByNode.set(node, set);
    }
    if (set.has(key)) return;
    set.add(key);
    const shared = key.startsWith('$share/') ? parseSharedSubscription(key) : undefined;
    this.#remote.add({ clientId: node, topicFilter: shared?.topicFilter ?? key, shareName: shared?.shareName });
  }

  #remoteRemove(node: string, key: string): void {
    const set = this.#remoteByNode.get(node);
    if (set === undefined || !set.delete(key)) return;
    const shared = key.startsWith('$share/') ? parseSharedSubscription(key) : undefined;
    this.#remote.remove(node, shared?.topicFilter ?? key, shared?.shareName);
  }

  #remoteDropNode(node: string): void {
    const set = this.#remoteByNode.get(node);
    if (set === undefined) return;
    for (const key of [...set]) this.#remoteRemove(node, key);
    this.#remoteByNode.delete(node);
  }

  // --- channel messages ---------------------------------------------------------------------
  #onMessage(channel: string, m: Buffer): void {
    try {
      if (channel === this.#events) {
        const kind = m[0];
        if (kind === 0x46 /* F */) {
          const { n, a, r } = JSON.parse(m.toString('utf8', 1)) as { n: string; a: string[]; r: string[] };
          if (n === this.id) return;
          for (const k of a) this.#remoteAdd(n, k);
          for (const k of r) this.#remoteRemove(n, k);
        } else if (kind === 0x52 /* R */) {
          const stored = decodeRetained(m.subarray(1));
          this.#core.retained.set(fromStoredMessage(stored));
        } else if (kind === 0x51 /* Q */) {
          this.#core.retained.delete(m.toString('utf8', 1));
        } else if (kind === 0x44 /* D */) {
          const { n, by } = JSON.parse(m.toString('utf8', 1)) as { n: string; by: string };
          if (n === this.id) {
            if (by !== this.id) this.#declaredDead();
            return;
          }
          this.#remoteDropNode(n);
        }
        return;
      }
      const msg = JSON.parse(m.toString()) as { op: string; cid: string; req: string; from: string; clean: boolean };
      if (msg.op === 'release') void this.#release(msg.cid, msg.from, msg.req, msg.clean);
      else if (msg.op === 'released') {
        const done = this.#releases.get(msg.req);
        this.#releases.delete(msg.req);
        done?.();
      }
    } catch (err) {
      this.#core.reportError(
        new BrokerError(BrokerErrorCode.Cluster, `bad cluster message on ${channel}: ${(err as Error).message}`, { cause: err }),
      );
    }
  }

  // --- client ids, sessions and take-over ---------------------------------------------------
  /**
   * CONNECT of `clientId` on this node: takes the client id (asking the node that holds it to
   * release it first), then makes its persistent session (from Redis) the local one.
   */
  async claim(clientId: string, clean: boolean): Promise<void> {
    const cmd = this.#cmd;
    const ownerKey = this.#k('owner', clientId);
    let expected = '';
    for (let attempt = 0; attempt < 6; attempt++) {
      const owner = await cmd.iotwireClaim(ownerKey, this.id, expected);
      if (owner === '') {
        this.#queue('sadd', this.#k('clients', this.id), clientId);
        if (!this.#core.sessions.has(clientId)) {
          if (clean) {
            // Clean Start: whatever another node left for this id is discarded.
            this.#core.persister?.push({ type: 'deleteSession', clientId });
          } else {
            const stored = await this.storage.loadSession(clientId);
            if (stored !== undefined && !this.#core.sessions.has(clientId)) restoreStoredSession(this.#core, stored);
          }
        }
        return;
      }
      if ((await cmd.exists(this.#k('alive', owner))) === 1) await this.#askRelease(owner, clientId, clean);
      expected = owner;
    }
    throw new BrokerError(BrokerErrorCode.Cluster, `client id ${JSON.stringify(clientId)} could not be taken over`);
  }

  #askRelease(node: string, clientId: string, clean: boolean): Promise<void> {
    const req = `${this.id}-${++this.#reqSeq}`;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.#releases.delete(req);
        resolve();
      }, this.#o.takeoverTimeout);
      timer.unref();
      this.#releases.set(req, () => {
        clearTimeout(timer);
        resolve();
      });
      void this.#cmd
        .publish(this.#k('ctl', node), JSON.stringify({ op: 'release', cid: clientId, req, from: this.id, clean }))
        .catch(() => {});
    });
  }

  /** Another node takes `clientId`: close its connection here (0x8E), write its session out, forget it. */
  async #release(clientId: string, from: string, req: string, clean: boolean): Promise<void> {
    const core = this.#core;
    const session = core.sessions.get(clientId);
    if (session !== undefined) {
      const conn = session.connection;
      if (conn !== null) {
        conn.session = null;
        session.connection = null;
        const will = conn.will;
        conn.will = undefined;
        conn.graceful = true;
        // As a local take-over: a delayed Will is not sent when the session continues [MQTT-3.1.3-9].
        if (will !== undefined && !(conn.willDelay > 0 && !clean && session.persistent)) core.publishWill(will);
        conn.close('session taken over by another node', 0x8e, 'Session taken over');
        session.disconnectedAt = Date.now();
      }
      this.#detach(session);
    }
    this.#wills.delete(clientId);
    this.#queue('hdel', this.#k('wills', this.id), clientId);
    this.#queue('srem', this.#k('clients', this.id), clientId);
    try {
      await core.persister?.flush();
      await this.flush();
    } finally {
      await this.#cmd.publish(this.#k('ctl', from), JSON.stringify({ op: 'released', req })).catch(() => {});
    }
  }

  /** Forgets a session here without deleting it from Redis (it lives on on another node). */
  #detach(session: Session): void {
    const core = this.#core;
    session.clearTimers();
    session.will = undefined;
    unindexSession(core.index, session);
    if (core.sessions.get(session.clientId) === session) core.sessions.delete(session.clientId);
  }

  /** After CONNACK: the Will is registered, so another node publishes it if this one dies. */
  connected(conn: MqttConnection): void {
    const will = conn.will;
    if (will === undefined) {
      if (this.#wills.has(conn.clientId)) {
        this.#wills.delete(conn.clientId);
        this.#queue('hdel', this.#k('wills', this.id), conn.clientId);
      }
      return;
    }
    this.#wills.set(conn.clientId, conn.connectionId);
    this.#queue('hset', this.#k('wills', this.id), conn.clientId, encodeFrame(will, false, []));
    this.gate(conn);
  }

  connectionClosed(conn: MqttConnection): void {
    if (this.#wills.get(conn.clientId) !== conn.connectionId) return;
    this.#wills.delete(conn.clientId);
    this.#queue('hdel', this.#k('wills', this.id), conn.clientId);
  }

  /** A session ended here (clean end, expiry): its client id is free again. */
  sessionEnded(clientId: string): void {
    this.#open.ownerChecks.add(clientId);
    this.queued++;
    this.#schedule();
  }

  // --- failure handling ---------------------------------------------------------------------
  async #beat(): Promise<void> {
    if (this.#beating || !this.#running) return;
    this.#beating = true;
    try {
      const cmd = this.#cmd;
      await cmd.set(this.#k('alive', this.id), String(process.pid), 'PX', this.#o.nodeTimeout);
      await cmd.sadd(this.#k('nodes'), this.id);
      for (const node of await cmd.smembers(this.#k('nodes'))) {
        if (node === this.id || !this.#running) continue;
        if ((await cmd.exists(this.#k('alive', node))) === 0) await this.#withReapLock(node, () => this.#reap(node), false);
      }
    } catch (err) {
      this.#redisError(err);
    } finally {
      this.#beating = false;
    }
  }

  async #withReapLock(node: string, fn: () => Promise<void>, wait: boolean): Promise<void> {
    const lock = this.#k('reap', node);
    const deadline = Date.now() + this.#o.nodeTimeout * 3;
    for (;;) {
      if ((await this.#cmd.set(lock, this.id, 'PX', 60_000, 'NX')) === 'OK') break;
      if (!wait || Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      await fn();
    } finally {
      await this.#cmd.del(lock);
    }
  }

  /** Takes over what a dead node (or this node's previous run) held. */
  async #reap(node: string): Promise<void> {
    const cmd = this.#cmd;
    const core = this.#core;
    if (node !== this.id && (await cmd.exists(this.#k('alive', node))) === 1) return; // came back
    await cmd.publish(this.#events, `D${JSON.stringify({ n: node, by: this.id })}`);
    this.#remoteDropNode(node);
    // Client ids: persistent sessions are adopted (messages keep queuing for them), the rest freed.
    for (const cid of await cmd.smembers(this.#k('clients', node))) {
      const r = await cmd.iotwireAdopt(this.#k('owner', cid), `${this.#p}s:${cid}`, node, this.id);
      if (r !== 'adopt') continue;
      await cmd.sadd(this.#k('clients', this.id), cid);
      if (core.sessions.has(cid)) continue;
      const stored = await this.storage.loadSession(cid);
      if (stored !== undefined) restoreStoredSession(core, stored);
    }
    // Wills (after the adoption, so subscribers of adopted sessions get them): each claimed by
    // HDEL before it is published, so a second reaper cannot publish it again.
    const willsKey = this.#k('wills', node);
    const wills = await cmd.hgetallBuffer(willsKey);
    for (const [cid, frame] of Object.entries(wills)) {
      if ((await cmd.hdel(willsKey, cid)) !== 1) continue;
      const [f] = decodeFrames(frame, () => 0);
      if (f !== undefined) core.publishWill(f.message);
    }
    await cmd.del(this.#k('clients', node), this.#k('filters', node), willsKey, this.#k('fwd', node));
    if (node !== this.id) await cmd.srem(this.#k('nodes'), node);
    if (node !== this.id) core.log(1, 'Info', '', `cluster: node ${node} is gone; its Wills were published and its sessions adopted`);
  }

  /** Another node found this one dead (a long pause?): what it held was taken over. Start afresh. */
  #declaredDead(): void {
    const core = this.#core;
    core.log(1, 'Info', '', `cluster: this node (${this.id}) was declared dead by the cluster; dropping its clients`);
    for (const session of [...core.sessions.values()]) {
      const conn = session.connection;
      if (conn !== null) {
        conn.session = null;
        session.connection = null;
        conn.will = undefined;
        conn.graceful = true;
        conn.close('node declared dead by the cluster', 0x8b);
      }
      this.#detach(session);
    }
    this.#wills.clear();
    // The reaper deleted this node's filters in Redis: start the bookkeeping from nothing.
    this.#told.clear();
    this.#filters.clear();
  }
}
