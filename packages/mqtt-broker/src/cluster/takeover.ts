/**
 * Client-id ownership and take-over across nodes, without losing or doubling messages while a
 * persistent session moves.
 *
 * A client id is owned by one node (`owner:<client>`). A CONNECT on node B for a client held by
 * A asks A to release it (ctl channel); A closes the old connection (0x8E), writes the session
 * out and answers; B takes the id (CLAIM script) and loads the session from Redis.
 *
 * The hand-over window: publishers route by their mirror of the nodes' filters, which learns
 * of B's filters (and of A's going away) a little later on each node. So:
 * - A keeps the session's subscriptions as a "ghost": every copy A would have given it is handed
 *   on to B as a DIRECTED frame in B's stream (nothing routed to A in the window is lost);
 * - B, before loading, processes its own stream up to now (a copy routed to both A and B before
 *   A let go must not reach the session twice), then keeps a set of the copies' origins and
 *   drops a second copy of the same message (routed to B directly and handed on by A);
 * - once B's filters are announced, B publishes `H`; every node answers with a FENCE in A's
 *   stream (after everything it routed to A before it knew of B). With all fences in, nothing
 *   more can reach A for the session: A drops the ghost and sends END; B closes the window.
 * Chains (A→B→C before A's END) work the same way: B's ghost hands on what A hands to it.
 *
 * The new node dying mid-hand-over: A gives B the client id (HANDOFF, with the session write)
 * and B's CLAIM lists it as B's in the same step, so B's reaper adopts the session at any step;
 * B does not count a stream entry as consumed while copies it carries wait for a session still
 * being claimed (holdsAck). The reaper re-delivers B's stream — A's hand-ons included — to the
 * adopted session. A's ghost turns to the reaper (BEGIN in the reaper's stream, committed with
 * A's fence in B's stream, so the reaper's window is open from A before it closes its own) and
 * A asks for fences again (`H` naming the reaper, whose filters every node knows by then).
 */

import type { QoS } from '@iotwire/mqtt-packet';
import type { BrokerCore } from '../core.js';
import { deliver } from '../delivery.js';
import { BrokerError, BrokerErrorCode } from '../errors.js';
import type { BrokerMessage } from '../message.js';
import type { Session } from '../session.js';
import { restoreStoredSession } from '../session-json.js';
import { unindexSession } from './cluster-index.js';
import { BEGIN, type ControlFrame, type DirectedFrame, END, encodeControl, encodeDirected, FENCE } from './codec.js';
import type { ClusterStorage, Committer } from './commit.js';
import { crashPoint } from './crash-point.js';
import { originOf } from './routing.js';
import { type ClusterRedis, HANDOFF, type Keys } from './scripts.js';

/** A session this node is handing on (ghost) or receiving (window open), or both. */
interface Move {
  readonly session: Session;
  /** Origins of the copies given to the session while receiving (null: not receiving). */
  seen: Set<string> | null;
  /** Nodes still handing copies on to this node (no END yet). */
  readonly from: Set<string>;
  /** Ghost: the node the session went to. */
  to: string | null;
  /** The hand-over id to `to` (from its `H`), the nodes expected to fence, those that did. */
  handover: string | null;
  expect: Set<string> | null;
  readonly fenced: Set<string>;
  timer: NodeJS.Timeout | undefined;
  readonly ended: Promise<void>;
  end: () => void;
}

export interface TakeoverDeps {
  readonly core: BrokerCore;
  readonly cmd: ClusterRedis;
  readonly keys: Keys;
  readonly committer: Committer;
  readonly storage: ClusterStorage;
  readonly me: string;
  readonly run: string;
  readonly takeoverTimeout: number;
  /** The client's registered Will is no longer this node's to publish. */
  forgetWill(clientId: string): void;
  /** Waits until this node's stream reader has processed every entry present now. */
  catchUp(): Promise<void>;
  /** No copies wait for a session being claimed any more: the stream reader may acknowledge. */
  settled(): void;
  flush(): Promise<void>;
}

export class Takeover {
  readonly #moves = new Map<string, Move>();
  /** CONNECTs in progress here: copies handed on before the session is loaded wait in `frames`. */
  readonly #pending = new Map<string, DirectedFrame[]>();
  readonly #releases = new Map<string, () => void>();
  /** Fences seen per hand-over id (they may come before the `H` that asked for them). */
  readonly #fences = new Map<string, Set<string>>();
  #reqSeq = 0;

  constructor(private readonly d: TakeoverDeps) {}

  /** Sessions in hand-over (for tests and figures). */
  get moving(): number {
    return this.#moves.size;
  }

  /**
   * Copies handed on for a session still being claimed wait in memory: the stream entries
   * carrying them must not count as consumed before they reached the session.
   */
  get holdsAck(): boolean {
    for (const frames of this.#pending.values()) if (frames.length > 0) return true;
    return false;
  }

  /**
   * CONNECT of `clientId` on this node: takes the client id (asking the node that holds it to
   * release it first), then makes its persistent session (from Redis) the local one.
   */
  async claim(clientId: string, clean: boolean): Promise<void> {
    const { core, cmd, keys } = this.d;
    const ghost = this.#moves.get(clientId);
    // The session is still being handed on from here (it comes back quickly): finish that first.
    if (ghost !== undefined && ghost.to !== null) await ghost.ended;
    const frames: DirectedFrame[] = [];
    this.#pending.set(clientId, frames);
    try {
      const ownerKey = keys.k('owner', clientId);
      let expected = '';
      let released = '';
      for (let attempt = 0; attempt < 6; attempt++) {
        if (released !== '') crashPoint('takeover-released');
        const owner = await cmd.iotwireClaim(ownerKey, this.d.me, expected, clientId, keys.prefix, clean ? '1' : '0', Date.now());
        if (owner === '') {
          if (released !== '') crashPoint('takeover-claimed');
          this.d.committer.queue('sadd', keys.k('clients', this.d.me), clientId);
          if (!core.sessions.has(clientId)) {
            if (clean) {
              // Clean Start: whatever another node left for this id is discarded.
              core.persister?.push({ type: 'deleteSession', clientId });
            } else {
              // A copy routed here and to the old node before it let go is handled before the
              // session exists here (it reached the session there).
              if (released !== '') await this.d.catchUp();
              const stored = await this.d.storage.loadSession(clientId);
              if (stored !== undefined && !core.sessions.has(clientId)) {
                restoreStoredSession(core, stored);
                const session = core.sessions.get(clientId) as Session;
                if (released !== '') this.#receive(session, released, frames);
              }
            }
          }
          return;
        }
        if ((await cmd.exists(keys.k('alive', owner))) === 1 && (await this.#askRelease(owner, clientId, clean))) released = owner;
        expected = owner;
      }
    } finally {
      this.#pending.delete(clientId);
      this.d.settled();
    }
    throw new BrokerError(BrokerErrorCode.Cluster, `client id ${JSON.stringify(clientId)} could not be taken over`);
  }

  /** Resolves true once `node` released the client id, false after `takeoverTimeout`. */
  #askRelease(node: string, clientId: string, clean: boolean): Promise<boolean> {
    const req = `${this.d.me}-${++this.#reqSeq}`;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.#releases.delete(req);
        resolve(false);
      }, this.d.takeoverTimeout);
      timer.unref();
      this.#releases.set(req, () => {
        clearTimeout(timer);
        resolve(true);
      });
      void this.d.cmd
        .publish(this.d.keys.k('ctl', node), JSON.stringify({ op: 'release', cid: clientId, req, from: this.d.me, clean }))
        .catch(() => {});
    });
  }

  released(req: string): void {
    const done = this.#releases.get(req);
    this.#releases.delete(req);
    done?.();
  }

  /** Another node takes `clientId`: close its connection here (0x8E), write its session out, hand on what still comes. */
  async release(clientId: string, from: string, req: string, clean: boolean): Promise<void> {
    const core = this.d.core;
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
      session.clearTimers();
      session.will = undefined;
      core.sessions.delete(clientId);
      if (!clean && session.persistent) this.#ghost(session, from);
      else {
        this.#close(clientId);
        unindexSession(core.index, session);
      }
    }
    this.d.forgetWill(clientId);
    const { keys, me } = this.d;
    this.d.committer.queue('srem', keys.k('clients', me), clientId);
    // The client id is `from`'s as the session is written out: should `from` die before it
    // takes it, its reaper adopts the session (and with it what is handed on meanwhile).
    this.d.committer.queue('eval', HANDOFF, '2', keys.k('owner', clientId), keys.k('clients', from), me, from, clientId);
    try {
      await core.persister?.flush();
      await this.d.flush();
    } finally {
      await this.d.cmd.publish(this.d.keys.k('ctl', from), JSON.stringify({ op: 'released', req })).catch(() => {});
    }
  }

  #move(session: Session): Move {
    let m = this.#moves.get(session.clientId);
    if (m === undefined || m.session !== session) {
      let end = () => {};
      const ended = new Promise<void>((r) => {
        end = r;
      });
      m = { session, seen: null, from: new Set(), to: null, handover: null, expect: null, fenced: new Set(), timer: undefined, ended, end };
      this.#moves.set(session.clientId, m);
      session.divert = (msg, qos, retain, subIds) => this.#divert(m as Move, msg, qos, retain, subIds);
    }
    return m;
  }

  #divert(m: Move, msg: BrokerMessage, qos: QoS, retain: boolean, subIds: number[] | undefined): boolean {
    const origin = originOf(msg, this.d.run);
    if (m.seen !== null) {
      if (m.seen.has(origin)) return true;
      m.seen.add(origin);
    }
    if (m.to === null) return false;
    this.d.committer.forward(m.to, encodeDirected(msg, origin, m.session.clientId, qos, retain, subIds));
    return true;
  }

  /** The session went to `to`: its subscriptions stay here, every copy goes on to `to`, until the fences are in. */
  #ghost(session: Session, to: string): void {
    const m = this.#move(session);
    m.to = to;
    m.handover = null;
    m.expect = null;
    m.fenced.clear();
    // No `H` (the new node gave up or died): stop after a while; nothing new is routed here for long.
    this.#arm(m, this.d.takeoverTimeout * 3);
  }

  /** The session was loaded here from `from`, which hands on what still reaches it there. */
  #receive(session: Session, from: string, early: DirectedFrame[]): void {
    const m = this.#move(session);
    m.seen ??= new Set();
    m.from.add(from);
    for (const f of early) this.directed(f);
    const handover = `${this.d.me}:${++this.#reqSeq}`;
    // Safety net: should the old node never send END (it died: its stream is the reaper's).
    this.#arm(m, this.d.takeoverTimeout * 10);
    void (async () => {
      // Once this node's filters for the session are announced, every node fences the old one.
      await this.d.flush();
      crashPoint('handover-announce');
      await this.d.cmd.publish(this.d.keys.events, `H${JSON.stringify({ c: session.clientId, o: from, n: this.d.me, h: handover })}`);
    })().catch((err: unknown) => this.d.core.reportError(new BrokerError(BrokerErrorCode.Cluster, `hand-over: ${(err as Error).message}`)));
  }

  #arm(m: Move, ms: number): void {
    if (m.timer !== undefined) clearTimeout(m.timer);
    m.timer = setTimeout(() => {
      m.from.clear();
      m.expect = new Set();
      this.#check(m, true);
    }, ms);
    m.timer.unref();
  }

  /**
   * A dead node's session adopted here: copies may come both directly (this node's filters are
   * announced before the others drop the dead node's) and from the dead node's stream; the
   * second one is dropped until {@link closeWindow}.
   */
  openWindow(session: Session, tag: string): void {
    const m = this.#move(session);
    m.seen ??= new Set();
    m.from.add(tag);
  }

  closeWindow(clientId: string, tag: string): void {
    const m = this.#moves.get(clientId);
    if (m === undefined || !m.from.delete(tag)) return;
    this.#check(m, false);
  }

  /** `H` on the cluster channel: `n` has the session `c` that `o` held. */
  async handover(c: string, o: string, n: string, h: string): Promise<void> {
    const me = this.d.me;
    if (o !== me) {
      // Everything routed to `o` before this node knew of `n` precedes this fence in o's stream.
      this.d.committer.forward(o, encodeControl(FENCE, c, me, h));
      return;
    }
    const m = this.#moves.get(c);
    if (m === undefined || m.to !== n) return;
    m.handover = h;
    const nodes = await this.d.cmd.smembers(this.d.keys.k('nodes'));
    const expect = new Set<string>();
    for (const node of nodes) if (node !== me && (await this.d.cmd.exists(this.d.keys.k('alive', node))) === 1) expect.add(node);
    if (m.handover !== h) return;
    m.expect = expect;
    for (const f of this.#fences.get(h) ?? []) m.fenced.add(f);
    this.#fences.delete(h);
    this.#check(m, false);
  }

  fence(f: ControlFrame): void {
    for (const m of this.#moves.values()) {
      if (m.handover === f.handover && m.session.clientId === f.clientId) {
        m.fenced.add(f.from);
        this.#check(m, false);
        return;
      }
    }
    let set = this.#fences.get(f.handover);
    if (set === undefined) {
      if (this.#fences.size > 10_000) this.#fences.clear();
      set = new Set();
      this.#fences.set(f.handover, set);
    }
    set.add(f.from);
  }

  /**
   * BEGIN from a node whose ghost of the session handed on to a node that died (this node
   * adopted the session from it): its copies come here now, until its END.
   */
  begin(f: ControlFrame): void {
    const session = this.d.core.sessions.get(f.clientId);
    if (session === undefined) return;
    const m = this.#move(session);
    m.seen ??= new Set();
    m.from.add(f.from);
    if (m.to === null) this.#arm(m, this.d.takeoverTimeout * 10);
  }

  /** This node adopts the session it was handing on to a node that died: the adopted session takes the ghost's place. */
  yieldGhost(clientId: string): void {
    const m = this.#moves.get(clientId);
    if (m === undefined || m.to === null) return;
    m.to = null;
    m.from.clear();
    this.#drop(m, false);
  }

  /** END from the node that held the session before: it hands on nothing more. */
  endOf(f: ControlFrame): void {
    const m = this.#moves.get(f.clientId);
    if (m === undefined || !m.from.delete(f.from)) return;
    this.#check(m, false);
  }

  /** A copy handed on by the session's previous node. */
  directed(f: DirectedFrame): void {
    const core = this.d.core;
    const s = core.sessions.get(f.clientId) ?? this.#moves.get(f.clientId)?.session;
    if (s !== undefined) {
      deliver(core, s, f.message, f.qos, f.retain, f.subIds);
      return;
    }
    const pending = this.#pending.get(f.clientId);
    if (pending !== undefined) {
      pending.push(f);
      return;
    }
    core.log(1, 'Info', '', `cluster: a message handed on for ${f.clientId} found no session here; dropped`);
  }

  /**
   * A node is gone (reaped by `by`): it fences nothing more and hands on nothing more. A ghost
   * handing on to it turns to its reaper, which adopted the session: what this node handed on
   * so far is in the dead node's stream (the reaper re-delivers it, up to this node's fence,
   * which goes in with the BEGIN below), what comes next goes to the reaper, until every node
   * fenced this one again (after it knew the reaper's filters, announced before `D`).
   */
  nodeGone(node: string, by: string): void {
    for (const m of [...this.#moves.values()]) {
      m.from.delete(node);
      if (m.to === node && by !== this.d.me && by !== node) {
        const cid = m.session.clientId;
        m.to = by;
        m.handover = null;
        m.expect = null;
        m.fenced.clear();
        this.d.committer.forward(by, encodeControl(BEGIN, cid, this.d.me, ''));
        this.#arm(m, this.d.takeoverTimeout * 3);
        const h = `${this.d.me}:${++this.#reqSeq}`;
        this.d.cmd
          .publish(this.d.keys.events, `H${JSON.stringify({ c: cid, o: this.d.me, n: by, h })}`)
          .catch((err: unknown) =>
            this.d.core.reportError(new BrokerError(BrokerErrorCode.Cluster, `hand-over: ${(err as Error).message}`)),
          );
        continue;
      }
      if (m.to === node) {
        // The session's new node died and this node reaps it: it adopts the session (yieldGhost).
        m.to = null;
        m.expect = new Set();
        m.from.clear();
        this.#drop(m, false);
        continue;
      }
      m.expect?.delete(node);
      this.#check(m, false);
    }
  }

  #check(m: Move, force: boolean): void {
    if (this.#moves.get(m.session.clientId) !== m) return;
    if (m.from.size === 0) m.seen = null;
    if (m.to === null) {
      if (m.from.size === 0) this.#drop(m, false);
      return;
    }
    if (!force && (m.from.size > 0 || m.expect === null)) return;
    if (!force) for (const n of m.expect as Set<string>) if (!m.fenced.has(n)) return;
    this.#drop(m, true);
  }

  /** The hand-over is over here: a ghost's subscriptions go, the receiving session is normal again. */
  #drop(m: Move, sendEnd: boolean): void {
    const core = this.d.core;
    const cid = m.session.clientId;
    if (m.timer !== undefined) clearTimeout(m.timer);
    this.#moves.delete(cid);
    m.session.divert = undefined;
    if (m.to !== null || core.sessions.get(cid) !== m.session) {
      if (sendEnd && m.to !== null) this.d.committer.forward(m.to, encodeControl(END, cid, this.d.me, m.handover ?? ''));
      if (core.sessions.get(cid) !== m.session) unindexSession(core.index, m.session);
    }
    m.end();
  }

  #close(clientId: string): void {
    const m = this.#moves.get(clientId);
    if (m !== undefined) {
      m.to = null;
      m.from.clear();
      this.#drop(m, false);
    }
  }

  /** This node was declared dead: its hand-overs are void. */
  clear(): void {
    for (const m of [...this.#moves.values()]) {
      m.to = null;
      m.from.clear();
      this.#drop(m, false);
    }
    this.#fences.clear();
  }
}
