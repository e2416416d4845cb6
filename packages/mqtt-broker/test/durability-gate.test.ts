// Acknowledgements that promise durability wait for the storage commit; nothing else does.
// A controllable durable backend holds every apply() until the test lets it finish.
import { afterEach, describe, expect, it } from 'vitest';
import { type BrokerStorage, MemoryStorage, type StorageOp } from '../src/index.js';
import { startBroker } from './helpers/broker.js';
import { RawClient } from './helpers/raw-client.js';

const stores: HeldStorage[] = [];
afterEach(() => {
  // Let the brokers close (close() flushes storage).
  for (const s of stores.splice(0)) {
    s.hold = false;
    s.release();
  }
});

class HeldStorage extends MemoryStorage implements BrokerStorage {
  readonly durable = true;
  /** While true, apply() waits for release(). */
  hold = false;
  readonly pending: { ops: readonly StorageOp[]; resolve: () => void; reject: (e: Error) => void }[] = [];
  constructor() {
    super();
    stores.push(this);
  }
  override apply(ops: readonly StorageOp[]): Promise<void> {
    if (!this.hold) return super.apply(ops);
    return new Promise((resolve, reject) => this.pending.push({ ops, resolve: () => void super.apply(ops).then(resolve), reject }));
  }
  /** Lets every batch written so far finish. */
  release(): void {
    for (const p of this.pending.splice(0)) p.resolve();
  }
}

async function persistentSub(port: number, id: string, qos: 1 | 2): Promise<RawClient> {
  const { client } = await RawClient.connect(port, { clientId: id, clean: false });
  client.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: `${id}/#`, qos }] });
  return client;
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!cond()) throw new Error('timed out');
}

describe('durability gate', () => {
  it('clean sessions do not wait: QoS 1 between clean clients is acknowledged while storage is stuck', async () => {
    const storage = new HeldStorage();
    const { port } = await startBroker({ storage });
    storage.hold = true;
    const { client: sub } = await RawClient.connect(port, { clientId: 'csub' });
    sub.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'c/#', qos: 1 }] });
    await sub.next('suback');
    const { client: pub } = await RawClient.connect(port, { clientId: 'cpub' });
    pub.send({ type: 'publish', topic: 'c/1', payload: Buffer.from('x'), qos: 1, packetId: 7, dup: false, retain: false });
    expect((await pub.next('puback')).packetId).toBe(7);
    expect((await sub.next('publish')).topic).toBe('c/1');
    expect(storage.pending).toHaveLength(0);
  });

  it('a QoS 1 message for a persistent session is acknowledged only once its batch is applied', async () => {
    const storage = new HeldStorage();
    const { port } = await startBroker({ storage });
    const sub = await persistentSub(port, 'p1', 1);
    await sub.next('suback');
    const { client: pub } = await RawClient.connect(port, { clientId: 'pub' });
    storage.hold = true;
    pub.send({ type: 'publish', topic: 'p1/a', payload: Buffer.from('x'), qos: 1, packetId: 1, dup: false, retain: false });
    // Then a message nobody persistent wants: its PUBACK must not overtake the first one.
    pub.send({ type: 'publish', topic: 'other', payload: Buffer.from('y'), qos: 1, packetId: 2, dup: false, retain: false });
    await until(() => storage.pending.length > 0);
    expect(await pub.none('puback', 200)).toBe(true);
    storage.release();
    expect((await pub.next('puback')).packetId).toBe(1);
    expect((await pub.next('puback')).packetId).toBe(2);
  });

  it('QoS 2 to a persistent subscriber: the PUBLISH leaves once its packet id is durable, PUBREL once state 5 is', async () => {
    const storage = new HeldStorage();
    const { port } = await startBroker({ storage });
    const sub = await persistentSub(port, 'p2', 2);
    await sub.next('suback');
    const { client: pub } = await RawClient.connect(port, { clientId: 'pub2' });
    storage.hold = true;
    pub.send({ type: 'publish', topic: 'p2/a', payload: Buffer.from('x'), qos: 2, packetId: 9, dup: false, retain: false });
    await until(() => storage.pending.length > 0);
    expect(await sub.none('publish', 200)).toBe(true);
    expect(await pub.none('pubrec', 10)).toBe(true);
    storage.release();
    const p = await sub.next('publish');
    expect((await pub.next('pubrec')).packetId).toBe(9);
    sub.send({ type: 'pubrec', packetId: p.packetId as number });
    await until(() => storage.pending.length > 0);
    expect(await sub.none('pubrel', 200)).toBe(true);
    storage.release();
    expect((await sub.next('pubrel')).packetId).toBe(p.packetId);
  });

  it('a failed commit closes the connection without the acknowledgement and reports ERR_STORAGE', async () => {
    const storage = new HeldStorage();
    const { broker, port } = await startBroker({ storage });
    const errors: string[] = [];
    broker.on('error', (e) => errors.push((e.error as { code?: string }).code ?? ''));
    const sub = await persistentSub(port, 'p3', 1);
    await sub.next('suback');
    const { client: pub } = await RawClient.connect(port, { clientId: 'pub3' });
    storage.hold = true;
    pub.send({ type: 'publish', topic: 'p3/a', payload: Buffer.from('x'), qos: 1, packetId: 1, dup: false, retain: false });
    await until(() => storage.pending.length > 0);
    for (const p of storage.pending.splice(0)) p.reject(new Error('disk full'));
    await pub.expectClose();
    expect(pub.packets.some((p) => p.type === 'puback')).toBe(false);
    expect(errors).toContain('ERR_STORAGE');
  });

  it('a backend that is not durable holds nothing (the in-memory one)', async () => {
    const { port } = await startBroker({ storage: new MemoryStorage() });
    const sub = await persistentSub(port, 'm', 2);
    await sub.next('suback');
    const { client: pub } = await RawClient.connect(port, { clientId: 'mpub' });
    pub.send({ type: 'publish', topic: 'm/a', payload: Buffer.from('x'), qos: 2, packetId: 1, dup: false, retain: false });
    // Acknowledged and delivered in the same turn as the write-behind batch is collected.
    await Promise.all([pub.next('pubrec'), sub.next('publish')]);
  });
});
