/**
 * Failure detection and reaping. Every node refreshes `alive:<node>` (TTL `nodeTimeout`, value
 * its run id) and `beat:<node>` (the time) every `heartbeatInterval`, and looks for nodes whose
 * alive key expired. One node (lock `reap:<node>`) then takes over what the dead one held:
 * 1. adopts its persistent sessions (they queue messages here and the clients find them on any
 *    node) and frees its clean client ids; the adopted sessions' filters are announced;
 * 2. tells everyone (`D` on the channel): they stop routing to the dead node and put a FENCE in
 *    its stream after whatever they had routed there;
 * 3. re-delivers the entries of the dead node's stream that it had not committed to the adopted
 *    sessions, until all fences are in; a copy that also came directly is dropped (the sessions
 *    are in a receiving window, takeover.ts);
 * 4. moves its clients' Wills to the schedule, due at its last heartbeat plus their delay
 *    (published by whichever node finds them due, see wills.ts).
 * Each step is idempotent. A reaper that dies halfway leaves the lock with its run's name:
 * whoever reaps that reaper takes the lock and finishes the reaping, the sessions the first
 * reaper had adopted (adopted again from it, their window still open) getting the dead node's
 * stream (#finishReapingsOf). A session the dead node had just claimed from a live one is in its
 * `clients:` set from that moment (CLAIM, HANDOFF), so it is adopted too; if this node was
 * handing it on to the dead node, the adopted session takes the ghost's place (yieldGhost).
 * A node that starts with the id of a dead run takes back that run's sessions and stream itself.
 */
import type { BrokerCore } from '../core.js';
import type { Session } from '../session.js';
import { restoreStoredSession } from '../session-json.js';
import { encodeControl, FENCE } from './codec.js';
import type { ClusterStorage, Committer } from './commit.js';
import { crashPoint } from './crash-point.js';
import type { Router } from './routing.js';
import type { ClusterRedis, Keys } from './scripts.js';
import type { ForwardReader } from './stream.js';
import type { Takeover } from './takeover.js';
import type { Wills } from './wills.js';

/** Takes a lock from the holder named (a reaper that died). */
const TAKE_LOCK = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;

export interface ReaperDeps {
  readonly core: BrokerCore;
  readonly cmd: ClusterRedis;
  readonly keys: Keys;
  readonly storage: ClusterStorage;
  readonly committer: Committer;
  readonly router: Router;
  readonly takeover: Takeover;
  readonly wills: Wills;
  readonly me: string;
  readonly run: string;
  readonly nodeTimeout: number;
  running(): boolean;
  onError(err: unknown): void;
  /** Figures for `$SYS/broker/cluster/...`, refreshed with each heartbeat. */
  beatExtras(): Promise<void>;
}

export class Reaper {
  #beating = false;
  reader: ForwardReader | null = null;

  constructor(private readonly d: ReaperDeps) {}

  /** Marks this node alive (the first time, and every heartbeat). */
  async markAlive(): Promise<void> {
    const { cmd, keys, me } = this.d;
    await cmd
      .multi()
      .set(keys.k('alive', me), this.d.run, 'PX', this.d.nodeTimeout)
      .set(keys.k('beat', me), String(Date.now()))
      .sadd(keys.k('nodes'), me)
      .exec();
  }

  async beat(): Promise<void> {
    if (this.#beating || !this.d.running()) return;
    this.#beating = true;
    const { cmd, keys, me } = this.d;
    try {
      await this.markAlive();
      for (const node of await cmd.smembers(keys.k('nodes'))) {
        if (node === me || !this.d.running()) continue;
        if ((await cmd.exists(keys.k('alive', node))) === 0) await this.withLock(node, () => this.reap(node), false);
      }
      await this.d.wills.publishDue();
      await this.d.beatExtras();
    } catch (err) {
      this.d.onError(err);
    } finally {
      this.#beating = false;
    }
  }

  /** The reaping lock names the node and its run: a reaper that dies leaves its run's name there. */
  get #lockValue(): string {
    return `${this.d.me} ${this.d.run}`;
  }

  async withLock(node: string, fn: () => Promise<void>, wait: boolean): Promise<void> {
    const { cmd, keys } = this.d;
    const lock = keys.k('reap', node);
    const deadline = Date.now() + this.d.nodeTimeout * 3;
    for (;;) {
      if ((await cmd.set(lock, this.#lockValue, 'PX', 60_000, 'NX')) === 'OK') break;
      if (!wait || Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      await fn();
    } finally {
      await cmd.del(lock);
    }
  }

  /**
   * Adopts a dead node's persistent sessions (owner moves to this node), frees its clean client
   * ids. `tag`: each adopted session's window (see {@link reap}) opens as it is restored, before
   * anything can reach it: its filters go out with this node's next commit, whichever that is,
   * and a copy delivered directly before the window opened would not be known as a twin.
   */
  async #adopt(node: string, adopted: Session[], tag?: string): Promise<void> {
    const { cmd, keys, core, me } = this.d;
    for (const cid of await cmd.smembers(keys.k('clients', node))) {
      const r = await cmd.iotwireAdopt(keys.k('owner', cid), `${keys.prefix}s:${cid}`, keys.k('clients', me), node, me, cid);
      if (r !== 'adopt') continue;
      if (core.sessions.has(cid)) continue;
      const stored = await this.d.storage.loadSession(cid);
      if (stored === undefined || core.sessions.has(cid)) continue;
      // This node may still hand the session on to the dead node (it was moving there): the
      // adopted session takes the ghost's place, in the same step.
      this.d.takeover.yieldGhost(cid);
      restoreStoredSession(core, stored);
      const session = core.sessions.get(cid) as Session;
      if (tag !== undefined) this.d.takeover.openWindow(session, tag);
      adopted.push(session);
    }
  }

  /**
   * This node id's previous run (it died or was stopped): its sessions come back here, its
   * Wills are scheduled. Its filters and its stream stay: the reader goes on from the last
   * committed entry, so what was routed here meanwhile reaches the sessions.
   */
  async reapSelf(): Promise<void> {
    const { cmd, keys, me } = this.d;
    const death = Number((await cmd.get(keys.k('beat', me))) ?? Date.now());
    await this.#adopt(me, []);
    await cmd.iotwireMoveWills(keys.prefix, me, death);
  }

  /**
   * Takes over what a dead node held (see the module comment for the order of the steps).
   * `inherited`: sessions a reaper of `node` that died had adopted from it (this node adopted
   * them from that reaper, in a window still open): they get `node`'s stream too.
   */
  async reap(node: string, inherited: readonly Session[] = []): Promise<void> {
    const { cmd, keys, core, me } = this.d;
    if ((await cmd.exists(keys.k('alive', node))) === 1) return; // came back
    const death = Number((await cmd.get(keys.k('beat', node))) ?? Date.now());
    const tag = `reap:${node}`;
    // The sessions are here, with their filters announced, before anyone stops routing to the
    // dead node: a copy may then come twice (directly and from its stream), never not at all.
    const adopted: Session[] = [];
    try {
      await this.#adopt(node, adopted, tag);
      for (const s of inherited) {
        if (core.sessions.get(s.clientId) !== s || adopted.includes(s)) continue;
        this.d.takeover.openWindow(s, tag);
        adopted.push(s);
      }
      await this.d.committer.flush();
      crashPoint('reap-adopted');
      const expect = new Set<string>();
      for (const n of await cmd.smembers(keys.k('nodes'))) if (n === me || (await cmd.exists(keys.k('alive', n))) === 1) expect.add(n);
      // The fences go in with NOMKSTREAM (late ones must not revive a reaped stream): make sure it exists.
      await cmd.xadd(keys.k('fwd', node), '*', 'm', '');
      await cmd.publish(keys.events, `D${JSON.stringify({ n: node, by: me })}`);
      this.nodeGone(node);
      if (this.reader !== null) {
        await this.reader.reroute(node, new Set(adopted.map((s) => s.clientId)), expect, Date.now() + this.d.nodeTimeout * 3);
        // The direct twins of what was re-delivered are in this node's stream before the fences.
        await this.reader.catchUp();
      }
      // Reapings the dead node had begun, inside this one's window of its sessions.
      await this.#finishReapingsOf(node, adopted);
    } finally {
      for (const s of adopted) this.d.takeover.closeWindow(s.clientId, tag);
    }
    // Wills last, so the subscribers of adopted sessions get them.
    await cmd.iotwireMoveWills(keys.prefix, node, death);
    await cmd.del(keys.k('clients', node), keys.k('filters', node), keys.k('fwd', node), keys.k('fwdack', node), keys.k('beat', node));
    await cmd.srem(keys.k('nodes'), node);
    await cmd.hdel(keys.k('stats'), node);
    core.log(1, 'Info', '', `cluster: node ${node} is gone; its sessions were adopted and its Wills scheduled`);
    await this.d.wills.publishDue();
  }

  /**
   * `dead` was itself reaping nodes when it died (their locks name its run): it may have adopted
   * their sessions (now adopted here from it) without having re-delivered their streams. This
   * node takes those locks and finishes those reapings, the sessions adopted from `dead` that
   * the other node listed getting that node's stream. (Nobody else takes such a lock: whoever
   * reaps `dead` does.)
   */
  async #finishReapingsOf(dead: string, adopted: readonly Session[]): Promise<void> {
    const { cmd, keys, me } = this.d;
    for (const n of await cmd.smembers(keys.k('nodes'))) {
      if (n === dead || n === me) continue;
      const lock = keys.k('reap', n);
      const holder = await cmd.get(lock);
      if (holder === null || !holder.startsWith(`${dead} `)) continue;
      if ((await cmd.eval(TAKE_LOCK, 1, lock, holder, this.#lockValue, 60_000)) !== 1) continue;
      try {
        const listed = new Set(await cmd.smembers(keys.k('clients', n)));
        await this.reap(
          n,
          adopted.filter((s) => listed.has(s.clientId)),
        );
      } finally {
        await cmd.del(lock);
      }
    }
  }

  /**
   * `node` is dead (this node reaps it, or `D` came from the reaper): stop routing to it, stop
   * waiting for it, and put a fence in its stream after everything routed there before.
   */
  nodeGone(node: string, by: string = this.d.me): void {
    this.d.router.dropNode(node);
    this.d.takeover.nodeGone(node, by);
    this.d.committer.nodeDead(node, true);
    this.d.committer.forward(node, encodeControl(FENCE, '', this.d.me, `reap:${node}`));
  }
}
