/**
 * One node of a broker cluster on Redis: several broker processes (one machine or many) form
 * one logical broker. This module wires the parts and owns the node's lifecycle and its
 * channel; each concern lives in its own module:
 *
 * - routing.ts  — mirror of the other nodes' filters, forwarding only to matching nodes;
 * - stream.ts   — consuming this node's stream, acknowledged with the sessions' commits;
 * - commit.ts   — the per-turn MULTI/EXEC carrying storage, forwards, acks (one write path);
 * - takeover.ts — client-id ownership, take-over, the hand-over window of moving sessions;
 * - failure.ts  — heartbeats, dead-node detection, reaping;
 * - wills.ts    — Wills registered, scheduled (Will Delay), leased and published cluster-wide;
 * - sys.ts      — `$SYS` stays per node, cluster-wide figures;
 * - scripts.ts  — Redis keys and the Lua scripts;
 * - crash-point.ts — the fault-injection seam of the failure tests.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { MqttConnection } from '../connection.js';
import type { BrokerCore } from '../core.js';
import type { Route } from '../delivery.js';
import { BrokerError, BrokerErrorCode } from '../errors.js';
import type { BrokerMessage } from '../message.js';
import { fromStoredMessage, type GatedOutput } from '../persistence.js';
import type { Session } from '../session.js';
import { decodeRetained } from '../storage/records.js';
import { unindexSession } from './cluster-index.js';
import { ClusterStorage, Committer } from './commit.js';
import { Reaper } from './failure.js';
import type { ResolvedClusterOptions } from './options.js';
import { FilterAnnouncer, Router } from './routing.js';
import { type ClusterRedis, defineScripts, Keys } from './scripts.js';
import { ForwardReader } from './stream.js';
import { type ClusterFigures, ClusterStats } from './sys.js';
import { Takeover } from './takeover.js';
import { Wills } from './wills.js';

export class ClusterNode {
  readonly id: string;
  /** This process's run of the node id (leases and stream origins name the run). */
  readonly run: string;
  readonly storage: ClusterStorage;
  readonly #o: ResolvedClusterOptions;
  readonly #core: BrokerCore;
  readonly #cmd: ClusterRedis;
  #sub: Redis | null = null;
  #blk: Redis | null = null;
  readonly #keys: Keys;
  readonly #committer: Committer;
  readonly #filters: FilterAnnouncer;
  readonly #router: Router;
  readonly #takeover: Takeover;
  readonly #wills: Wills;
  readonly #reaper: Reaper;
  readonly #stats: ClusterStats;
  #reader: ForwardReader | null = null;
  #running = false;
  #loading: [Buffer, Buffer][] | null = null;
  #heartbeat: NodeJS.Timeout | undefined;

  constructor(core: BrokerCore, o: ResolvedClusterOptions) {
    this.#core = core;
    this.#o = o;
    this.id = o.nodeId;
    this.run = randomBytes(6).toString('hex');
    const keys = (this.#keys = new Keys(o.keyPrefix));
    const base = typeof o.redis === 'string' ? new Redis(o.redis, { lazyConnect: true }) : new Redis({ ...o.redis, lazyConnect: true });
    const cmd = (this.#cmd = defineScripts(base));
    cmd.on('error', (err) => this.#redisError(err));
    this.storage = new ClusterStorage(cmd, { keyPrefix: o.keyPrefix, retainedChannel: keys.events });
    this.#filters = new FilterAnnouncer(keys.k('filters', this.id), keys.events, this.id);
    this.#committer = new Committer(cmd, keys, this.id, o.streamMaxLength, {
      prelude: () => this.#filters.ops(),
      preludeDirty: () => this.#filters.dirty(),
      stillHeld: (cid) => core.sessions.has(cid),
      onError: (err) => this.#redisError(err),
    });
    this.storage.committer = this.#committer;
    this.#router = new Router(core, this.#committer, `${this.id}.${this.run}`);
    this.#wills = new Wills({ core, cmd, keys, committer: this.#committer, me: this.id, run: this.run });
    this.#takeover = new Takeover({
      core,
      cmd,
      keys,
      committer: this.#committer,
      storage: this.storage,
      me: this.id,
      run: `${this.id}.${this.run}`,
      takeoverTimeout: o.takeoverTimeout,
      forgetWill: (cid) => this.#wills.forget(cid),
      catchUp: () => this.#reader?.catchUp() ?? Promise.resolve(),
      settled: () => this.#reader?.settled(),
      flush: () => this.flush(),
    });
    this.#stats = new ClusterStats(core, cmd, keys, this.id);
    this.#reaper = new Reaper({
      core,
      cmd,
      keys,
      storage: this.storage,
      committer: this.#committer,
      router: this.#router,
      takeover: this.#takeover,
      wills: this.#wills,
      me: this.id,
      run: this.run,
      nodeTimeout: o.nodeTimeout,
      running: () => this.#running,
      onError: (err) => this.#redisError(err),
      beatExtras: () => this.#stats.refresh(),
    });
  }

  /** Forwards and registry changes queued so far (callers compare it around a packet). */
  get queued(): number {
    return this.#committer.queued;
  }

  /** Cluster-wide figures as of the last heartbeat. */
  get figures(): ClusterFigures {
    return this.#stats.figures;
  }

  /** Sessions in the middle of a hand-over between nodes on this node. */
  get handovers(): number {
    return this.#takeover.moving;
  }

  #lastRedisError = 0;
  #redisError(err: unknown): void {
    // ioredis retries on its own; report at most once per second.
    const now = Date.now();
    if (now - this.#lastRedisError < 1000) return;
    this.#lastRedisError = now;
    this.#core.reportError(new BrokerError(BrokerErrorCode.Cluster, `redis: ${(err as Error)?.message}`, { cause: err }));
  }

  // --- lifecycle ------------------------------------------------------------------------
  async start(): Promise<void> {
    const cmd = this.#cmd;
    const keys = this.#keys;
    try {
      await cmd.connect();
    } catch (err) {
      cmd.disconnect(); // no retrying in the background of a broker that did not start
      throw new BrokerError(BrokerErrorCode.Cluster, `cannot connect to Redis: ${(err as Error).message}`, { cause: err });
    }
    if ((await cmd.exists(keys.k('alive', this.id))) === 1) {
      cmd.disconnect();
      throw new BrokerError(BrokerErrorCode.Cluster, `cluster node id ${JSON.stringify(this.id)} is in use by a running node`);
    }
    const sub = (this.#sub = cmd.duplicate());
    sub.on('error', (err) => this.#redisError(err));
    const blk = (this.#blk = cmd.duplicate());
    blk.on('error', (err) => this.#redisError(err));
    this.#reader = new ForwardReader(this.#core, blk, cmd, keys, this.id, this.#committer, this.#router, this.#takeover, (err) =>
      this.#redisError(err),
    );
    this.#reaper.reader = this.#reader;
    this.#loading = [];
    sub.on('messageBuffer', (channel: Buffer, message: Buffer) => {
      if (this.#loading !== null) this.#loading.push([channel, message]);
      else this.#onMessage(channel.toString(), message);
    });
    await sub.subscribe(keys.events, keys.k('ctl', this.id));
    this.#running = true;
    // What a previous run of this node id left: its sessions come back, its Wills are
    // scheduled, its filters stay announced until the sessions say otherwise, and the reader
    // goes on in its stream from the last committed entry.
    this.#filters.startFrom(await cmd.hkeys(keys.k('filters', this.id)));
    await this.#reaper.withLock(this.id, () => this.#reaper.reapSelf(), true);
    const from = (await cmd.get(keys.k('fwdack', this.id))) ?? '0-0';
    await this.#reaper.markAlive();
    for (const m of await this.storage.loadRetained()) {
      this.#core.seeMessageId(m.messageId);
      this.#core.retained.set(fromStoredMessage(m));
    }
    for (const node of await cmd.smembers(keys.k('nodes'))) {
      if (node === this.id) continue;
      for (const key of await cmd.hkeys(keys.k('filters', node))) this.#router.add(node, key);
    }
    const buffered = this.#loading;
    this.#loading = null;
    for (const [ch, m] of buffered) this.#onMessage(ch.toString(), m);
    this.#heartbeat = setInterval(() => void this.#reaper.beat(), this.#o.heartbeatInterval);
    this.#heartbeat.unref();
    this.#reader.start(from);
    this.#committer.schedule();
    await this.#stats.refresh().catch(() => {});
  }

  /** Leaves the cluster: pending writes are flushed, then the other nodes take over what this node held. */
  async stop(): Promise<void> {
    if (!this.#running) {
      this.#cmd.disconnect();
      return;
    }
    this.#running = false;
    clearInterval(this.#heartbeat);
    // The reader's blocking XREAD ends with its connection; what it processed is acked already.
    this.#blk?.disconnect();
    await this.#reader?.stop();
    await this.flush();
    this.#committer.close();
    try {
      // Wills were decided by shutdown (willOnShutdown); what is left is not to be published.
      await this.#cmd.del(this.#keys.k('wills', this.id));
      await this.#cmd.del(this.#keys.k('alive', this.id));
    } catch {
      // Redis gone: the others will find this node dead anyway.
    }
    this.#sub?.disconnect();
    this.#cmd.disconnect();
  }

  /** Resolves once everything queued so far is in Redis. */
  flush(): Promise<void> {
    return this.#committer.flush();
  }

  // --- the broker's seams ---------------------------------------------------------------
  /** Delivers locally and forwards to the nodes with matching filters. Returns sessions + nodes reached. */
  route(msg: BrokerMessage, local: Route, publisher: string): number {
    return this.#router.route(msg, local, publisher);
  }

  /** Holds `conn`'s output until what was queued in this turn is in Redis. */
  gate(conn: GatedOutput): void {
    this.#committer.gate(conn);
  }

  /** From the ClusterIndex: a filter appeared on this node or disappeared. */
  filterChanged(key: string, present: boolean): void {
    this.#filters.changed(key, present);
    this.#committer.queued++;
    this.#committer.schedule();
  }

  /** CONNECT on this node: take the client id and its session (see takeover.ts). */
  claim(clientId: string, clean: boolean): Promise<void> {
    return this.#takeover.claim(clientId, clean);
  }

  /** After CONNACK: the Will is registered, so another node publishes it if this one dies. */
  connected(conn: MqttConnection): void {
    this.#wills.connected(conn);
  }

  connectionClosed(conn: MqttConnection): void {
    this.#wills.connectionClosed(conn);
  }

  /** A session ended here (clean end, expiry): its client id is free again. */
  sessionEnded(clientId: string): void {
    this.#committer.sessionEnded(clientId);
  }

  // --- channel messages ---------------------------------------------------------------------
  #onMessage(channel: string, m: Buffer): void {
    try {
      if (channel === this.#keys.events) {
        const kind = m[0];
        if (kind === 0x46 /* F */) {
          const { n, a, r } = JSON.parse(m.toString('utf8', 1)) as { n: string; a: string[]; r: string[] };
          if (n === this.id) return;
          if (a.length > 0) this.#committer.nodeDead(n, false);
          for (const k of a) this.#router.add(n, k);
          for (const k of r) this.#router.remove(n, k);
        } else if (kind === 0x52 /* R */) {
          const stored = decodeRetained(m.subarray(1));
          this.#core.retained.set(fromStoredMessage(stored));
        } else if (kind === 0x51 /* Q */) {
          this.#core.retained.delete(m.toString('utf8', 1));
        } else if (kind === 0x48 /* H */) {
          const { c, o, n, h } = JSON.parse(m.toString('utf8', 1)) as { c: string; o: string; n: string; h: string };
          void this.#takeover.handover(c, o, n, h).catch((err: unknown) => this.#redisError(err));
        } else if (kind === 0x44 /* D */) {
          const { n, by } = JSON.parse(m.toString('utf8', 1)) as { n: string; by: string };
          if (n === this.id) {
            if (by !== this.id) this.#declaredDead();
            return;
          }
          if (by !== this.id) this.#reaper.nodeGone(n, by);
        }
        return;
      }
      const msg = JSON.parse(m.toString()) as { op: string; cid: string; req: string; from: string; clean: boolean };
      if (msg.op === 'release')
        void this.#takeover.release(msg.cid, msg.from, msg.req, msg.clean).catch((err: unknown) => this.#redisError(err));
      else if (msg.op === 'released') this.#takeover.released(msg.req);
    } catch (err) {
      this.#core.reportError(
        new BrokerError(BrokerErrorCode.Cluster, `bad cluster message on ${channel}: ${(err as Error).message}`, { cause: err }),
      );
    }
  }

  /** Another node found this one dead (a long pause?): what it held was taken over. Start afresh. */
  #declaredDead(): void {
    const core = this.#core;
    core.log(1, 'Info', '', `cluster: this node (${this.id}) was declared dead by the cluster; dropping its clients`);
    this.#takeover.clear();
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
    this.#filters.reset();
  }

  /** Forgets a session here without deleting it from Redis (it lives on on another node). */
  #detach(session: Session): void {
    const core = this.#core;
    session.clearTimers();
    session.will = undefined;
    unindexSession(core.index, session);
    if (core.sessions.get(session.clientId) === session) core.sessions.delete(session.clientId);
  }
}
