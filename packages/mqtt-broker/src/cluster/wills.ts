/**
 * Wills across the cluster, with the semantics of one broker:
 * - A connected client's Will is registered in `wills:<node>` (with its effective delay) at
 *   CONNACK, so another node can publish it should this node die.
 * - A Will that waits for its delay (5.0 Will Delay Interval: the connection ended, the session
 *   goes on) is scheduled cluster-wide in `willdue`, not in this process's memory: it is
 *   published when due even if this node dies meanwhile, and dropped when the client connects
 *   again (on any node: the CLAIM script) or published at once when it starts clean.
 * - A dead node's registered Wills move to the schedule in one step (MOVE_WILLS), due at the
 *   node's last heartbeat plus their delay.
 * - Due Wills are leased to one node run (DUE_WILLS) and leave the schedule in the very
 *   transaction that carries their publication (ACK_WILL, after the storage changes and
 *   forwards of the publication — once asynchronous publish hooks are done with it): a node
 *   that dies while publishing leaves the lease to a dead run, so another node publishes it;
 *   none is lost, none is published twice.
 */
import type { MqttConnection } from '../connection.js';
import type { BrokerCore } from '../core.js';
import { decodeFrames, encodeMessage, MESSAGE } from './codec.js';
import type { Committer } from './commit.js';
import { crashPoint } from './crash-point.js';
import { ACK_WILL, type ClusterRedis, type Keys } from './scripts.js';

export interface WillDeps {
  readonly core: BrokerCore;
  readonly cmd: ClusterRedis;
  readonly keys: Keys;
  readonly committer: Committer;
  readonly me: string;
  readonly run: string;
}

export class Wills {
  /** Client id → connection id whose Will is registered in Redis. */
  readonly #registered = new Map<string, string>();
  #scanning = false;

  constructor(private readonly d: WillDeps) {}

  /** After CONNACK: the Will is registered, so another node publishes it if this one dies. */
  connected(conn: MqttConnection): void {
    const { committer, keys, me } = this.d;
    const will = conn.will;
    if (will === undefined) {
      if (this.#registered.has(conn.clientId)) this.forget(conn.clientId);
      return;
    }
    const expiry = conn.session?.expiryInterval ?? 0;
    const delay = expiry > 0 ? Math.min(conn.willDelay, expiry) : 0;
    this.#registered.set(conn.clientId, conn.connectionId);
    const frame = encodeMessage(will, false, [], '');
    committer.queue('hset', keys.k('wills', me), conn.clientId, Buffer.concat([Buffer.from(`${delay}\n`), frame]));
    committer.gate(conn);
  }

  /**
   * The connection is closing (before the broker handles its Will): a Will with a delay is
   * scheduled cluster-wide instead of on a timer here.
   */
  connectionClosed(conn: MqttConnection): void {
    const { committer, keys } = this.d;
    const session = conn.session;
    const will = conn.will;
    if (will !== undefined && !conn.graceful && conn.willDelay > 0 && session !== null && session.expiryInterval > 0) {
      conn.will = undefined;
      const delay = Math.min(conn.willDelay, session.expiryInterval);
      committer.queue('zadd', keys.k('willdue'), Date.now() + delay * 1000, conn.clientId);
      committer.queue('hset', keys.k('willmsg'), conn.clientId, encodeMessage(will, false, [], ''));
      committer.queue('hdel', keys.k('willlease'), conn.clientId);
    }
    if (this.#registered.get(conn.clientId) !== conn.connectionId) return;
    this.forget(conn.clientId);
  }

  /** The client's registered Will is not this node's any more (taken over, ended). */
  forget(clientId: string): void {
    this.#registered.delete(clientId);
    this.d.committer.queue('hdel', this.d.keys.k('wills', this.d.me), clientId);
  }

  /** Publishes the Wills that are due and not leased to a live node. */
  async publishDue(): Promise<void> {
    if (this.#scanning) return;
    this.#scanning = true;
    const { core, cmd, keys, committer } = this.d;
    const lease = `${this.d.me} ${this.d.run}`;
    try {
      for (let round = 0; round < 100; round++) {
        const res = await cmd.iotwireDueWillsBuffer(keys.prefix, lease, Date.now(), 100);
        if (res.length === 0) break;
        const published: Promise<void>[] = [];
        for (let i = 0; i + 1 < res.length; i += 2) {
          const cid = (res[i] as Buffer).toString();
          const [f] = decodeFrames(res[i + 1] as Buffer, () => 0);
          // The Will leaves the schedule with (or after) the storage changes and forwards of its
          // publication, which asynchronous publish hooks may delay: the ack waits for them, and
          // this scan waits for the ack (a later scan would take this run's lease for a failure).
          const ack = () => committer.after(core.persister?.pushed ?? 0, 'eval', ACK_WILL, '0', keys.prefix, cid, lease);
          if (f !== undefined && f.kind === MESSAGE)
            published.push(new Promise<void>((done) => core.publishWill(f.message, done)).then(ack));
          else ack();
        }
        await Promise.all(published);
        await committer.flush();
        crashPoint('will-flushed');
        if (res.length < 200) break;
      }
    } finally {
      this.#scanning = false;
    }
  }

  /** This node was declared dead: its registrations were taken over. */
  clear(): void {
    this.#registered.clear();
  }
}
