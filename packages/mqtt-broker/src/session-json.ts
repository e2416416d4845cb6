/**
 * Session export/import in the reference toolkit's JSON shape (SaveSession / LoadSession),
 * the `sessions` collection view, and restoring sessions loaded from a storage backend.
 */
import { parseSharedSubscription, type QoS, topicFilterProblem } from '@iotwire/mqtt-packet';
import type { BrokerCore } from './core.js';
import { BrokerError, BrokerErrorCode } from './errors.js';
import { BrokerMessage } from './message.js';
import { fromStoredMessage, sessionMeta, storedOutgoing, storedSubscription } from './persistence.js';
import { NEVER_EXPIRES, Outgoing, Session, type Subscription } from './session.js';
import type { StoredSession, StoredSubscription } from './storage/types.js';

/** One message in SaveSession JSON. `State`: outgoing 1-5, incoming 6-9 (see the README). */
export interface SessionJsonMessage {
  MessageId: number;
  Topic: string;
  /** Payload bytes as hexadecimal (lower case when written; either case read). */
  Payload: string;
  QoS: QoS;
  DUP: boolean;
  Retain: boolean;
  PacketId: number;
  State: number;
}

/** The SaveSession / LoadSession JSON document. */
export interface SessionJson {
  ClientId: string;
  Subscriptions: { Topic: string; QoS: QoS }[];
  IncomingMessages: SessionJsonMessage[];
  OutgoingMessages: SessionJsonMessage[];
}

/** The `sessions` collection item. */
export interface SessionInfo {
  readonly clientId: string;
  readonly connected: boolean;
  /** Session Expiry Interval, seconds (0xFFFFFFFF = never). */
  readonly expiryInterval: number;
  readonly subscriptions: readonly { topicFilter: string; qos: QoS }[];
  readonly incomingMessages: readonly SessionJsonMessage[];
  readonly outgoingMessages: readonly SessionJsonMessage[];
  /** Messages dropped (queue limits, expiry). */
  readonly dropped: number;
}

function outgoingJson(s: Session): SessionJsonMessage[] {
  const out: SessionJsonMessage[] = [];
  const add = (o: Outgoing) =>
    out.push({
      MessageId: o.messageId,
      Topic: o.message.topic,
      Payload: o.message.payload.toString('hex'),
      QoS: o.qos,
      DUP: o.dup,
      Retain: o.retain,
      PacketId: o.qos === 0 ? -1 : o.packetId,
      State: o.state,
    });
  for (const o of s.inflight.values()) add(o);
  // QoS 0 copies are not part of a saved session (they may be dropped anyway).
  for (const o of s.queue) if (o.qos > 0) add(o);
  return out;
}

function incomingJson(s: Session): SessionJsonMessage[] {
  return [...s.incoming].map(([packetId, r]) => ({
    MessageId: r.messageId,
    Topic: r.topic,
    Payload: r.payload.toString('hex'),
    QoS: r.qos,
    DUP: r.dup,
    Retain: r.retain,
    PacketId: packetId,
    State: 8,
  }));
}

export function sessionToJson(s: Session): SessionJson {
  return {
    ClientId: s.clientId,
    Subscriptions: [...s.subscriptions.values()].map((x) => ({ Topic: x.filter, QoS: x.qos })),
    IncomingMessages: incomingJson(s),
    OutgoingMessages: outgoingJson(s),
  };
}

export function exportSession(s: Session): string {
  return JSON.stringify(sessionToJson(s));
}

export function sessionInfo(s: Session): SessionInfo {
  return {
    clientId: s.clientId,
    connected: s.connection !== null,
    expiryInterval: s.expiryInterval,
    subscriptions: [...s.subscriptions.values()].map((x) => ({ topicFilter: x.filter, qos: x.qos })),
    incomingMessages: incomingJson(s),
    outgoingMessages: outgoingJson(s),
    dropped: s.dropped,
  };
}

function bad(message: string): BrokerError {
  return new BrokerError(BrokerErrorCode.SessionFormat, `loadSession: ${message}`);
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

function checkMessage(m: unknown, where: string, states: number[]): SessionJsonMessage {
  if (m === null || typeof m !== 'object') throw bad(`${where} must be an object`);
  const x = m as Record<string, unknown>;
  const num = (k: string) => {
    if (typeof x[k] !== 'number' || !Number.isInteger(x[k])) throw bad(`${where}.${k} must be an integer`);
    return x[k] as number;
  };
  const bool = (k: string) => {
    if (typeof x[k] !== 'boolean') throw bad(`${where}.${k} must be true or false`);
    return x[k] as boolean;
  };
  if (typeof x.Topic !== 'string' || x.Topic === '') throw bad(`${where}.Topic must be a non-empty string`);
  if (typeof x.Payload !== 'string' || !HEX.test(x.Payload)) throw bad(`${where}.Payload must be hexadecimal text`);
  const qos = num('QoS');
  if (qos < 0 || qos > 2) throw bad(`${where}.QoS must be 0, 1 or 2`);
  const state = num('State');
  if (!states.includes(state)) throw bad(`${where}.State ${state} is not one of ${states.join(', ')}`);
  const packetId = num('PacketId');
  if (qos > 0 && state !== 1 && (packetId < 1 || packetId > 65_535)) throw bad(`${where}.PacketId must be 1..65535`);
  const messageId = num('MessageId');
  if (messageId < 0 || messageId > Number.MAX_SAFE_INTEGER) throw bad(`${where}.MessageId out of range`);
  return {
    MessageId: messageId,
    Topic: x.Topic,
    Payload: x.Payload,
    QoS: qos as QoS,
    DUP: bool('DUP'),
    Retain: bool('Retain'),
    PacketId: packetId,
    State: state,
  };
}

function subscriptionFor(
  core: BrokerCore,
  session: Session,
  filter: string,
  qos: QoS,
  extra: Partial<StoredSubscription> = {},
): Subscription {
  if (topicFilterProblem(filter) !== undefined) throw bad(`invalid topic filter ${JSON.stringify(filter)}`);
  const shared = parseSharedSubscription(filter);
  return {
    session,
    clientId: session.clientId,
    filter,
    topicFilter: shared?.topicFilter ?? filter,
    shareName: shared?.shareName,
    qos: (qos > core.options.maximumQoS ? core.options.maximumQoS : qos) as QoS,
    noLocal: extra.noLocal ?? false,
    retainAsPublished: extra.retainAsPublished ?? false,
    retainHandling: extra.retainHandling ?? 0,
    subscriptionId: extra.subscriptionIdentifier,
  };
}

/** LoadSession: validates the whole document first, then replaces the session. */
export function importSession(core: BrokerCore, json: string): void {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    throw bad(`not JSON: ${(err as Error).message}`);
  }
  if (doc === null || typeof doc !== 'object') throw bad('the document must be an object');
  const d = doc as Record<string, unknown>;
  if (typeof d.ClientId !== 'string' || d.ClientId === '') throw bad('ClientId must be a non-empty string');
  const clientId = d.ClientId;
  const subs = d.Subscriptions ?? [];
  const inc = d.IncomingMessages ?? [];
  const outg = d.OutgoingMessages ?? [];
  if (!Array.isArray(subs) || !Array.isArray(inc) || !Array.isArray(outg))
    throw bad('Subscriptions, IncomingMessages and OutgoingMessages must be arrays');
  const existing = core.sessions.get(clientId);
  if (existing?.connection) {
    throw new BrokerError(BrokerErrorCode.InvalidState, `loadSession: client ${JSON.stringify(clientId)} is connected`);
  }
  const subList = subs.map((s, i) => {
    const x = s as Record<string, unknown>;
    if (x === null || typeof x !== 'object' || typeof x.Topic !== 'string') throw bad(`Subscriptions[${i}].Topic must be a string`);
    if (x.QoS !== 0 && x.QoS !== 1 && x.QoS !== 2) throw bad(`Subscriptions[${i}].QoS must be 0, 1 or 2`);
    return { topic: x.Topic, qos: x.QoS as QoS };
  });
  const incoming = inc.map((m, i) => checkMessage(m, `IncomingMessages[${i}]`, [6, 7, 8, 9, 10]));
  const outgoing = outg.map((m, i) => checkMessage(m, `OutgoingMessages[${i}]`, [1, 2, 3, 4, 5, 10]));
  // Valid: replace.
  if (existing) core.removeSession(existing, 'replaced by loadSession');
  const session = new Session(clientId);
  session.expiryInterval = core.options.maxSessionExpiryInterval;
  session.disconnectedAt = Date.now();
  core.sessions.set(clientId, session);
  for (const s of subList) {
    const sub = subscriptionFor(core, session, s.topic, s.qos);
    session.subscriptions.set(sub.filter, sub);
    core.index.add(sub);
  }
  for (const m of incoming) {
    core.seeMessageId(m.MessageId);
    // States 6/7/9 were mid-handshake: the sender re-sends; only 8 reserves the id until PUBREL.
    if (m.State === 8 || m.State === 9) {
      session.incoming.set(m.PacketId, {
        messageId: m.MessageId,
        topic: m.Topic,
        payload: Buffer.from(m.Payload, 'hex'),
        qos: m.QoS,
        retain: m.Retain,
        dup: m.DUP,
      });
    }
  }
  for (const m of outgoing) {
    core.seeMessageId(m.MessageId);
    if (m.State === 10) continue;
    const msg = new BrokerMessage(m.MessageId, m.Topic, Buffer.from(m.Payload, 'hex'), m.QoS, m.Retain, undefined, 0, '');
    const o = new Outgoing(m.MessageId, msg, m.QoS, m.Retain, m.DUP, undefined);
    if (m.State === 1 || m.QoS === 0 || session.inflight.has(m.PacketId)) session.enqueue(o);
    else {
      o.packetId = m.PacketId;
      o.state = m.QoS === 1 ? 2 : m.State === 2 ? 3 : (m.State as 3 | 4 | 5);
      session.inflight.set(m.PacketId, o);
    }
  }
  persistWhole(core, session);
}

/** Writes a whole session to storage (after loadSession). */
function persistWhole(core: BrokerCore, session: Session): void {
  const p = core.persister;
  if (!p) return;
  p.push({ type: 'putSession', session: sessionMeta(session) });
  for (const s of session.subscriptions.values())
    p.push({ type: 'putSubscription', clientId: session.clientId, subscription: storedSubscription(s) });
  for (const o of session.inflight.values()) p.push({ type: 'putOutgoing', clientId: session.clientId, outgoing: storedOutgoing(o) });
  for (const o of session.queue) p.push({ type: 'putOutgoing', clientId: session.clientId, outgoing: storedOutgoing(o) });
  for (const [packetId, r] of session.incoming) {
    p.push({ type: 'putIncoming', clientId: session.clientId, incoming: { packetId, messageId: r.messageId, topic: r.topic, qos: r.qos } });
  }
}

/** Rebuilds a session loaded from storage at start-up (expiry counted from its disconnect time). */
export function restoreStoredSession(core: BrokerCore, s: StoredSession): void {
  const session = new Session(s.clientId);
  session.expiryInterval = s.expiryInterval;
  session.protocolVersion = s.protocolVersion;
  session.userName = s.userName ?? '';
  session.disconnectedAt = s.disconnectedAt || Date.now();
  for (const st of s.subscriptions) {
    const sub = subscriptionFor(core, session, st.topicFilter, st.qos, st);
    session.subscriptions.set(sub.filter, sub);
    core.index.add(sub);
  }
  for (const o of s.outgoing) {
    core.seeMessageId(o.messageId);
    const out = new Outgoing(o.messageId, fromStoredMessage(o.message), o.qos, o.retain, o.dup, o.subscriptionIdentifiers);
    if (o.state === 1 || o.packetId === 0) session.enqueue(out);
    else {
      out.packetId = o.packetId;
      out.state = o.state;
      session.inflight.set(o.packetId, out);
    }
  }
  for (const i of s.incoming)
    session.incoming.set(i.packetId, {
      messageId: i.messageId,
      topic: i.topic,
      payload: Buffer.alloc(0),
      qos: i.qos,
      retain: false,
      dup: false,
    });
  core.sessions.set(s.clientId, session);
  if (s.will) {
    const will = fromStoredMessage(s.will.message);
    will.publisherUser = session.userName;
    const left = Math.max(0, s.disconnectedAt + s.will.delay * 1000 - Date.now());
    const pending = { message: will, delay: s.will.delay, timer: undefined as NodeJS.Timeout | undefined };
    pending.timer = setTimeout(() => {
      if (session.will === pending) {
        session.will = undefined;
        core.publishWill(will);
      }
    }, left);
    pending.timer.unref?.();
    session.will = pending;
  }
  if (s.expiryInterval !== NEVER_EXPIRES) {
    const left = Math.max(0, session.disconnectedAt + s.expiryInterval * 1000 - Date.now());
    session.expiryTimer = setTimeout(() => {
      if (session.connection === null && core.sessions.get(session.clientId) === session) core.removeSession(session, 'session expired');
    }, left);
    session.expiryTimer.unref?.();
  }
}
