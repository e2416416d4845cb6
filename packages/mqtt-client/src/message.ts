import type { PublishProperties, QoS } from '@iotwire/mqtt-packet';

/**
 * Message states, numbered as the reference toolkit's MQTTMessage.State (they are persisted
 * in session state).
 */
export const MessageState = {
  /** Outgoing QoS 1: PUBLISH sent, waiting for PUBACK. */
  WaitPuback: 0,
  /** Outgoing QoS 2: PUBLISH sent, waiting for PUBREC. */
  WaitPubrec: 1,
  /** Outgoing QoS 2: PUBREC received, sending PUBREL. */
  SendPubrel: 2,
  /** Outgoing QoS 2: PUBREL sent, waiting for PUBCOMP. */
  WaitPubcomp: 3,
  /** Outgoing: final ack received. */
  OutDone: 4,
  /** Incoming QoS 1: PUBLISH received, sending PUBACK. */
  SendPuback: 5,
  /** Incoming QoS 2: PUBLISH received, sending PUBREC. */
  SendPubrec: 6,
  /** Incoming QoS 2: PUBREC sent, waiting for PUBREL. */
  WaitPubrel: 7,
  /** Incoming QoS 2: PUBREL received, sending PUBCOMP. */
  SendPubcomp: 8,
  /** Incoming: final ack sent. */
  InDone: 9,
} as const;

export type MessageStateValue = (typeof MessageState)[keyof typeof MessageState];

const decoder = new TextDecoder();

/**
 * One application message, in either direction, with its MQTT 5 properties as a typed
 * object. Incoming topics are always resolved (never an alias-only empty topic).
 */
export class MqttMessage {
  /** 0 before an identifier is assigned; -1 for QoS 0 in events (toolkit convention is kept by `packetIdOrMinus1`). */
  packetId: number;
  state: MessageStateValue | -1;

  constructor(
    public topic: string,
    public payload: Uint8Array,
    public qos: QoS,
    public retain: boolean,
    public dup: boolean,
    public properties: PublishProperties | undefined,
    packetId = 0,
  ) {
    this.packetId = packetId;
    this.state = -1;
  }

  /** The payload decoded as UTF-8 (the toolkit's `Message`). */
  get text(): string {
    return decoder.decode(this.payload);
  }

  /** MQTT 5 Subscription Identifiers that matched (incoming), `[]` when none. */
  get subscriptionIdentifiers(): number[] {
    return this.properties?.subscriptionIdentifiers ?? [];
  }

  /** MQTT 5 User Properties, `[]` when none. */
  get userProperties(): [string, string][] {
    return this.properties?.userProperties ?? [];
  }

  get responseTopic(): string | undefined {
    return this.properties?.responseTopic;
  }

  get correlationData(): Uint8Array | undefined {
    return this.properties?.correlationData;
  }

  get contentType(): string | undefined {
    return this.properties?.contentType;
  }

  /** Message Expiry Interval in seconds (incoming: the remaining lifetime). */
  get messageExpiryInterval(): number | undefined {
    return this.properties?.messageExpiryInterval;
  }

  get payloadFormatIndicator(): 0 | 1 | undefined {
    return this.properties?.payloadFormatIndicator;
  }

  /** Topic alias carried on the wire (0 when none). */
  get topicAlias(): number {
    return this.properties?.topicAlias ?? 0;
  }

  /** Packet id as the toolkit's events report it: -1 for QoS 0. */
  get packetIdOrMinus1(): number {
    return this.qos === 0 ? -1 : this.packetId;
  }
}

const encoder = new TextEncoder();

/** String payloads are UTF-8; bytes pass through without copying. */
export function toBytes(payload: string | Uint8Array): Uint8Array {
  return typeof payload === 'string' ? encoder.encode(payload) : payload;
}
