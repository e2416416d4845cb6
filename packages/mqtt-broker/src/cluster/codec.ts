/**
 * Wire format of messages forwarded between cluster nodes, and of the Wills a node registers:
 * lean binary frames (one per message, many per Redis stream entry), the payload as it is.
 *
 * Frame: u32 length · u8 flags (qos, retain, deliver-to-ordinary-subscribers, properties) ·
 * f64 expiresAt · u16+topic · u16+sender · u16+user · u16 group count, each u16+key ·
 * [u32+properties JSON] · payload.
 */
import type { PublishProperties, QoS } from '@iotwire/mqtt-packet';
import { BrokerMessage } from '../message.js';

export interface Forwarded {
  message: BrokerMessage;
  /** Deliver to the node's ordinary (non-shared) subscribers. */
  normal: boolean;
  /** Shared groups (`share\0filter`) this node serves for this message. */
  groups: string[];
}

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

export function encodeFrame(m: BrokerMessage, normal: boolean, groups: readonly string[]): Buffer {
  const topic = Buffer.from(m.topic);
  const sender = Buffer.from(m.senderId);
  const user = Buffer.from(m.publisherUser);
  const gs = groups.map((g) => Buffer.from(g));
  const props = m.properties !== undefined ? Buffer.from(propsJson(m.properties)) : undefined;
  let len = 4 + 1 + 8 + 2 + topic.length + 2 + sender.length + 2 + user.length + 2 + m.payload.length;
  for (const g of gs) len += 2 + g.length;
  if (props !== undefined) len += 4 + props.length;
  const b = Buffer.allocUnsafe(len);
  let o = b.writeUInt32BE(len, 0);
  o = b.writeUInt8(m.qos | (m.retain ? 4 : 0) | (normal ? 8 : 0) | (props !== undefined ? 16 : 0), o);
  o = b.writeDoubleBE(m.expiresAt, o);
  for (const s of [topic, sender, user]) {
    o = b.writeUInt16BE(s.length, o);
    o += s.copy(b, o);
  }
  o = b.writeUInt16BE(gs.length, o);
  for (const g of gs) {
    o = b.writeUInt16BE(g.length, o);
    o += g.copy(b, o);
  }
  if (props !== undefined) {
    o = b.writeUInt32BE(props.length, o);
    o += props.copy(b, o);
  }
  m.payload.copy(b, o);
  return b;
}

/** Decodes the frames of one stream entry; `id` numbers the messages on this node. */
export function decodeFrames(buf: Buffer, id: () => number): Forwarded[] {
  const out: Forwarded[] = [];
  let at = 0;
  while (at + 4 <= buf.length) {
    const len = buf.readUInt32BE(at);
    if (len < 23 || at + len > buf.length) break;
    const end = at + len;
    let o = at + 4;
    const flags = buf[o++] as number;
    const expiresAt = buf.readDoubleBE(o);
    o += 8;
    const str = () => {
      const l = buf.readUInt16BE(o);
      o += 2;
      const s = buf.toString('utf8', o, o + l);
      o += l;
      return s;
    };
    const topic = str();
    const sender = str();
    const user = str();
    const n = buf.readUInt16BE(o);
    o += 2;
    const groups: string[] = [];
    for (let i = 0; i < n; i++) groups.push(str());
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
    out.push({ message: m, normal: (flags & 8) !== 0, groups });
    at = end;
  }
  return out;
}
