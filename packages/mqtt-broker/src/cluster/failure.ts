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
 * Each step is idempotent, so a reaper that dies halfway is followed by another. A node that
 * starts with the id of a dead run takes back that run's sessions and stream itself.
 */
import type { BrokerCore } from '../core.js';
import type { Session } from '../session.js';
import { restoreStoredSession } from '../session-json.js';
import { encodeControl, FENCE } from './codec.js';
import type { ClusterStorage, Committer } from './commit.js';
import type { Router } from './routing.js';
import type { ClusterRedis, Keys } from './scripts.js';
import type { ForwardReader } from './stream.js';
import type { Takeover } from './takeover.js';
import type { Wills } from './wills.js';

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

  async withLock(node: string, fn: () => Promise<void>, wait: boolean): Promise<void> {
    const { cmd, keys } = this.d;
    const lock = keys.k('reap', node);
    const deadline = Date.now() + this.d.nodeTimeout * 3;
    for (;;) {
      if ((await cmd.set(lock, this.d.run, 'PX', 60_000, 'NX')) === 'OK') break;
      if (!wait || Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      await fn();
    } finally {
      await cmd.del(lock);
    }
  }

  /** Adopts a dead node's persistent sessions (owner moves to this node), frees its clean client ids. */
  async #adopt(node: string): Promise<Session[]> {
    const { cmd, keys, core, me } = this.d;
    const adopted: Session[] = [];
    for (const cid of await cmd.smembers(keys.k('clients', node))) {
      const r = await cmd.iotwireAdopt(keys.k('owner', cid), `${keys.prefix}s:${cid}`, node, me);
      if (r !== 'adopt') continue;
      if (node !== me) await cmd.sadd(keys.k('clients', me), cid);
      if (core.sessions.has(cid)) continue;
      const stored = await this.d.storage.loadSession(cid);
      if (stored === undefined) continue;
      restoreStoredSession(core, stored);
      adopted.push(core.sessions.get(cid) as Session);
    }
    return adopted;
  }

  /**
   * This node id's previous run (it died or was stopped): its sessions come back here, its
   * Wills are scheduled. Its filters and its stream stay: the reader goes on from the last
   * committed entry, so what was routed here meanwhile reaches the sessions.
   */
  async reapSelf(): Promise<void> {
    const { cmd, keys, me } = this.d;
    const death = Number((await cmd.get(keys.k('beat', me))) ?? Date.now());
    await this.#adopt(me);
    await cmd.iotwireMoveWills(keys.prefix, me, death);
  }

  /** Takes over what a dead node held (see the module comment for the order of the steps). */
  async reap(node: string): Promise<void> {
    const { cmd, keys, core, me } = this.d;
    if ((await cmd.exists(keys.k('alive', node))) === 1) return; // came back
    const death = Number((await cmd.get(keys.k('beat', node))) ?? Date.now());
    const tag = `reap:${node}`;
    // The sessions are here, with their filters announced, before anyone stops routing to the
    // dead node: a copy may then come twice (directly and from its stream), never not at all.
    const adopted = await this.#adopt(node);
    for (const s of adopted) this.d.takeover.openWindow(s, tag);
    await this.d.committer.flush();
    const expect = new Set<string>();
    for (const n of await cmd.smembers(keys.k('nodes'))) if (n === me || (await cmd.exists(keys.k('alive', n))) === 1) expect.add(n);
    // The fences go in with NOMKSTREAM (late ones must not revive a reaped stream): make sure it exists.
    await cmd.xadd(keys.k('fwd', node), '*', 'm', '');
    await cmd.publish(keys.events, `D${JSON.stringify({ n: node, by: me })}`);
    this.nodeGone(node);
    try {
      if (this.reader !== null) {
        await this.reader.reroute(node, new Set(adopted.map((s) => s.clientId)), expect, Date.now() + this.d.nodeTimeout * 3);
        // The direct twins of what was re-delivered are in this node's stream before the fences.
        await this.reader.catchUp();
      }
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
   * `node` is dead (this node reaps it, or `D` came from the reaper): stop routing to it, stop
   * waiting for it, and put a fence in its stream after everything routed there before.
   */
  nodeGone(node: string): void {
    this.d.router.dropNode(node);
    this.d.takeover.nodeGone(node);
    this.d.committer.nodeDead(node, true);
    this.d.committer.forward(node, encodeControl(FENCE, '', this.d.me, `reap:${node}`));
  }
}
