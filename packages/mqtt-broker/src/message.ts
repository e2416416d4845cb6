import { encode, type ProtocolVersion, type PublishProperties, PublishTemplate, type QoS } from '@iotwire/mqtt-packet';
import type { StoredMessage } from './storage/types.js';

/**
 * An application message inside the broker: one object per PUBLISH received (or published
 * in-process), shared by every subscriber copy. The wire encoding is built once, lazily
 * ({@link PublishTemplate}), and patched per receiver.
 */
export class BrokerMessage {
  #template: PublishTemplate | undefined;
  constructor(
    /** Broker-assigned id (the toolkit's MessageId). */
    readonly id: number,
    readonly topic: string,
    readonly payload: Buffer,
    readonly qos: QoS,
    readonly retain: boolean,
    /** MQTT 5 properties without Topic Alias / Subscription Identifiers (those are per hop). */
    readonly properties: PublishProperties | undefined,
    /** Absolute expiry (ms since epoch), 0 = never (Message Expiry Interval). */
    readonly expiresAt: number,
    /** Client id of the publisher ('' for in-process publishes and wills of unknown clients). */
    readonly senderId: string,
  ) {}

  /**
   * Set by the router when the message goes to a single session: its one copy is encoded
   * directly, without building a template (fewer allocations on the common 1:1 path).
   */
  single = false;

  /** A Will's owner's user name (Wills are authorized as that user's publish). */
  publisherUser = '';

  /** Its stored form, built on first persistence (one per message, shared by every stored copy). */
  stored: StoredMessage | undefined = undefined;

  /** Encoding of one copy without per-receiver MQTT 5 extras. */
  bytes(version: ProtocolVersion, qos: QoS, packetId: number, retain: boolean, dup: boolean): Buffer {
    if (this.single && this.#template === undefined) {
      return encode(
        {
          type: 'publish',
          topic: this.topic,
          payload: this.payload,
          qos,
          packetId: qos === 0 ? undefined : packetId,
          retain,
          dup,
          properties: version === 5 ? this.properties : undefined,
        },
        version,
      );
    }
    return this.template.bytes(version, qos, packetId, retain, dup);
  }

  get template(): PublishTemplate {
    let t = this.#template;
    if (t === undefined) {
      t = this.#template = new PublishTemplate({
        type: 'publish',
        topic: this.topic,
        payload: this.payload,
        qos: this.qos,
        retain: false,
        dup: false,
        packetId: this.qos > 0 ? 1 : undefined,
        properties: this.properties,
      });
    }
    return t;
  }

  /** Seconds left before expiry (for the Message Expiry Interval sent on), -1 when expired, undefined when none. */
  remainingSeconds(now: number): number | undefined {
    if (this.expiresAt === 0) return undefined;
    const left = Math.ceil((this.expiresAt - now) / 1000);
    return left > 0 ? left : -1;
  }

  /** The same message with another retain flag (retained copies are stored with retain=true). */
  withRetain(retain: boolean, id = this.id): BrokerMessage {
    if (retain === this.retain && id === this.id) return this;
    const m = new BrokerMessage(id, this.topic, this.payload, this.qos, retain, this.properties, this.expiresAt, this.senderId);
    m.#template = this.#template;
    return m;
  }
}

/** Public view of a message: the `messages` (retained) collection and hook arguments. */
export interface MessageInfo {
  messageId: number;
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties?: PublishProperties;
}

export function messageInfo(m: BrokerMessage): MessageInfo {
  return {
    messageId: m.id,
    topic: m.topic,
    payload: m.payload,
    qos: m.qos,
    retain: m.retain,
    ...(m.properties ? { properties: m.properties } : {}),
  };
}
