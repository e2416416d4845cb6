import type { ProtocolVersion, QoS } from './constants.js';
import { encode, packetSize } from './encode.js';
import { ErrorCode, invalidArgument, MqttPacketError } from './errors.js';
import { propertiesLength, putVarint, writeProperties } from './properties.js';
import type { PublishPacket, PublishProperties } from './types.js';
import { VARINT_MAX, varintSize } from './varint.js';

/** Per-receiver settings of one delivery. Unset fields default to the template packet's. */
export interface DeliveryOptions {
  qos?: QoS;
  /** Required for QoS 1 and 2. */
  packetId?: number;
  retain?: boolean;
  dup?: boolean;
  /** MQTT 5: Subscription Identifiers of the matching subscriptions [MQTT-3.3.4-3]. Ignored below 5. */
  subscriptionIdentifiers?: readonly number[];
  /** MQTT 5: Topic Alias for this receiver. Ignored below 5. */
  topicAlias?: number;
  /** MQTT 5: send an empty Topic Name (the alias is already established). Needs `topicAlias`. */
  omitTopic?: boolean;
  /** MQTT 5: Message Expiry Interval to send (the remaining lifetime [MQTT-3.3.2-6]). Ignored below 5. */
  messageExpiryInterval?: number;
}

function checkDelivery(qos: number, packetId: number, dup: boolean): void {
  if (qos !== 0 && qos !== 1 && qos !== 2) throw new MqttPacketError(ErrorCode.QosInvalid, 0x81, `qos must be 0, 1 or 2, got ${qos}`);
  if (qos === 0) {
    if (dup) throw new MqttPacketError(ErrorCode.DupQos0, 0x81, 'dup must be false for QoS 0 [MQTT-3.3.1-2]');
  } else if (!(packetId >= 1 && packetId <= 65_535 && Number.isInteger(packetId))) {
    throw new MqttPacketError(ErrorCode.PacketIdZero, 0x82, `packetId must be an integer in 1..65535 [MQTT-2.3.1-1], got ${packetId}`);
  }
}

/**
 * Encode-once fan-out of a PUBLISH (broker delivery path). The template encodes the packet
 * once per wire format (3.1/3.1.1 share one, 5.0 has properties) and then produces each
 * receiver's bytes by copying and patching the fixed-header flags (QoS, DUP, RETAIN) and the
 * Packet Identifier in place. For QoS 0 the very same Buffer is returned for every receiver
 * with the same RETAIN flag: treat returned buffers as read-only.
 *
 * MQTT 5 per-receiver properties (Subscription Identifiers, Topic Alias, Message Expiry
 * Interval) change the property length, so {@link encode} with those options re-encodes only
 * the variable header: the other properties are kept as pre-encoded bytes and the payload is
 * copied once (or not at all with {@link frames}).
 *
 * The packet's own `topicAlias` and `subscriptionIdentifiers` are per-receiver data and are
 * not part of the template: pass them in {@link DeliveryOptions}.
 */
export class PublishTemplate {
  /** The packet as given. */
  readonly packet: PublishPacket;
  private readonly topicBytes: Buffer;
  private readonly payload: Uint8Array;
  private readonly props: PublishProperties | undefined;
  /** [family][retain] QoS 0 encodings; family 0 = 3.1/3.1.1, 1 = 5.0. */
  private readonly q0: (Buffer | undefined)[] = [undefined, undefined, undefined, undefined];
  /** Header-only views of the QoS 0 encodings, same indexing as `q0`. */
  private readonly q0head: (Buffer | undefined)[] = [undefined, undefined, undefined, undefined];
  /** [family] encodings with a Packet Identifier slot (QoS 1, id 1, flags clear). */
  private readonly q1: (Buffer | undefined)[] = [undefined, undefined];
  /** v5 property bytes without the Property Length prefix. */
  private baseProps: Buffer | undefined;
  private meiOffset = -1;

  constructor(packet: PublishPacket) {
    if (packet?.type !== 'publish') throw invalidArgument('PublishTemplate takes a PUBLISH packet');
    if (typeof packet.topic !== 'string' || packet.topic.length === 0) {
      throw new MqttPacketError(ErrorCode.TopicNameInvalid, 0x90, 'a template needs the full Topic Name (aliases are per receiver)');
    }
    this.packet = packet;
    this.payload = packet.payload;
    const p = packet.properties;
    if (p !== undefined && (p.topicAlias !== undefined || p.subscriptionIdentifiers !== undefined)) {
      const { topicAlias: _a, subscriptionIdentifiers: _s, ...rest } = p;
      this.props = Object.keys(rest).length > 0 ? rest : undefined;
    } else {
      this.props = p;
    }
    // Validates topic, payload and properties once, without encoding (throws like encode()).
    packetSize(
      { type: 'publish', topic: packet.topic, payload: packet.payload, qos: 0, retain: false, dup: false, properties: this.props },
      5,
    );
    this.topicBytes = Buffer.from(packet.topic, 'utf8');
  }

  /** Full encoding of a flag-clear variant: `withId` 0 (QoS 0) or 1 (QoS 1 slot). */
  private base(withId: number, retain: number, family: number): Buffer {
    const cache = withId === 0 ? this.q0 : this.q1;
    const key = withId === 0 ? family * 2 + retain : family;
    let b = cache[key];
    if (b === undefined) {
      if (withId === 0 && retain === 1) {
        const clear = this.base(0, 0, family);
        b = Buffer.allocUnsafe(clear.length);
        clear.copy(b);
        b[0] = (b[0] as number) | 1;
      } else {
        b = encode(
          {
            type: 'publish',
            topic: this.packet.topic,
            payload: this.payload,
            qos: withId === 0 ? 0 : 1,
            packetId: withId === 0 ? undefined : 1,
            retain: false,
            dup: false,
            properties: family === 1 ? this.props : undefined,
          },
          family === 1 ? 5 : 4,
        );
      }
      cache[key] = b;
    }
    return b;
  }

  /** Offset of the Packet Identifier in a base encoding with an id slot. */
  private pidOffset(b: Buffer): number {
    let i = 1;
    while ((b[i] as number) >= 0x80) i++;
    return i + 3 + this.topicBytes.length;
  }

  private buildBaseProps(): void {
    // v5 properties without topicAlias/subscriptionIdentifiers, as bytes (no length prefix).
    const n = propertiesLength(this.props, 'publish');
    const tmp = Buffer.allocUnsafe(varintSize(n) + n);
    writeProperties(tmp, 0, this.props, n);
    this.baseProps = tmp.subarray(varintSize(n));
    if (this.props?.messageExpiryInterval !== undefined) this.meiOffset = (this.props.payloadFormatIndicator !== undefined ? 2 : 0) + 1;
  }

  /**
   * The bytes of one delivery (hot path, positional arguments). QoS 0 returns a shared,
   * cached Buffer (one per RETAIN value and wire format); QoS 1/2 return a fresh copy with the
   * flags and `packetId` patched.
   */
  bytes(version: ProtocolVersion, qos: QoS = this.packet.qos, packetId = 0, retain = this.packet.retain, dup = false): Buffer {
    checkDelivery(qos, packetId, dup);
    const family = version === 5 ? 1 : 0;
    if (qos === 0) return this.base(0, retain ? 1 : 0, family);
    const src = this.base(1, 0, family);
    const out = Buffer.allocUnsafe(src.length);
    src.copy(out);
    out[0] = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 1 : 0);
    const at = this.pidOffset(src);
    out[at] = packetId >>> 8;
    out[at + 1] = packetId & 0xff;
    return out;
  }

  /**
   * Like {@link bytes} but without copying the payload: a header Buffer (shared for QoS 0)
   * and the payload, for `socket.cork()` + two writes or `writev`.
   */
  frames(
    version: ProtocolVersion,
    qos: QoS = this.packet.qos,
    packetId = 0,
    retain = this.packet.retain,
    dup = false,
  ): [Buffer, Uint8Array] {
    checkDelivery(qos, packetId, dup);
    const family = version === 5 ? 1 : 0;
    if (qos === 0) {
      const key = family * 2 + (retain ? 1 : 0);
      let head = this.q0head[key];
      if (head === undefined) {
        const src = this.base(0, retain ? 1 : 0, family);
        this.q0head[key] = head = src.subarray(0, src.length - this.payload.length);
      }
      return [head, this.payload];
    }
    const src = this.base(1, 0, family);
    const headLen = src.length - this.payload.length;
    const head = Buffer.allocUnsafe(headLen);
    src.copy(head, 0, 0, headLen);
    head[0] = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 1 : 0);
    const at = this.pidOffset(src);
    head[at] = packetId >>> 8;
    head[at + 1] = packetId & 0xff;
    return [head, this.payload];
  }

  /** Encoded size of the delivery described by `options` (compare with the receiver's Maximum Packet Size). */
  size(version: ProtocolVersion, options: DeliveryOptions = {}): number {
    if (version !== 5 || !hasExtras(options)) {
      const family = version === 5 ? 1 : 0;
      const qos = options.qos ?? this.packet.qos;
      return this.base(qos === 0 ? 0 : 1, 0, family).length;
    }
    const [head] = this.framesFor(version, options);
    return head.length + this.payload.length;
  }

  /** The bytes of one delivery with per-receiver options (one Buffer). */
  encode(version: ProtocolVersion, options: DeliveryOptions = {}): Buffer {
    if (version !== 5 || !hasExtras(options)) {
      return this.bytes(
        version,
        options.qos ?? this.packet.qos,
        options.packetId ?? 0,
        options.retain ?? this.packet.retain,
        options.dup ?? false,
      );
    }
    const [head, payload] = this.framesFor(version, options);
    const out = Buffer.allocUnsafe(head.length + payload.length);
    head.copy(out, 0);
    out.set(payload, head.length);
    return out;
  }

  /** {@link encode} as header + payload, without copying the payload. */
  framesFor(version: ProtocolVersion, options: DeliveryOptions = {}): [Buffer, Uint8Array] {
    const qos = options.qos ?? this.packet.qos;
    const packetId = options.packetId ?? 0;
    const retain = options.retain ?? this.packet.retain;
    const dup = options.dup ?? false;
    if (version !== 5 || !hasExtras(options)) return this.frames(version, qos, packetId, retain, dup);
    checkDelivery(qos, packetId, dup);
    const subIds = options.subscriptionIdentifiers;
    const alias = options.topicAlias;
    const mei = options.messageExpiryInterval;
    let extra = 0;
    if (subIds !== undefined) {
      for (let i = 0; i < subIds.length; i++) {
        const id = subIds[i] as number;
        if (!Number.isInteger(id) || id < 1 || id > VARINT_MAX)
          throw invalidArgument(`subscription identifier must be in 1..${VARINT_MAX}`);
        extra += 1 + varintSize(id);
      }
    }
    if (alias !== undefined) {
      if (!Number.isInteger(alias) || alias < 1 || alias > 65_535) throw invalidArgument('topicAlias must be in 1..65535 [MQTT-3.3.2-8]');
      extra += 3;
    }
    if (options.omitTopic && alias === undefined) {
      throw new MqttPacketError(ErrorCode.TopicNameEmpty, 0x82, 'omitTopic needs a topicAlias (5.0 §3.3.2.1)');
    }
    if (mei !== undefined && !(Number.isInteger(mei) && mei >= 0 && mei <= 0xffffffff)) {
      throw invalidArgument('messageExpiryInterval must be in 0..4294967295');
    }
    if (this.baseProps === undefined) this.buildBaseProps();
    const base = this.baseProps as unknown as Buffer;
    const addMei = mei !== undefined && this.meiOffset < 0;
    const propsLen = base.length + extra + (addMei ? 5 : 0);
    const topicLen = options.omitTopic ? 0 : this.topicBytes.length;
    const rl = 2 + topicLen + (qos > 0 ? 2 : 0) + varintSize(propsLen) + propsLen + this.payload.length;
    if (rl > VARINT_MAX) throw new MqttPacketError(ErrorCode.PacketTooLarge, 0x95, 'PUBLISH larger than the MQTT maximum packet size');
    const head = Buffer.allocUnsafe(1 + varintSize(rl) + rl - this.payload.length);
    head[0] = 0x30 | (dup ? 0x08 : 0) | (qos << 1) | (retain ? 1 : 0);
    let off = putVarint(head, 1, rl);
    head[off++] = topicLen >>> 8;
    head[off++] = topicLen & 0xff;
    if (topicLen > 0) off += this.topicBytes.copy(head, off);
    if (qos > 0) {
      head[off++] = packetId >>> 8;
      head[off++] = packetId & 0xff;
    }
    off = putVarint(head, off, propsLen);
    const propsStart = off;
    off += base.copy(head, off);
    if (mei !== undefined) {
      let at: number;
      if (addMei) {
        head[off++] = 0x02;
        at = off;
        off += 4;
      } else {
        at = propsStart + this.meiOffset;
      }
      head[at] = mei >>> 24;
      head[at + 1] = (mei >>> 16) & 0xff;
      head[at + 2] = (mei >>> 8) & 0xff;
      head[at + 3] = mei & 0xff;
    }
    if (subIds !== undefined) {
      for (let i = 0; i < subIds.length; i++) {
        head[off++] = 0x0b;
        off = putVarint(head, off, subIds[i] as number);
      }
    }
    if (alias !== undefined) {
      head[off++] = 0x23;
      head[off++] = alias >>> 8;
      head[off++] = alias & 0xff;
    }
    return [head, this.payload];
  }
}

function hasExtras(o: DeliveryOptions): boolean {
  return (
    o.subscriptionIdentifiers !== undefined || o.topicAlias !== undefined || o.messageExpiryInterval !== undefined || o.omitTopic === true
  );
}
