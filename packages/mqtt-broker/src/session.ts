import type { QoS } from '@iotwire/mqtt-packet';
import type { MqttConnection } from './connection.js';
import type { BrokerMessage } from './message.js';
import type { IndexedSubscription } from './subscription-index.js';

/** Session Expiry Interval meaning "never expires". */
export const NEVER_EXPIRES = 0xffffffff;

/** One subscription of one session. */
export interface Subscription extends IndexedSubscription {
  readonly session: Session;
  /** The filter as subscribed (with any `$share/{name}/` prefix). */
  readonly filter: string;
  readonly qos: QoS;
  readonly noLocal: boolean;
  readonly retainAsPublished: boolean;
  readonly retainHandling: 0 | 1 | 2;
  readonly subscriptionId: number | undefined;
}

/**
 * One subscriber's copy of a message: queued (state 1) or in flight (2 waiting for PUBACK,
 * 3 for PUBREC, 4 PUBREL not yet sent, 5 waiting for PUBCOMP).
 */
export class Outgoing {
  packetId = 0;
  state: 1 | 2 | 3 | 4 | 5 = 1;
  constructor(
    readonly messageId: number,
    readonly message: BrokerMessage,
    readonly qos: QoS,
    readonly retain: boolean,
    public dup: boolean,
    readonly subIds: number[] | undefined,
  ) {}
  /** Bytes charged to the queue limits. */
  get size(): number {
    return this.message.payload.length + this.message.topic.length + 16;
  }
}

/** An inbound QoS 2 message whose packet id stays reserved until PUBREL [MQTT-4.3.3-9]. */
export interface IncomingRecord {
  messageId: number;
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  dup: boolean;
}

/** A Will Message waiting for its delay (MQTT 5 Will Delay Interval) after the connection ended. */
export interface PendingWill {
  message: BrokerMessage;
  delay: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Per-client-id state that may outlive a connection: subscriptions, the outgoing window
 * (packet id to message), the queue of messages not yet sent, inbound QoS 2 packet ids
 * waiting for PUBREL, the pending Will and the expiry timer.
 */
export class Session {
  connection: MqttConnection | null = null;
  // The maps are created on first use: an idle client that never subscribes or receives
  // QoS 1/2 costs none of them (memory per idle connection).
  #subscriptions: Map<string, Subscription> | undefined;
  #inflight: Map<number, Outgoing> | undefined;
  #incoming: Map<number, IncomingRecord> | undefined;
  get subscriptions(): Map<string, Subscription> {
    this.#subscriptions ??= new Map();
    return this.#subscriptions;
  }
  /** Outgoing QoS 1/2 messages by packet id, in send order. */
  get inflight(): Map<number, Outgoing> {
    this.#inflight ??= new Map();
    return this.#inflight;
  }
  /** Inbound QoS 2 messages in state 8 (PUBREC sent, waiting for PUBREL) by packet id. */
  get incoming(): Map<number, IncomingRecord> {
    this.#incoming ??= new Map();
    return this.#incoming;
  }
  /** In-flight copies, without creating the map (for counting). */
  get inflightOrNone(): ReadonlyMap<number, Outgoing> | undefined {
    return this.#inflight;
  }
  /** Whether any subscription exists (without creating the map). */
  get hasSubscriptions(): boolean {
    return this.#subscriptions !== undefined && this.#subscriptions.size > 0;
  }
  /** Messages waiting to be sent (flow control, congestion, offline). */
  queue: Outgoing[] = [];
  queuedBytes = 0;
  /** Session Expiry Interval in seconds (0 = ends with the connection; NEVER_EXPIRES = never). */
  expiryInterval = 0;
  protocolVersion: 3 | 4 | 5 = 4;
  /** User name of the last connection (authorizes deliveries while offline). */
  userName = '';
  disconnectedAt = 0;
  will: PendingWill | undefined;
  expiryTimer: NodeJS.Timeout | undefined;
  /** Messages dropped because of queue limits or expiry. */
  dropped = 0;
  /**
   * Set by the cluster while the session moves between nodes: sees each copy first and returns
   * true when it took it (handed on to the new node, or a second copy dropped).
   */
  divert: ((msg: BrokerMessage, qos: QoS, retain: boolean, subIds: number[] | undefined) => boolean) | undefined = undefined;
  #nextPacketId = 0;

  constructor(readonly clientId: string) {}

  /** Whether the session outlives its connection (so it is persisted). */
  get persistent(): boolean {
    return this.expiryInterval > 0;
  }

  /** A free packet id for an outgoing message (1..65535, skipping ids in use). */
  allocatePacketId(): number {
    let id = this.#nextPacketId;
    for (let i = 0; i < 65_535; i++) {
      id = id >= 65_535 ? 1 : id + 1;
      if (!this.inflight.has(id)) {
        this.#nextPacketId = id;
        return id;
      }
    }
    return 0;
  }

  /** Appends to the queue. */
  enqueue(out: Outgoing): void {
    this.queue.push(out);
    this.queuedBytes += out.size;
  }

  /** Removes and returns the head of the queue. */
  dequeue(): Outgoing | undefined {
    const out = this.queue.shift();
    if (out !== undefined) this.queuedBytes -= out.size;
    return out;
  }

  /** Drops the oldest queued QoS 0 message; returns it, or undefined if there is none. */
  dropOldestQos0(): Outgoing | undefined {
    const i = this.queue.findIndex((o) => o.qos === 0);
    if (i < 0) return undefined;
    const [out] = this.queue.splice(i, 1);
    this.queuedBytes -= (out as Outgoing).size;
    return out;
  }

  clearTimers(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (this.will?.timer) clearTimeout(this.will.timer);
  }
}
