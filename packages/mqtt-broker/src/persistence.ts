import { BrokerMessage } from './message.js';
import type { Outgoing, Session, Subscription } from './session.js';
import type { BrokerStorage, StorageOp, StoredMessage, StoredOutgoing, StoredSessionMeta, StoredSubscription } from './storage/types.js';

/**
 * Write-behind to the storage backend: changes are collected during an I/O callback and
 * applied as one ordered batch on the next turn of the event loop, so a durable backend sees
 * grouped writes and no delivery waits for storage.
 */
export class Persister {
  #ops: StorageOp[] = [];
  #scheduled = false;
  #chain: Promise<void> = Promise.resolve();

  constructor(
    readonly storage: BrokerStorage,
    private readonly onError: (err: unknown) => void,
  ) {}

  push(op: StorageOp): void {
    this.#ops.push(op);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flushBatch);
    }
  }

  #flushBatch = (): void => {
    this.#scheduled = false;
    if (this.#ops.length === 0) return;
    const batch = this.#ops;
    this.#ops = [];
    this.#chain = this.#chain.then(() => this.storage.apply(batch)).catch(this.onError);
  };

  /** Resolves once everything pushed so far is applied. */
  async flush(): Promise<void> {
    this.#flushBatch();
    await this.#chain;
  }
}

export function storedMessage(m: BrokerMessage): StoredMessage {
  return {
    messageId: m.id,
    topic: m.topic,
    payload: m.payload,
    qos: m.qos,
    retain: m.retain,
    ...(m.properties ? { properties: m.properties } : {}),
    expiresAt: m.expiresAt,
    senderId: m.senderId,
  };
}

export function fromStoredMessage(s: StoredMessage): BrokerMessage {
  return new BrokerMessage(s.messageId, s.topic, Buffer.from(s.payload), s.qos, s.retain, s.properties, s.expiresAt, s.senderId);
}

export function storedOutgoing(o: Outgoing): StoredOutgoing {
  return {
    messageId: o.messageId,
    message: storedMessage(o.message),
    qos: o.qos,
    retain: o.retain,
    dup: o.dup,
    packetId: o.packetId,
    state: o.state,
    ...(o.subIds ? { subscriptionIdentifiers: o.subIds } : {}),
  };
}

export function storedSubscription(s: Subscription): StoredSubscription {
  return {
    topicFilter: s.filter,
    qos: s.qos,
    noLocal: s.noLocal,
    retainAsPublished: s.retainAsPublished,
    retainHandling: s.retainHandling,
    ...(s.subscriptionId !== undefined ? { subscriptionIdentifier: s.subscriptionId } : {}),
  };
}

export function sessionMeta(s: Session): StoredSessionMeta {
  return {
    clientId: s.clientId,
    protocolVersion: s.protocolVersion,
    expiryInterval: s.expiryInterval,
    disconnectedAt: s.disconnectedAt,
    ...(s.will ? { will: { message: storedMessage(s.will.message), delay: s.will.delay } } : {}),
  };
}
