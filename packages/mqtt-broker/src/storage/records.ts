/**
 * Binary records of the durable backends: a format byte, a kind byte, a CRC-32 of the rest,
 * then a JSON header and the payload bytes as they are (no base64). A damaged record fails
 * its checksum and is reported, never half-read.
 */
import { crc32 } from 'node:zlib';
import type { PublishProperties } from '@iotwire/mqtt-packet';
import type { StoredIncoming, StoredMessage, StoredOutgoing, StoredSessionMeta, StoredSubscription, StoredWill } from './types.js';

export const RECORD_FORMAT = 1;

export const Kind = {
  Session: 0x53, // S
  Subscription: 0x42, // B
  Outgoing: 0x4f, // O
  Incoming: 0x49, // I
  Retained: 0x52, // R
} as const;
type KindValue = (typeof Kind)[keyof typeof Kind];

/** A record that cannot be decoded (checksum, format, JSON). */
export class RecordError extends Error {
  override readonly name = 'RecordError';
}

const HEAD = 10;

function encode(kind: KindValue, json: string, tail: Uint8Array | undefined): Buffer {
  const jl = Buffer.byteLength(json);
  const tl = tail === undefined ? 0 : tail.length;
  const b = Buffer.allocUnsafe(HEAD + jl + tl);
  b[0] = RECORD_FORMAT;
  b[1] = kind;
  b.writeUInt32BE(jl, 6);
  b.write(json, HEAD, 'utf8');
  if (tail !== undefined && tl > 0) b.set(tail, HEAD + jl);
  b.writeUInt32BE(crc32(b.subarray(6)), 2);
  return b;
}

function decode(kind: KindValue, b: Uint8Array): { json: Record<string, unknown>; tail: Buffer } {
  const buf = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (buf.length < HEAD) throw new RecordError(`record too short (${buf.length} bytes)`);
  if (buf[0] !== RECORD_FORMAT) throw new RecordError(`unknown record format ${buf[0]}`);
  if (buf[1] !== kind) throw new RecordError(`record kind 0x${(buf[1] as number).toString(16)} where 0x${kind.toString(16)} was expected`);
  if (buf.readUInt32BE(2) !== crc32(buf.subarray(6))) throw new RecordError('checksum mismatch');
  const jl = buf.readUInt32BE(6);
  if (HEAD + jl > buf.length) throw new RecordError('header length beyond the record');
  let json: unknown;
  try {
    json = JSON.parse(buf.toString('utf8', HEAD, HEAD + jl), revive);
  } catch (err) {
    throw new RecordError(`bad header: ${(err as Error).message}`);
  }
  if (json === null || typeof json !== 'object') throw new RecordError('bad header');
  // Copy: the caller keeps the payload beyond the database's buffer.
  return { json: json as Record<string, unknown>, tail: Buffer.from(buf.subarray(HEAD + jl)) };
}

// Buffers inside MQTT 5 properties (Correlation Data) survive JSON as {"$b": base64}.
function replace(this: Record<string, unknown>, key: string, value: unknown): unknown {
  const raw = this[key];
  if (raw instanceof Uint8Array) return { $b: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') };
  return value;
}
function revive(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { $b?: unknown }).$b === 'string') {
    return Buffer.from((value as { $b: string }).$b, 'base64');
  }
  return value;
}

interface MessageHeader {
  id: number;
  t: string;
  q: 0 | 1 | 2;
  r: boolean;
  e: number;
  s: string;
  pr?: PublishProperties;
}

// One message header string per message, however many subscriber copies a batch stores.
const headerCache = new WeakMap<StoredMessage, string>();
function messageHeader(m: StoredMessage): string {
  let h = headerCache.get(m);
  if (h === undefined) {
    const o: MessageHeader = { id: m.messageId, t: m.topic, q: m.qos, r: m.retain, e: m.expiresAt, s: m.senderId };
    if (m.properties !== undefined) o.pr = m.properties;
    h = JSON.stringify(o, replace);
    headerCache.set(m, h);
  }
  return h;
}
function message(h: unknown, payload: Buffer): StoredMessage {
  if (h === null || typeof h !== 'object') throw new RecordError('bad message header');
  const x = h as MessageHeader;
  if (typeof x.t !== 'string' || typeof x.id !== 'number') throw new RecordError('bad message header');
  return {
    messageId: x.id,
    topic: x.t,
    payload,
    qos: x.q,
    retain: x.r,
    ...(x.pr !== undefined ? { properties: x.pr } : {}),
    expiresAt: x.e,
    senderId: x.s,
  };
}

export function encodeSession(s: StoredSessionMeta): Buffer {
  const w = s.will;
  const json = `{"c":${JSON.stringify(s.clientId)},"v":${s.protocolVersion},"x":${s.expiryInterval},"d":${s.disconnectedAt}${
    s.userName !== undefined ? `,"u":${JSON.stringify(s.userName)}` : ''
  }${w !== undefined ? `,"w":${messageHeader(w.message)},"wd":${w.delay}` : ''}}`;
  return encode(Kind.Session, json, w?.message.payload);
}
export function decodeSession(b: Uint8Array): StoredSessionMeta {
  const { json: j, tail } = decode(Kind.Session, b);
  if (typeof j.c !== 'string') throw new RecordError('bad session header');
  const s: StoredSessionMeta = {
    clientId: j.c,
    protocolVersion: j.v as 3 | 4 | 5,
    expiryInterval: j.x as number,
    disconnectedAt: j.d as number,
  };
  if (typeof j.u === 'string') s.userName = j.u;
  if (j.w !== undefined) s.will = { message: message(j.w, tail), delay: j.wd as number } satisfies StoredWill;
  return s;
}

export function encodeSubscription(s: StoredSubscription): Buffer {
  return encode(
    Kind.Subscription,
    JSON.stringify({
      f: s.topicFilter,
      q: s.qos,
      nl: s.noLocal,
      rap: s.retainAsPublished,
      rh: s.retainHandling,
      si: s.subscriptionIdentifier,
    }),
    undefined,
  );
}
export function decodeSubscription(b: Uint8Array): StoredSubscription {
  const { json: j } = decode(Kind.Subscription, b);
  if (typeof j.f !== 'string') throw new RecordError('bad subscription header');
  const s: StoredSubscription = {
    topicFilter: j.f,
    qos: j.q as 0 | 1 | 2,
    noLocal: j.nl === true,
    retainAsPublished: j.rap === true,
    retainHandling: j.rh as 0 | 1 | 2,
  };
  if (typeof j.si === 'number') s.subscriptionIdentifier = j.si;
  return s;
}

export function encodeOutgoing(o: StoredOutgoing): Buffer {
  const json = `{"id":${o.messageId},"q":${o.qos},"r":${o.retain},"d":${o.dup},"p":${o.packetId},"s":${o.state}${
    o.subscriptionIdentifiers !== undefined ? `,"si":${JSON.stringify(o.subscriptionIdentifiers)}` : ''
  },"m":${messageHeader(o.message)}}`;
  return encode(Kind.Outgoing, json, o.message.payload);
}
export function decodeOutgoing(b: Uint8Array): StoredOutgoing {
  const { json: j, tail } = decode(Kind.Outgoing, b);
  if (typeof j.id !== 'number') throw new RecordError('bad outgoing header');
  const o: StoredOutgoing = {
    messageId: j.id,
    message: message(j.m, tail),
    qos: j.q as 0 | 1 | 2,
    retain: j.r === true,
    dup: j.d === true,
    packetId: j.p as number,
    state: j.s as StoredOutgoing['state'],
  };
  if (Array.isArray(j.si)) o.subscriptionIdentifiers = j.si as number[];
  return o;
}

export function encodeIncoming(i: StoredIncoming): Buffer {
  return encode(Kind.Incoming, JSON.stringify({ p: i.packetId, id: i.messageId, t: i.topic, q: i.qos }), undefined);
}
export function decodeIncoming(b: Uint8Array): StoredIncoming {
  const { json: j } = decode(Kind.Incoming, b);
  if (typeof j.p !== 'number') throw new RecordError('bad incoming header');
  return { packetId: j.p, messageId: j.id as number, topic: j.t as string, qos: j.q as 0 | 1 | 2 };
}

export function encodeRetained(m: StoredMessage): Buffer {
  return encode(Kind.Retained, messageHeader(m), m.payload);
}
export function decodeRetained(b: Uint8Array): StoredMessage {
  const { json, tail } = decode(Kind.Retained, b);
  return message(json, tail);
}

/** Fixed-width hex, so keys sort numerically (outgoing copies load in the order they were made). */
export function hex(n: number, width: number): string {
  return n.toString(16).padStart(width, '0');
}
