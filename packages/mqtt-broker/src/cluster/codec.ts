/**
 * Wire format of what nodes put in each other's streams (`fwd:<node>`) and of the Wills they
 * register: lean binary frames, many per stream entry, the payload as it is.
 *
 * Frame: u32 length · u8 kind, then by kind:
 * - MESSAGE (routed by the node's filters): u8 flags (qos, retain, deliver-to-ordinary-
 *   subscribers, properties) · f64 expiresAt · topic · sender · user · origin · u16 group
 *   count, each group key · [u32+properties JSON] · payload;
 * - DIRECTED (one copy for one session, already resolved: the old holder of a session that is
 *   moving hands it on): u8 flags (qos, retain, properties) · f64 expiresAt · topic · sender ·
 *   user · origin · client id · u8 qos · u8 retain · u16 count, each u32 subscription id ·
 *   [properties] · payload;
 * - FENCE / END / BEGIN (hand-over control): client id · from node · hand-over id. BEGIN: the
 *   sender hands on copies for the client's session to this node from now on (the session's
 *   new node died and this node adopted it).
 * Strings are u16 length + UTF-8. `origin` names the message cluster-wide (`<run>:<id>` of the
 * node that received it), so a session being handed over can drop a second copy.
 */
import type { PublishProperties, QoS } from '@iotwire/mqtt-packet';
import { BrokerMessage } from '../message.js';

export const MESSAGE = 0;
export const DIRECTED = 1;
export const FENCE = 2;
export const END = 3;
export const BEGIN = 4;

export interface MessageFrame {
  kind: typeof MESSAGE;
  message: BrokerMessage;
  origin: string;
  /** Deliver to the node's ordinary (non-shared) subscribers. */
  normal: boolean;
  /** Shared groups (`share\0filter`) this node serves for this message. */
  groups: string[];
}
export interface DirectedFrame {
  kind: typeof DIRECTED;
  message: BrokerMessage;
  origin: string;
  clientId: string;
  qos: QoS;
  retain: boolean;
  subIds: number[] | undefined;
}
export interface ControlFrame {
  kind: typeof FENCE | typeof END | typeof BEGIN;
  clientId: string;
  from: string;
  handover: string;
}
export type Frame = MessageFrame | DirectedFrame | ControlFrame;

function propsJson(p: PublishProperties): string {
  return JSON.stringify(p, function (this: Record<string, unknown>, k, v) {
    const raw = this[k];
    return raw instanceof Uint8Array ? { $b: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') } : v;
  });
}
function parseProps(s: string): PublishProperties {
  return JSON.parse(s, (_k, v) =>
    v !== null && typeof v === 'object' && typeof (v as { $b?: unknown }).$b === 'string'
      ? Buffer.from((v as { $b: string }).$b, 'base64')
      : v,
  ) as PublishProperties;
}

/** Sizes then fills one frame (two passes over the same steps, no intermediate buffers per field). */
class Writer {
  b: Buffer | null = null;
  o = 0;
  str(s: string): void {
    const n = Buffer.byteLength(s);
    if (this.b !== null) {
      this.o = this.b.writeUInt16BE(n, this.o);
      this.o += this.b.write(s, this.o);
    } else this.o += 2 + n;
  }
  u8(v: number): void {
    if (this.b !== null) this.o = this.b.writeUInt8(v, this.o);
    else this.o += 1;
  }
  u16(v: number): void {
    if (this.b !== null) this.o = this.b.writeUInt16BE(v, this.o);
    else this.o += 2;
  }
  u32(v: number): void {
    if (this.b !== null) this.o = this.b.writeUInt32BE(v, this.o);
    else this.o += 4;
  }
  f64(v: number): void {
    if (this.b !== null) this.o = this.b.writeDoubleBE(v, this.o);
    else this.o += 8;
  }
  bytes(v: Buffer): void {
    if (this.b !== null) this.o += v.copy(this.b, this.o);
    else this.o += v.length;
  }
}

function build(fill: (w: Writer) => void): Buffer {
  const w = new Writer();
  fill(w);
  const len = w.o;
  w.b = Buffer.allocUnsafe(len);
  w.o = 0;
  fill(w);
  return w.b;
}

function messageHead(w: Writer, m: BrokerMessage, extra: number, props: string | undefined, origin: string): void {
  w.u8(m.qos | (m.retain ? 4 : 0) | extra | (props !== undefined ? 16 : 0));
  w.f64(m.expiresAt);
  w.str(m.topic);
  w.str(m.senderId);
  w.str(m.publisherUser);
  w.str(origin);
}
function messageTail(w: Writer, m: BrokerMessage, props: string | undefined): void {
  if (props !== undefined) {
    w.u32(Buffer.byteLength(props));
    w.bytes(Buffer.from(props));
  }
  w.bytes(m.payload);
}

export function encodeMessage(m: BrokerMessage, normal: boolean, groups: readonly string[], origin: string): Buffer {
  const props = m.properties !== undefined ? propsJson(m.properties) : undefined;
  return build((w) => {
    w.u32(w.b === null ? 0 : w.b.length);
    w.u8(MESSAGE);
    messageHead(w, m, normal ? 8 : 0, props, origin);
    w.u16(groups.length);
    for (const g of groups) w.str(g);
    messageTail(w, m, props);
  });
}

export function encodeDirected(
  m: BrokerMessage,
  origin: string,
  clientId: string,
  qos: QoS,
  retain: boolean,
  subIds: readonly number[] | undefined,
): Buffer {
  const props = m.properties !== undefined ? propsJson(m.properties) : undefined;
  return build((w) => {
    w.u32(w.b === null ? 0 : w.b.length);
    w.u8(DIRECTED);
    messageHead(w, m, 0, props, origin);
    w.str(clientId);
    w.u8(qos);
    w.u8(retain ? 1 : 0);
    w.u16(subIds?.length ?? 0);
    for (const id of subIds ?? []) w.u32(id);
    messageTail(w, m, props);
  });
}

export function encodeControl(kind: typeof FENCE | typeof END | typeof BEGIN, clientId: string, from: string, handover: string): Buffer {
  return build((w) => {
    w.u32(w.b === null ? 0 : w.b.length);
    w.u8(kind);
    w.str(clientId);
    w.str(from);
    w.str(handover);
  });
}

/** Decodes the frames of one stream entry (or one registered Will); `id` numbers the messages on this node. */
export function decodeFrames(buf: Buffer, id: () => number): Frame[] {
  const out: Frame[] = [];
  let at = 0;
  while (at + 5 <= buf.length) {
    const len = buf.readUInt32BE(at);
    if (len < 5 || at + len > buf.length) break;
    const end = at + len;
    let o = at + 4;
    const kind = buf[o++] as number;
    const str = () => {
      const l = buf.readUInt16BE(o);
      o += 2;
      const s = buf.toString('utf8', o, o + l);
      o += l;
      return s;
    };
    if (kind === FENCE || kind === END || kind === BEGIN) {
      out.push({ kind, clientId: str(), from: str(), handover: str() });
      at = end;
      continue;
    }
    const flags = buf[o++] as number;
    const expiresAt = buf.readDoubleBE(o);
    o += 8;
    const topic = str();
    const sender = str();
    const user = str();
    const origin = str();
    let frame: MessageFrame | DirectedFrame;
    if (kind === MESSAGE) {
      const n = buf.readUInt16BE(o);
      o += 2;
      const groups: string[] = [];
      for (let i = 0; i < n; i++) groups.push(str());
      frame = { kind, message: undefined as unknown as BrokerMessage, origin, normal: (flags & 8) !== 0, groups };
    } else {
      const clientId = str();
      const qos = buf[o++] as QoS;
      const retain = buf[o++] === 1;
      const n = buf.readUInt16BE(o);
      o += 2;
      let subIds: number[] | undefined;
      for (let i = 0; i < n; i++) {
        (subIds ??= []).push(buf.readUInt32BE(o));
        o += 4;
      }
      frame = { kind: DIRECTED, message: undefined as unknown as BrokerMessage, origin, clientId, qos, retain, subIds };
    }
    let props: PublishProperties | undefined;
    if (flags & 16) {
      const l = buf.readUInt32BE(o);
      o += 4;
      props = parseProps(buf.toString('utf8', o, o + l));
      o += l;
    }
    const payload = Buffer.from(buf.subarray(o, end));
    const m = new BrokerMessage(id(), topic, payload, (flags & 3) as QoS, (flags & 4) !== 0, props, expiresAt, sender);
    m.publisherUser = user;
    frame.message = m;
    out.push(frame);
    at = end;
  }
  return out;
}
