/**
 * Outgoing delivery: fan-out of one message to the matching sessions, flow control (the
 * client's Receive Maximum and maxInflight), congestion (a slow client's messages queue in its
 * session, bounded, QoS 0 dropped first), the QoS 1/2 sender states and redelivery on resume.
 */
import type { QoS } from '@iotwire/mqtt-packet';
import { ConnState, type MqttConnection } from './connection.js';
import type { BrokerCore } from './core.js';
import type { BrokerMessage } from './message.js';
import { storedOutgoing } from './persistence.js';
import { Outgoing, type Session, type Subscription } from './session.js';
import type { SharedGroup } from './subscription-index.js';

/** One session's matching ordinary subscriptions (several when filters overlap). */
export interface RouteTarget {
  readonly session: Session;
  readonly subs: Subscription[];
}

export interface Route {
  readonly targets: RouteTarget[];
  readonly shared: readonly SharedGroup<Subscription>[];
}

/** Groups match results per session (cached by the caller per topic). */
export function buildRoute(subs: readonly Subscription[], shared: readonly SharedGroup<Subscription>[]): Route {
  const targets: RouteTarget[] = [];
  if (subs.length === 1) {
    const s = subs[0] as Subscription;
    targets.push({ session: s.session, subs: [s] });
  } else if (subs.length > 1) {
    const bySession = new Map<Session, Subscription[]>();
    for (const s of subs) {
      const list = bySession.get(s.session);
      if (list) list.push(s);
      else bySession.set(s.session, [s]);
    }
    for (const [session, list] of bySession) targets.push({ session, subs: list });
  }
  return { targets, shared };
}

/**
 * Fans a message out; returns how many sessions it was given to. In a cluster the node that
 * received the message decides which node serves each shared group: `groups` then names the
 * local groups to serve (all when undefined), and `normal` false skips ordinary subscribers.
 */
export function fanOut(
  core: BrokerCore,
  route: Route,
  msg: BrokerMessage,
  publisher: string,
  groups?: ReadonlySet<SharedGroup<Subscription>>,
  normal = true,
): number {
  let n = 0;
  const targets = normal ? route.targets : [];
  msg.single = targets.length + route.shared.length === 1;
  const check = core.deliverySteps.length > 0;
  for (let i = 0; i < targets.length; i++) {
    const t = targets[i] as RouteTarget;
    const subs = t.subs;
    if (check && !core.mayDeliver(t.session, msg)) continue;
    if (subs.length === 1) {
      const s = subs[0] as Subscription;
      if (s.noLocal && s.clientId === publisher) continue;
      deliver(
        core,
        t.session,
        msg,
        Math.min(msg.qos, s.qos) as QoS,
        s.retainAsPublished ? msg.retain : false,
        s.subscriptionId === undefined ? undefined : [s.subscriptionId],
      );
      n++;
      continue;
    }
    // Overlapping subscriptions: one copy at the highest QoS with every identifier [MQTT-3.3.4-2] [MQTT-3.3.4-3].
    let qos = -1;
    let retain = false;
    let ids: number[] | undefined;
    for (const s of subs) {
      if (s.noLocal && s.clientId === publisher) continue;
      const q = Math.min(msg.qos, s.qos);
      if (q > qos) qos = q;
      if (s.retainAsPublished && msg.retain) retain = true;
      if (s.subscriptionId !== undefined) (ids ??= []).push(s.subscriptionId);
    }
    if (qos < 0) continue;
    deliver(core, t.session, msg, qos as QoS, retain, ids);
    n++;
  }
  const shared = route.shared;
  for (let i = 0; i < shared.length; i++) {
    const g = shared[i] as SharedGroup<Subscription>;
    if (groups !== undefined && !groups.has(g)) continue;
    const s = pickShared(g);
    if (s === undefined || (check && !core.mayDeliver(s.session, msg))) continue;
    deliver(
      core,
      s.session,
      msg,
      Math.min(msg.qos, s.qos) as QoS,
      s.retainAsPublished ? msg.retain : false,
      s.subscriptionId === undefined ? undefined : [s.subscriptionId],
    );
    n++;
  }
  return n;
}

/** Round-robin over connected members; an offline persistent member if none is connected. */
function pickShared(g: SharedGroup<Subscription>): Subscription | undefined {
  const m = g.members;
  const len = m.length;
  if (len === 0) return undefined;
  let fallback: Subscription | undefined;
  for (let k = 0; k < len; k++) {
    const i = (g.next + k) % len;
    const s = m[i] as Subscription;
    const c = s.session.connection;
    if (c !== null && c.state === ConnState.Connected && !c.congested) {
      g.next = (i + 1) % len;
      return s;
    }
    if (fallback === undefined && s.session.persistent) fallback = s;
  }
  // Everyone busy or offline: take the next in turn (its session queues it).
  if (fallback === undefined) {
    const i = g.next % len;
    const s = m[i] as Subscription;
    if (s.session.connection !== null) fallback = s;
  }
  g.next = (g.next + 1) % len;
  return fallback;
}

/** Gives one copy to one session: send now, or queue (offline, congested, window full). */
export function deliver(
  core: BrokerCore,
  session: Session,
  msg: BrokerMessage,
  qos: QoS,
  retain: boolean,
  subIds: number[] | undefined,
): void {
  if (session.divert?.(msg, qos, retain, subIds)) return;
  const conn = session.connection;
  if (conn === null || conn.state !== ConnState.Connected) {
    if (!session.persistent || (qos === 0 && !core.options.queueQos0Offline)) return;
    enqueue(core, session, new Outgoing(core.nextMessageId(), msg, qos, retain, false, subIds));
    return;
  }
  const free = !conn.congested && session.queue.length === 0;
  if (qos === 0 && free && !core.outEvents) {
    // Hot path: nothing to track.
    conn.writePublish(msg, 0, 0, retain, false, subIds);
    return;
  }
  const out = new Outgoing(core.nextMessageId(), msg, qos, retain, false, subIds);
  if (free && (qos === 0 || session.inflight.size < conn.sendQuota)) transmit(core, conn, session, out);
  else enqueue(core, session, out);
}

/** Queues within the limits; when full, drops QoS 0 first (the new one, else the oldest queued). */
export function enqueue(core: BrokerCore, session: Session, out: Outgoing): void {
  const l = core.limits;
  if (session.queue.length >= l.maxQueuedMessages || session.queuedBytes + out.size > l.maxQueuedBytes) {
    if (out.qos === 0) {
      session.dropped++;
      core.messageDropped(session, out, 'queue full');
      return;
    }
    const victim = session.dropOldestQos0();
    if (victim === undefined) {
      session.dropped++;
      core.messageDropped(session, out, 'queue full');
      return;
    }
    session.dropped++;
    core.messageDropped(session, victim, 'queue full (QoS 0 dropped first)');
  }
  session.enqueue(out);
  if (core.outEvents) core.outStatus(session, out, 1);
  if (out.qos > 0 && session.persistent && core.persister)
    core.persister.push({ type: 'putOutgoing', clientId: session.clientId, outgoing: storedOutgoing(out) });
}

/** Sends one copy now (assigning a packet id for QoS 1/2). */
export function transmit(core: BrokerCore, conn: MqttConnection, session: Session, out: Outgoing): void {
  const msg = out.message;
  if (msg.expiresAt !== 0 && msg.expiresAt <= Date.now()) {
    // Message Expiry Interval passed while it waited: not sent [MQTT-3.3.2-5].
    session.dropped++;
    core.messageDropped(session, out, 'expired');
    if (out.qos > 0 && session.persistent && core.persister)
      core.persister.push({ type: 'deleteOutgoing', clientId: session.clientId, messageId: out.messageId });
    return;
  }
  if (out.qos > 0) {
    const pid = session.allocatePacketId();
    out.packetId = pid;
    out.state = out.qos === 1 ? 2 : 3;
    session.inflight.set(pid, out);
  }
  const sent = conn.writePublish(msg, out.qos, out.packetId, out.retain, out.dup, out.subIds);
  if (core.outEvents) {
    core.outSending(session, out);
    if (out.qos === 0 || !sent) {
      core.outStatus(session, out, 10);
      core.outSent(session, out);
    } else core.outStatus(session, out, out.state);
  }
  if (out.qos > 0) {
    if (!sent) {
      // Larger than the client's Maximum Packet Size: discarded as if delivered [MQTT-3.1.2-25].
      session.inflight.delete(out.packetId);
      if (session.persistent && core.persister)
        core.persister.push({ type: 'deleteOutgoing', clientId: session.clientId, messageId: out.messageId });
    } else if (session.persistent && core.persister) {
      core.persister.push({ type: 'putOutgoing', clientId: session.clientId, outgoing: storedOutgoing(out) });
      // A QoS 2 copy leaves only once its packet id is durable: after a crash it is re-sent
      // with the same id (which the client recognises), never as a new message.
      if (out.qos === 2) core.persister.gate(conn);
    }
  }
}

/** Sends queued messages while the window and the socket allow. */
export function pump(core: BrokerCore, session: Session): void {
  const conn = session.connection;
  if (conn === null || conn.state !== ConnState.Connected) return;
  const q = session.queue;
  while (q.length > 0 && !conn.congested) {
    const head = q[0] as Outgoing;
    if (head.qos > 0 && session.inflight.size >= conn.sendQuota) return;
    session.dequeue();
    transmit(core, conn, session, head);
  }
}

/**
 * On resuming a session: re-send unacknowledged PUBLISH with DUP=1 and PUBREL for those
 * already PUBREC'd, in order [MQTT-4.4.0-1], then the queue.
 */
export function resume(core: BrokerCore, conn: MqttConnection, session: Session): void {
  for (const out of session.inflight.values()) {
    if (out.state === 2 || out.state === 3) {
      out.dup = true;
      const sent = conn.writePublish(out.message, out.qos, out.packetId, out.retain, true, out.subIds);
      if (!sent) {
        session.inflight.delete(out.packetId);
        continue;
      }
      if (core.outEvents) core.outStatus(session, out, out.state);
    } else {
      out.state = 5;
      conn.sendAck(0x62, out.packetId);
      if (core.outEvents) core.outStatus(session, out, 5);
    }
  }
  pump(core, session);
}

/** PUBACK from the client. */
export function onPuback(core: BrokerCore, conn: MqttConnection, session: Session, packetId: number): void {
  const out = session.inflight.get(packetId);
  if (out === undefined || out.qos !== 1) return; // unknown id: nothing to do
  session.inflight.delete(packetId);
  completed(core, session, out);
  if (session.queue.length > 0 && conn.state === ConnState.Connected) pump(core, session);
}

/** PUBREC from the client: answer PUBREL (state 4 → 5), or end the flow on an error code. */
export function onPubrec(core: BrokerCore, conn: MqttConnection, session: Session, packetId: number, reasonCode: number): void {
  const out = session.inflight.get(packetId);
  if (out === undefined || out.qos !== 2) {
    // Not ours (e.g. lost state): 5.0 says Packet Identifier not found.
    conn.sendAck(0x62, packetId, 0x92);
    return;
  }
  if (reasonCode >= 0x80) {
    session.inflight.delete(packetId);
    completed(core, session, out);
    if (session.queue.length > 0) pump(core, session);
    return;
  }
  if (out.state === 3) {
    out.state = 4;
    if (core.outEvents) core.outStatus(session, out, 4);
  }
  conn.sendAck(0x62, packetId);
  out.state = 5;
  if (core.outEvents) core.outStatus(session, out, 5);
  if (session.persistent && core.persister) {
    // PUBREL waits for state 5 to be durable: a restart must re-send PUBREL, not the PUBLISH
    // (which the client, having released the id, would take for a new message).
    core.persister.push({ type: 'putOutgoing', clientId: session.clientId, outgoing: storedOutgoing(out) });
    core.persister.gate(conn);
  }
}

/** PUBCOMP from the client. */
export function onPubcomp(core: BrokerCore, session: Session, packetId: number): void {
  const out = session.inflight.get(packetId);
  if (out === undefined || out.qos !== 2 || out.state < 4) return;
  session.inflight.delete(packetId);
  completed(core, session, out);
  if (session.queue.length > 0) pump(core, session);
}

function completed(core: BrokerCore, session: Session, out: Outgoing): void {
  if (core.outEvents) {
    core.outStatus(session, out, 10);
    core.outSent(session, out);
  }
  if (session.persistent && core.persister)
    core.persister.push({ type: 'deleteOutgoing', clientId: session.clientId, messageId: out.messageId });
}
