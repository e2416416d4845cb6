import {
  type BrokerStorage,
  checkOps,
  type StorageOp,
  type StoredIncoming,
  type StoredMessage,
  type StoredOutgoing,
  type StoredSession,
  type StoredSessionMeta,
  type StoredSubscription,
} from './types.js';

interface Entry {
  meta: StoredSessionMeta;
  subscriptions: Map<string, StoredSubscription>;
  outgoing: Map<number, StoredOutgoing>;
  incoming: Map<number, StoredIncoming>;
}

/** Deep copy; byte fields (payloads, Correlation Data) come back as Buffers (structuredClone makes plain Uint8Arrays). */
function clone<T>(v: T): T {
  return fixBuffers(structuredClone(v)) as T;
}
function fixBuffers(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (x instanceof Uint8Array) o[k] = Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    else if (x !== null && typeof x === 'object' && !(x instanceof Uint8Array)) fixBuffers(x);
  }
  return o;
}

/**
 * In-memory backend: the reference implementation of {@link BrokerStorage} (and what the
 * contract suite is checked against). Values are copied in and out, as a durable backend's
 * would be.
 */
export class MemoryStorage implements BrokerStorage {
  readonly #sessions = new Map<string, Entry>();
  readonly #retained = new Map<string, StoredMessage>();

  async open(): Promise<void> {}

  async apply(ops: readonly StorageOp[]): Promise<void> {
    checkOps(ops);
    for (const op of ops) {
      switch (op.type) {
        case 'putSession': {
          const e = this.#sessions.get(op.session.clientId);
          if (e) e.meta = clone(op.session);
          else
            this.#sessions.set(op.session.clientId, {
              meta: clone(op.session),
              subscriptions: new Map(),
              outgoing: new Map(),
              incoming: new Map(),
            });
          break;
        }
        case 'deleteSession':
          this.#sessions.delete(op.clientId);
          break;
        case 'putSubscription':
          this.#sessions.get(op.clientId)?.subscriptions.set(op.subscription.topicFilter, clone(op.subscription));
          break;
        case 'deleteSubscription':
          this.#sessions.get(op.clientId)?.subscriptions.delete(op.topicFilter);
          break;
        case 'putOutgoing':
          this.#sessions.get(op.clientId)?.outgoing.set(op.outgoing.messageId, clone(op.outgoing));
          break;
        case 'deleteOutgoing':
          this.#sessions.get(op.clientId)?.outgoing.delete(op.messageId);
          break;
        case 'putIncoming':
          this.#sessions.get(op.clientId)?.incoming.set(op.incoming.packetId, clone(op.incoming));
          break;
        case 'deleteIncoming':
          this.#sessions.get(op.clientId)?.incoming.delete(op.packetId);
          break;
        case 'putRetained':
          this.#retained.set(op.message.topic, clone(op.message));
          break;
        case 'deleteRetained':
          this.#retained.delete(op.topic);
          break;
      }
    }
  }

  async loadSessions(): Promise<StoredSession[]> {
    return [...this.#sessions.values()].map((e) => ({
      ...clone(e.meta),
      subscriptions: [...e.subscriptions.values()].map(clone),
      outgoing: [...e.outgoing.values()].map(clone),
      incoming: [...e.incoming.values()].map(clone),
    }));
  }

  async loadRetained(): Promise<StoredMessage[]> {
    return [...this.#retained.values()].map(clone);
  }

  async close(): Promise<void> {}
}
