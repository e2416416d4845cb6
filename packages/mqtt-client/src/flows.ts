import type { AckProperties, PublishProperties, QoS } from '@iotwire/mqtt-packet';
import { Completion } from './completion.js';
import { clientError, type MqttClientError } from './errors.js';
import { MessageState, MqttMessage } from './message.js';
import { BoundedQueue, type ResolvedQueueOptions } from './outbound-queue.js';
import { PacketIdAllocator } from './packet-ids.js';

/** What a publish Promise resolves with. */
export interface PublishResult {
  /** Packet identifier used (-1 for QoS 0). */
  packetId: number;
  /** Reason code of the final ack (0 for QoS 0 and in MQTT 3.1.1). 0x10 = no matching subscribers. */
  reasonCode: number;
  /** Properties of the final ack (MQTT 5), if any. */
  properties?: AckProperties;
}

/** An outgoing QoS 1/2 message with its completion. */
export class OutgoingMessage extends MqttMessage {
  readonly type = 'publish' as const;
  readonly completion: Completion<PublishResult>;
  /** Transmitted on the current connection (counts against the Receive Maximum). */
  wired = false;
  constructor(
    topic: string,
    payload: Uint8Array,
    qos: QoS,
    retain: boolean,
    dup: boolean,
    properties: PublishProperties | undefined,
    onUnobserved?: (err: unknown) => void,
  ) {
    super(topic, payload, qos, retain, dup, properties);
    this.completion = new Completion<PublishResult>(onUnobserved);
  }
}

/** The protocol actions the flows need from the connection. */
export interface OutgoingFlowHooks {
  /** Write a PUBLISH (first transmission, or a resend with DUP). */
  sendPublish(msg: OutgoingMessage): void;
  /** A queued QoS 0 message went out. */
  sentQoS0(msg: OutgoingMessage): void;
  /** Write a PUBREL. */
  sendPubrel(packetId: number): void;
  /** The flow finished (called while the message is still in the collection: see indexOf). */
  finished(msg: OutgoingMessage, reasonCode: number, properties: AckProperties | undefined): void;
}

/**
 * Outgoing QoS 1/2 flows (MQTT §4.3.2, §4.3.3): packet identifiers, the OutgoingMessages
 * collection in send order, the server's Receive Maximum (messages beyond it wait in the
 * bounded queue, as do messages published while offline) and redelivery after reconnect.
 */
export class OutgoingFlows {
  readonly ids = new PacketIdAllocator();
  /** States 0..3 by packet id, in first-send order. */
  readonly inflight = new Map<number, OutgoingMessage>();
  readonly queue: BoundedQueue<OutgoingMessage>;
  #online = false;
  #quota = 65_535;
  #onWire = 0;
  /** Restored/kept messages to resend on this connection, in order. */
  #resend: OutgoingMessage[] = [];
  #resendHead = 0;

  constructor(
    queueOptions: ResolvedQueueOptions,
    private readonly hooks: OutgoingFlowHooks,
  ) {
    this.queue = new BoundedQueue<OutgoingMessage>(queueOptions, (m) => m.payload.length + m.topic.length);
  }

  get online(): boolean {
    return this.#online;
  }

  /** Messages counted against the Receive Maximum right now. */
  get onWire(): number {
    return this.#onWire;
  }

  get quota(): number {
    return this.#quota;
  }

  /**
   * Accepts a new QoS 1/2 message: sent now when connected and under the Receive Maximum,
   * otherwise queued (bounded). Returns messages the queue dropped (policy drop-oldest).
   * Throws ERR_QUEUE_FULL.
   */
  submit(msg: OutgoingMessage): OutgoingMessage[] {
    if (this.#online && this.#onWire < this.#quota && this.queue.length === 0 && this.#resendHead >= this.#resend.length) {
      this.#transmitNew(msg);
      return [];
    }
    return this.queue.push(msg);
  }

  #transmitNew(msg: OutgoingMessage): void {
    msg.packetId = this.ids.allocate();
    msg.state = msg.qos === 1 ? MessageState.WaitPuback : MessageState.WaitPubrec;
    msg.wired = true;
    this.#onWire++;
    this.hooks.sendPublish(msg);
    // The toolkit adds the message after its PUBLISH is written.
    this.inflight.set(msg.packetId, msg);
  }

  #retransmit(msg: OutgoingMessage): void {
    msg.wired = true;
    this.#onWire++;
    if (msg.state === MessageState.WaitPuback || msg.state === MessageState.WaitPubrec) {
      msg.dup = true;
      this.hooks.sendPublish(msg);
    } else {
      msg.state = MessageState.WaitPubcomp;
      this.hooks.sendPubrel(msg.packetId);
    }
  }

  /** Sends what the Receive Maximum allows: pending resends first, then the queue. */
  pump(): void {
    while (this.#online && this.#onWire < this.#quota) {
      if (this.#resendHead < this.#resend.length) {
        const msg = this.#resend[this.#resendHead++] as OutgoingMessage;
        if (this.inflight.get(msg.packetId) === msg && !msg.wired) this.#retransmit(msg);
        continue;
      }
      const next = this.queue.shift();
      if (!next) break;
      if (next.completion.settled) continue;
      if (next.qos === 0) {
        // A QoS 0 message queued while offline (queue.queueQoS0): fire and forget.
        this.hooks.sendPublish(next);
        this.hooks.sentQoS0(next);
        next.completion.resolve({ packetId: -1, reasonCode: 0 });
        continue;
      }
      this.#transmitNew(next);
    }
    if (this.#resendHead >= this.#resend.length && this.#resend.length > 0) {
      this.#resend = [];
      this.#resendHead = 0;
    }
  }

  /**
   * A connection is up. `sessionPresent`: resend every unacknowledged PUBLISH (DUP, same id)
   * and PUBREL [MQTT-4.4.0-1]. Otherwise the server lost the session: protocol state is
   * discarded [MQTT-3.2.2-?] but the application's messages are not lost: unacknowledged
   * PUBLISHes go out again as new messages; QoS 2 messages already PUBREC'd (the server took
   * ownership) complete.
   */
  connected(sessionPresent: boolean, receiveMaximum: number): void {
    this.#online = true;
    this.#quota = receiveMaximum;
    this.#onWire = 0;
    for (const m of this.inflight.values()) m.wired = false;
    if (sessionPresent) {
      this.#resend = [...this.inflight.values()];
      this.#resendHead = 0;
    } else {
      const again: OutgoingMessage[] = [];
      for (const m of [...this.inflight.values()]) {
        if (m.state === MessageState.SendPubrel || m.state === MessageState.WaitPubcomp) {
          this.#finish(m, 0, undefined);
        } else {
          this.inflight.delete(m.packetId);
          this.ids.release(m.packetId);
          m.packetId = 0;
          m.dup = false;
          again.push(m);
        }
      }
      this.#resend = [];
      this.#resendHead = 0;
      this.queue.unshiftAll(again);
    }
    this.pump();
  }

  /** Restored messages to (re)send on the live connection, after those already queued for resend. */
  queueResend(msgs: readonly OutgoingMessage[]): void {
    this.#resend = [...this.#resend.slice(this.#resendHead), ...msgs];
    this.#resendHead = 0;
    this.pump();
  }

  /** The connection is gone; in-flight messages stay for redelivery. */
  disconnected(): void {
    this.#online = false;
    this.#onWire = 0;
    this.#resend = [];
    this.#resendHead = 0;
    for (const m of this.inflight.values()) m.wired = false;
  }

  /** Position of `msg` in the OutgoingMessages collection (O(n): only for messageAck listeners). */
  indexOf(msg: OutgoingMessage): number {
    let i = 0;
    for (const m of this.inflight.values()) {
      if (m === msg) return i;
      i++;
    }
    return -1;
  }

  #finish(msg: OutgoingMessage, reasonCode: number, properties: AckProperties | undefined): void {
    msg.state = MessageState.OutDone;
    this.hooks.finished(msg, reasonCode, properties);
    this.inflight.delete(msg.packetId);
    this.ids.release(msg.packetId);
    if (msg.wired) {
      msg.wired = false;
      this.#onWire--;
    }
    const result: PublishResult = { packetId: msg.packetId, reasonCode };
    if (properties) result.properties = properties;
    if (reasonCode >= 0x80) {
      msg.completion.reject(
        clientError('ERR_PUBLISH_FAILED', `publish to ${msg.topic} refused with reason code 0x${reasonCode.toString(16)}`, { reasonCode }),
      );
    } else {
      msg.completion.resolve(result);
    }
  }

  /** PUBACK. Returns false when the id is unknown or not awaiting a PUBACK. */
  puback(packetId: number, reasonCode: number, properties: AckProperties | undefined): boolean {
    const msg = this.inflight.get(packetId);
    if (!msg || msg.state !== MessageState.WaitPuback) return false;
    this.#finish(msg, reasonCode, properties);
    this.pump();
    return true;
  }

  /**
   * PUBREC. Returns 'pubrel' when a PUBREL was sent, 'failed' when the reason code ended the
   * flow, 'unknown' for an id we do not have in state 1/2/3 (the caller answers PUBREL 0x92).
   */
  pubrec(packetId: number, reasonCode: number, properties: AckProperties | undefined): 'pubrel' | 'failed' | 'unknown' {
    const msg = this.inflight.get(packetId);
    if (msg?.qos !== 2 || msg.state === MessageState.WaitPuback) return 'unknown';
    if (reasonCode >= 0x80) {
      if (msg.state !== MessageState.WaitPubrec) return 'unknown';
      this.#finish(msg, reasonCode, properties);
      this.pump();
      return 'failed';
    }
    // A duplicate PUBREC (after resend) is answered again; the state stays WaitPubcomp.
    msg.state = MessageState.SendPubrel;
    this.hooks.sendPubrel(packetId);
    msg.state = MessageState.WaitPubcomp;
    return 'pubrel';
  }

  /** PUBCOMP. Returns false when unknown. */
  pubcomp(packetId: number, reasonCode: number, properties: AckProperties | undefined): boolean {
    const msg = this.inflight.get(packetId);
    if (!msg || msg.state !== MessageState.WaitPubcomp) return false;
    this.#finish(msg, reasonCode, properties);
    this.pump();
    return true;
  }

  /** v3 RepublishInterval: resend PUBLISHes still unacknowledged (DUP, same id). */
  republishUnacked(olderThan: (msg: OutgoingMessage) => boolean): number {
    let n = 0;
    for (const m of this.inflight.values()) {
      if (m.wired && (m.state === MessageState.WaitPuback || m.state === MessageState.WaitPubrec) && olderThan(m)) {
        m.dup = true;
        this.hooks.sendPublish(m);
        n++;
      }
    }
    return n;
  }

  /** Rejects and forgets everything (clean session ended, reset()). */
  abortAll(err: MqttClientError): void {
    const all = [...this.inflight.values(), ...this.queue.drain()];
    this.inflight.clear();
    this.ids.clear();
    this.#resend = [];
    this.#resendHead = 0;
    this.#onWire = 0;
    for (const m of all) m.completion.reject(err);
  }

  /** Adds a restored message (from session state) in its saved state. */
  restore(msg: OutgoingMessage): boolean {
    if (!this.ids.reserve(msg.packetId)) return false;
    this.inflight.set(msg.packetId, msg);
    return true;
  }
}

/**
 * Incoming QoS 2 state (§4.3.3, Method A of the digest: deliver on PUBREL). The payload is
 * held until the PUBREL so the application sees each message exactly once; a re-sent PUBLISH
 * for an id already in state 7 only triggers another PUBREC.
 */
export class IncomingFlows {
  readonly pending = new Map<number, MqttMessage>();
  /**
   * Fingerprints of QoS 2 messages already delivered, by packet id, until the server reuses
   * the id for a new message (DUP 0). A server that lost its state (crash, stale persistence)
   * re-sends completed messages with DUP 1 and their old ids; those are acknowledged again
   * but not delivered twice. At most one entry per id: bounded.
   */
  readonly #completed = new Map<number, number>();
  /** Ids re-sent as such duplicates: PUBREL is answered, nothing delivered. */
  readonly #ghosts = new Set<number>();

  /** Whether a QoS 2 PUBLISH is a re-send of a message already delivered. Records fresh ids. */
  isRedelivery(packetId: number, dup: boolean, topic: string, payload: Uint8Array): boolean {
    if (!dup) {
      this.#completed.delete(packetId);
      return false;
    }
    const fp = this.#completed.get(packetId);
    if (fp === undefined || fp !== fingerprint(topic, payload)) return false;
    this.#ghosts.add(packetId);
    return true;
  }

  /** PUBREL for an id answered as a redelivery: true once (then forgotten). */
  releaseGhost(packetId: number): boolean {
    return this.#ghosts.delete(packetId);
  }

  /** Remembers a delivered QoS 2 message (after PUBCOMP). */
  completed(msg: MqttMessage): void {
    this.#completed.set(msg.packetId, fingerprint(msg.topic, msg.payload));
  }

  /** True when this id already waits for PUBREL (a duplicate PUBLISH). */
  has(packetId: number): boolean {
    return this.pending.has(packetId);
  }

  hold(msg: MqttMessage): void {
    msg.state = MessageState.WaitPubrel;
    this.pending.set(msg.packetId, msg);
  }

  /** PUBREL: the held message, or undefined for an unknown id. */
  release(packetId: number): MqttMessage | undefined {
    const msg = this.pending.get(packetId);
    if (msg) msg.state = MessageState.SendPubcomp;
    return msg;
  }

  indexOf(msg: MqttMessage): number {
    let i = 0;
    for (const m of this.pending.values()) {
      if (m === msg) return i;
      i++;
    }
    return -1;
  }

  remove(packetId: number): void {
    this.pending.delete(packetId);
  }

  clear(): void {
    this.pending.clear();
    this.#completed.clear();
    this.#ghosts.clear();
  }
}

/** FNV-1a over the topic and payload: a cheap identity for duplicate detection. */
function fingerprint(topic: string, payload: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < topic.length; i++) h = Math.imul(h ^ topic.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ 0xff, 0x01000193);
  for (let i = 0; i < payload.length; i++) h = Math.imul(h ^ (payload[i] as number), 0x01000193);
  return (h ^ payload.length) >>> 0;
}
