import type { PublishProperties, QoS } from '@iotwire/mqtt-packet';
import { BrokerError, BrokerErrorCode } from '../errors.js';

/**
 * The storage seam. The broker keeps its working state in memory and writes changes of
 * sessions that outlive their connection (and of retained messages) to a backend in ordered
 * batches, off the per-subscriber hot path; at start it loads them back. Every backend runs
 * the shared contract suite exported from `@iotwire/mqtt-broker/testing`.
 */

/** An application message as stored. */
export interface StoredMessage {
  messageId: number;
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  properties?: PublishProperties;
  /** Absolute expiry in ms since the epoch; 0 = never. */
  expiresAt: number;
  /** Publisher's client id ('' for in-process publishes). */
  senderId: string;
}

/**
 * One subscriber's copy of a message: queued (state 1) or in flight (2-5, the toolkit's
 * outgoing states).
 */
export interface StoredOutgoing {
  /** The copy's id (the toolkit's outgoing MessageId). */
  messageId: number;
  message: StoredMessage;
  qos: QoS;
  retain: boolean;
  dup: boolean;
  /** 0 while queued. */
  packetId: number;
  state: 1 | 2 | 3 | 4 | 5;
  subscriptionIdentifiers?: number[];
}

/** An inbound QoS 2 message waiting for PUBREL (state 8): its packet id stays reserved. */
export interface StoredIncoming {
  packetId: number;
  messageId: number;
  topic: string;
  qos: QoS;
}

export interface StoredSubscription {
  /** As subscribed, including any `$share/{name}/` prefix. */
  topicFilter: string;
  qos: QoS;
  noLocal: boolean;
  retainAsPublished: boolean;
  retainHandling: 0 | 1 | 2;
  subscriptionIdentifier?: number;
}

export interface StoredWill {
  message: StoredMessage;
  /** Will Delay Interval, seconds. */
  delay: number;
}

/** Session metadata (the children are stored separately). */
export interface StoredSessionMeta {
  clientId: string;
  protocolVersion: 3 | 4 | 5;
  /** Session Expiry Interval in seconds; 0xFFFFFFFF = never. */
  expiryInterval: number;
  /** When the client disconnected (ms since epoch); 0 while connected. */
  disconnectedAt: number;
  /** User name of the last connection (authorization of messages queued while offline). */
  userName?: string;
  will?: StoredWill;
}

export interface StoredSession extends StoredSessionMeta {
  subscriptions: StoredSubscription[];
  outgoing: StoredOutgoing[];
  incoming: StoredIncoming[];
}

/** One change. Children of a session need the session to exist (putSession first). */
export type StorageOp =
  | { type: 'putSession'; session: StoredSessionMeta }
  | { type: 'deleteSession'; clientId: string }
  | { type: 'putSubscription'; clientId: string; subscription: StoredSubscription }
  | { type: 'deleteSubscription'; clientId: string; topicFilter: string }
  | { type: 'putOutgoing'; clientId: string; outgoing: StoredOutgoing }
  | { type: 'deleteOutgoing'; clientId: string; messageId: number }
  | { type: 'putIncoming'; clientId: string; incoming: StoredIncoming }
  | { type: 'deleteIncoming'; clientId: string; packetId: number }
  | { type: 'putRetained'; message: StoredMessage }
  | { type: 'deleteRetained'; topic: string };

export interface BrokerStorage {
  /**
   * True when a resolved `apply()` means the batch survives a crash (fsync'd). The broker then
   * holds the acknowledgements that promise durability (PUBACK/PUBREC/PUBCOMP of messages for
   * persistent sessions) until the batch carrying them is applied. Default false.
   */
  readonly durable?: boolean;
  /** Opens the backend (idempotent). */
  open(): Promise<void>;
  /**
   * Applies a batch in order, atomically where the backend can. Ops for a session that does
   * not exist (other than putSession) are ignored.
   */
  apply(ops: readonly StorageOp[]): Promise<void>;
  /** Every stored session with its subscriptions, outgoing and incoming messages (outgoing in insertion order). */
  loadSessions(): Promise<StoredSession[]>;
  loadRetained(): Promise<StoredMessage[]>;
  close(): Promise<void>;
}

const OP_TYPES = new Set<string>([
  'putSession',
  'deleteSession',
  'putSubscription',
  'deleteSubscription',
  'putOutgoing',
  'deleteOutgoing',
  'putIncoming',
  'deleteIncoming',
  'putRetained',
  'deleteRetained',
]);

/**
 * Checks a batch before any of it is applied (the contract: a batch with an invalid op is
 * rejected whole, with `ERR_STORAGE`, and changes nothing).
 */
export function checkOps(ops: readonly StorageOp[]): void {
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as StorageOp | undefined;
    if (op === null || typeof op !== 'object' || !OP_TYPES.has(op.type)) {
      throw new BrokerError(
        BrokerErrorCode.Storage,
        `invalid storage op at ${i}: ${JSON.stringify((op as { type?: unknown } | undefined)?.type)}`,
      );
    }
    if ('clientId' in op && typeof op.clientId !== 'string')
      throw new BrokerError(BrokerErrorCode.Storage, `storage op ${i}: clientId must be a string`);
    const m = op.type === 'putRetained' ? op.message : op.type === 'putOutgoing' ? op.outgoing.message : undefined;
    if (m !== undefined && !(m.payload instanceof Uint8Array))
      throw new BrokerError(BrokerErrorCode.Storage, `storage op ${i}: payload must be bytes`);
  }
}
