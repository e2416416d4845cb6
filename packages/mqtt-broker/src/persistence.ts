import { BrokerMessage } from './message.js';
import type { Outgoing, Session, Subscription } from './session.js';
import type { BrokerStorage, StorageOp, StoredMessage, StoredOutgoing, StoredSessionMeta, StoredSubscription } from './storage/types.js';

/** A connection whose output can be held until a commit (see {@link Persister.gate}). */
export interface GatedOutput {
  /** Owned by the Persister: the batch this output waits for. */
  gatedBatch: unknown;
  holdOutput(): void;
  releaseOutput(): void;
  /** The commit failed: the held acknowledgements must never be sent. */
  failOutput(reason: string): void;
}

interface Batch {
  ops: StorageOp[];
  gated: GatedOutput[];
}

/**
 * Write-behind with group commit. Changes are collected while the broker handles I/O and
 * applied as one ordered batch per turn of the event loop; while a batch is being written
 * (fsync'd, for a durable backend) the next one grows, so the cost is one sync per batch, not
 * per message, and no delivery waits for storage.
 *
 * Acknowledgements that promise durability are different: {@link gate} holds a connection's
 * output (PUBACK, PUBREC, PUBCOMP, SUBACK, …, in order) until the batch carrying the changes
 * they acknowledge is committed. Only connections whose packet produced changes for a
 * persistent session are held, and only with a durable backend; clean sessions and QoS 0
 * never wait.
 */
export class Persister {
  #open: Batch = { ops: [], gated: [] };
  #scheduled = false;
  #writing: Promise<void> | null = null;
  /** Changes pushed so far: callers compare it before and after handling a packet. */
  pushed = 0;
  /** Whether acknowledgements wait for commits (the backend says it is durable). */
  readonly durable: boolean;

  constructor(
    readonly storage: BrokerStorage,
    private readonly onError: (err: unknown) => void,
  ) {
    this.durable = storage.durable === true;
  }

  push(op: StorageOp): void {
    this.#open.ops.push(op);
    this.pushed++;
    this.#schedule();
  }

  /** Holds `conn`'s output until the batch now being collected is committed (durable backends only). */
  gate(conn: GatedOutput): void {
    if (!this.durable || conn.gatedBatch === this.#open) return;
    conn.gatedBatch = this.#open;
    conn.holdOutput();
    this.#open.gated.push(conn);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#writing !== null) return;
    this.#scheduled = true;
    setImmediate(this.#commit);
  }

  #commit = (): void => {
    this.#scheduled = false;
    if (this.#writing !== null) return;
    const b = this.#open;
    if (b.ops.length === 0 && b.gated.length === 0) return;
    this.#open = { ops: [], gated: [] };
    this.#writing = (b.ops.length === 0 ? Promise.resolve() : this.storage.apply(b.ops)).then(
      () => {
        for (const c of b.gated) {
          if (c.gatedBatch === b) c.gatedBatch = undefined;
          c.releaseOutput();
        }
        this.#done();
      },
      (err: unknown) => {
        for (const c of b.gated) {
          if (c.gatedBatch === b) c.gatedBatch = undefined;
          c.failOutput('storage write failed');
        }
        this.#done();
        this.onError(err);
      },
    );
  };

  #done(): void {
    this.#writing = null;
    if (this.#open.ops.length > 0 || this.#open.gated.length > 0) this.#schedule();
  }

  /** Resolves once everything pushed so far is applied. */
  async flush(): Promise<void> {
    for (let i = 0; i < 1_000_000; i++) {
      if (this.#writing !== null) {
        await this.#writing;
        continue;
      }
      if (this.#open.ops.length === 0 && this.#open.gated.length === 0) return;
      this.#commit();
    }
  }
}

/** The stored form of a message, built once per message however many copies are stored. */
export function storedMessage(m: BrokerMessage): StoredMessage {
  let s = m.stored;
  if (s === undefined) {
    s = m.stored = {
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
  return s;
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
    ...(s.userName !== '' ? { userName: s.userName } : {}),
    ...(s.will ? { will: { message: storedMessage(s.will.message), delay: s.will.delay } } : {}),
  };
}
