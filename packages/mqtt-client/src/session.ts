import type { ProtocolVersion, PublishProperties, QoS, UserProperties } from '@iotwire/mqtt-packet';
import { clientError } from './errors.js';
import { MessageState, type MessageStateValue, MqttMessage } from './message.js';
import type { SubscriptionRecord } from './subscriptions.js';

/** Publish properties as JSON (binary correlation data as base64). */
export interface StoredProperties {
  payloadFormatIndicator?: 0 | 1;
  messageExpiryInterval?: number;
  contentType?: string;
  responseTopic?: string;
  /** base64 */
  correlationData?: string;
  userProperties?: UserProperties;
  subscriptionIdentifiers?: number[];
}

export interface StoredMessage {
  packetId: number;
  qos: QoS;
  state: MessageStateValue;
  topic: string;
  /** base64 */
  payload: string;
  retain: boolean;
  dup: boolean;
  properties?: StoredProperties;
}

/**
 * The saveSession() text, version 1. Outgoing QoS 1/2 messages in states 0..3, incoming
 * QoS 2 messages waiting for PUBREL (state 7, payload kept: they are delivered on PUBREL),
 * messages still queued, and the granted subscriptions (used only to re-subscribe when the
 * server reports no session). Topic aliases are never saved: they live one connection.
 */
export interface SessionSnapshot {
  format: 'mqtt-session';
  v: 1;
  protocolVersion: ProtocolVersion;
  clientId: string;
  /** ISO 8601. */
  savedAt: string;
  sessionExpiryInterval: number;
  outgoing: StoredMessage[];
  incoming: StoredMessage[];
  queued: StoredMessage[];
  subscriptions: SubscriptionRecord[];
}

const b64 = (u: Uint8Array): string => Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('base64');
const unb64 = (s: string): Buffer => Buffer.from(s, 'base64');

function storeProperties(p: PublishProperties | undefined): StoredProperties | undefined {
  if (!p) return undefined;
  const out: StoredProperties = {};
  if (p.payloadFormatIndicator !== undefined) out.payloadFormatIndicator = p.payloadFormatIndicator;
  if (p.messageExpiryInterval !== undefined) out.messageExpiryInterval = p.messageExpiryInterval;
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.responseTopic !== undefined) out.responseTopic = p.responseTopic;
  if (p.correlationData !== undefined) out.correlationData = b64(p.correlationData);
  if (p.userProperties !== undefined) out.userProperties = p.userProperties.map(([k, v]) => [k, v]);
  if (p.subscriptionIdentifiers !== undefined) out.subscriptionIdentifiers = [...p.subscriptionIdentifiers];
  return Object.keys(out).length ? out : undefined;
}

function loadProperties(p: StoredProperties | undefined): PublishProperties | undefined {
  if (!p) return undefined;
  const out: PublishProperties = {};
  if (p.payloadFormatIndicator !== undefined) out.payloadFormatIndicator = p.payloadFormatIndicator;
  if (p.messageExpiryInterval !== undefined) out.messageExpiryInterval = p.messageExpiryInterval;
  if (p.contentType !== undefined) out.contentType = p.contentType;
  if (p.responseTopic !== undefined) out.responseTopic = p.responseTopic;
  if (p.correlationData !== undefined) out.correlationData = unb64(p.correlationData);
  if (p.userProperties !== undefined) out.userProperties = p.userProperties.map(([k, v]) => [k, v]);
  if (p.subscriptionIdentifiers !== undefined) out.subscriptionIdentifiers = [...p.subscriptionIdentifiers];
  return out;
}

export function storeMessage(m: MqttMessage): StoredMessage {
  const out: StoredMessage = {
    packetId: m.packetId,
    qos: m.qos,
    state: m.state === -1 ? MessageState.WaitPuback : m.state,
    topic: m.topic,
    payload: b64(m.payload),
    retain: m.retain,
    dup: m.dup,
  };
  // Topic aliases are per connection: never persisted.
  const props = storeProperties(m.properties);
  if (props) out.properties = props;
  return out;
}

/** Rebuilds message fields from a stored entry (validated by {@link parseSession}). */
export function loadMessage(s: StoredMessage): MqttMessage {
  const m = new MqttMessage(s.topic, unb64(s.payload), s.qos, s.retain, s.dup, loadProperties(s.properties), s.packetId);
  m.state = s.state;
  return m;
}

const isInt = (v: unknown, lo: number, hi: number): v is number => Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

function checkMessage(v: unknown, where: string, states: readonly number[], needsId: boolean): StoredMessage {
  const bad = (what: string) => clientError('ERR_SESSION_FORMAT', `session state: ${where}: ${what}`);
  if (typeof v !== 'object' || v === null) throw bad('not an object');
  const m = v as Record<string, unknown>;
  if (needsId ? !isInt(m.packetId, 1, 65_535) : !isInt(m.packetId, 0, 65_535)) throw bad('packetId');
  if (!isInt(m.qos, 0, 2)) throw bad('qos');
  if (!isInt(m.state, 0, 9) || !states.includes(m.state as number)) throw bad(`state ${String(m.state)}`);
  if (typeof m.topic !== 'string' || typeof m.payload !== 'string') throw bad('topic/payload');
  if (typeof m.retain !== 'boolean' || typeof m.dup !== 'boolean') throw bad('retain/dup');
  if (m.properties !== undefined && (typeof m.properties !== 'object' || m.properties === null)) throw bad('properties');
  return m as unknown as StoredMessage;
}

/** Parses and validates saveSession() text. Throws ERR_SESSION_FORMAT. */
export function parseSession(text: string): SessionSnapshot {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw clientError('ERR_SESSION_FORMAT', 'session state is not JSON', { cause: err });
  }
  const s = raw as Partial<SessionSnapshot> | null;
  if (!s || typeof s !== 'object' || s.format !== 'mqtt-session') throw clientError('ERR_SESSION_FORMAT', 'not an mqtt-session document');
  if (s.v !== 1) throw clientError('ERR_SESSION_FORMAT', `unsupported session format version ${String(s.v)}`);
  if (s.protocolVersion !== 4 && s.protocolVersion !== 5 && s.protocolVersion !== 3)
    throw clientError('ERR_SESSION_FORMAT', 'protocolVersion');
  if (typeof s.clientId !== 'string') throw clientError('ERR_SESSION_FORMAT', 'clientId');
  const list = (v: unknown, name: string) => {
    if (v === undefined) return [];
    if (!Array.isArray(v)) throw clientError('ERR_SESSION_FORMAT', `${name} is not an array`);
    return v as unknown[];
  };
  const outgoing = list(s.outgoing, 'outgoing').map((m, i) => checkMessage(m, `outgoing[${i}]`, [0, 1, 2, 3], true));
  const incoming = list(s.incoming, 'incoming').map((m, i) => checkMessage(m, `incoming[${i}]`, [6, 7, 8], true));
  const queued = list(s.queued, 'queued').map((m, i) => checkMessage(m, `queued[${i}]`, [0, 1], false));
  const subscriptions = list(s.subscriptions, 'subscriptions').map((r, i) => {
    const x = r as Partial<SubscriptionRecord> | null;
    if (!x || typeof x.topicFilter !== 'string' || !isInt(x.qos, 0, 2))
      throw clientError('ERR_SESSION_FORMAT', `subscriptions[${i}] is invalid`);
    return x as SubscriptionRecord;
  });
  return {
    format: 'mqtt-session',
    v: 1,
    protocolVersion: s.protocolVersion,
    clientId: s.clientId,
    savedAt: typeof s.savedAt === 'string' ? s.savedAt : new Date(0).toISOString(),
    sessionExpiryInterval: isInt(s.sessionExpiryInterval, 0, 0xffff_ffff) ? s.sessionExpiryInterval : 0,
    outgoing,
    incoming,
    queued,
    subscriptions,
  };
}

/** Where session state text is kept between processes (a file in Node; anything async elsewhere). */
export interface SessionStore {
  load(): Promise<string | undefined>;
  save(text: string): Promise<void>;
}
