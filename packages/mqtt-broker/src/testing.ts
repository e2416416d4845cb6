/**
 * The storage contract suite: every {@link BrokerStorage} backend runs it. Test-framework
 * agnostic: pass your framework's `describe`, `it` and `expect` (vitest's work as they are).
 *
 * ```ts
 * import { describe, expect, it } from 'vitest';
 * import { storageContract } from '@iotwire/mqtt-broker/testing';
 * storageContract('my backend', { describe, it, expect }, async () => new MyStorage(tmpDir()));
 * ```
 */
import type { PublishProperties } from '@iotwire/mqtt-packet';
import type { BrokerStorage, StorageOp, StoredMessage, StoredOutgoing, StoredSessionMeta } from './storage/types.js';

export interface ContractFramework {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void>): void;
  // biome-ignore lint/suspicious/noExplicitAny: any assertion library's expect
  expect: (value: unknown) => any;
}

/** A fresh backend per test; `reopen`, when given, re-creates it over the same data (durability). */
export type StorageFactory = () => Promise<BrokerStorage>;

const msg = (id: number, topic: string, payload = 'p'): StoredMessage => ({
  messageId: id,
  topic,
  payload: Buffer.from(payload),
  qos: 1,
  retain: false,
  expiresAt: 0,
  senderId: 'pub',
});

const meta = (clientId: string, extra: Partial<StoredSessionMeta> = {}): StoredSessionMeta => ({
  clientId,
  protocolVersion: 5,
  expiryInterval: 3600,
  disconnectedAt: 0,
  ...extra,
});

const out = (id: number, state: StoredOutgoing['state'], packetId = 0): StoredOutgoing => ({
  messageId: id,
  message: msg(id, `t/${id}`, `m${id}`),
  qos: 1,
  retain: false,
  dup: false,
  packetId,
  state,
});

export function storageContract(
  name: string,
  t: ContractFramework,
  create: StorageFactory,
  reopen?: (old: BrokerStorage) => Promise<BrokerStorage>,
): void {
  const { describe, it, expect } = t;
  const open = async () => {
    const s = await create();
    await s.open();
    return s;
  };
  const cycle = async (s: BrokerStorage) => {
    if (!reopen) return s;
    await s.close();
    const r = await reopen(s);
    await r.open();
    return r;
  };

  describe(`BrokerStorage contract: ${name}`, () => {
    it('starts empty', async () => {
      const s = await open();
      expect(await s.loadSessions()).toEqual([]);
      expect(await s.loadRetained()).toEqual([]);
      await s.close();
    });

    it('stores a session with subscriptions, outgoing and incoming messages, and a Will', async () => {
      let s = await open();
      await s.apply([
        { type: 'putSession', session: meta('c1', { will: { message: msg(5, 'will/c1', 'bye'), delay: 10 } }) },
        {
          type: 'putSubscription',
          clientId: 'c1',
          subscription: {
            topicFilter: 'a/#',
            qos: 1,
            noLocal: true,
            retainAsPublished: false,
            retainHandling: 1,
            subscriptionIdentifier: 4,
          },
        },
        {
          type: 'putSubscription',
          clientId: 'c1',
          subscription: { topicFilter: '$share/g/b', qos: 0, noLocal: false, retainAsPublished: true, retainHandling: 0 },
        },
        { type: 'putOutgoing', clientId: 'c1', outgoing: out(1, 2, 10) },
        { type: 'putOutgoing', clientId: 'c1', outgoing: out(2, 1) },
        { type: 'putIncoming', clientId: 'c1', incoming: { packetId: 7, messageId: 3, topic: 'in', qos: 2 } },
      ]);
      s = await cycle(s);
      // biome-ignore lint/suspicious/noExplicitAny: checked field by field below
      const got = (await s.loadSessions())[0] as any;
      expect(got.clientId).toBe('c1');
      expect(got.expiryInterval).toBe(3600);
      expect(got.will.delay).toBe(10);
      expect(Buffer.isBuffer(got.will.message.payload)).toBe(true);
      expect(got.will.message.payload.toString()).toBe('bye');
      expect(got.subscriptions.map((x: { topicFilter: string }) => x.topicFilter).sort()).toEqual(['$share/g/b', 'a/#']);
      expect(got.subscriptions.find((x: { topicFilter: string }) => x.topicFilter === 'a/#').subscriptionIdentifier).toBe(4);
      expect(got.outgoing.map((o: StoredOutgoing) => [o.messageId, o.state, o.packetId])).toEqual([
        [1, 2, 10],
        [2, 1, 0],
      ]);
      expect(Buffer.isBuffer(got.outgoing[0].message.payload)).toBe(true);
      expect(got.outgoing[0].message.payload.toString()).toBe('m1');
      expect(got.incoming).toEqual([{ packetId: 7, messageId: 3, topic: 'in', qos: 2 }]);
      await s.close();
    });

    it('applies a batch in order (update, delete, re-add)', async () => {
      let s = await open();
      await s.apply([
        { type: 'putSession', session: meta('c2') },
        { type: 'putOutgoing', clientId: 'c2', outgoing: out(1, 3, 1) },
        { type: 'putOutgoing', clientId: 'c2', outgoing: out(1, 5, 1) },
        {
          type: 'putSubscription',
          clientId: 'c2',
          subscription: { topicFilter: 'x', qos: 0, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        },
        { type: 'deleteSubscription', clientId: 'c2', topicFilter: 'x' },
        {
          type: 'putSubscription',
          clientId: 'c2',
          subscription: { topicFilter: 'x', qos: 2, noLocal: false, retainAsPublished: false, retainHandling: 0 },
        },
        { type: 'putIncoming', clientId: 'c2', incoming: { packetId: 1, messageId: 9, topic: 'i', qos: 2 } },
        { type: 'deleteIncoming', clientId: 'c2', packetId: 1 },
        { type: 'putSession', session: meta('c2', { disconnectedAt: 1234, expiryInterval: 60 }) },
      ]);
      s = await cycle(s);
      // biome-ignore lint/suspicious/noExplicitAny: checked field by field below
      const got = (await s.loadSessions())[0] as any;
      expect(got.outgoing.map((o: StoredOutgoing) => o.state)).toEqual([5]);
      expect(got.subscriptions.map((x: { qos: number }) => x.qos)).toEqual([2]);
      expect(got.incoming).toEqual([]);
      expect([got.disconnectedAt, got.expiryInterval]).toEqual([1234, 60]);
      await s.apply([{ type: 'deleteOutgoing', clientId: 'c2', messageId: 1 }]);
      expect((await s.loadSessions())[0]?.outgoing).toEqual([]);
      await s.close();
    });

    it('deleteSession removes the session and everything under it; children of unknown sessions are ignored', async () => {
      let s = await open();
      await s.apply([
        { type: 'putSession', session: meta('c3') },
        { type: 'putOutgoing', clientId: 'c3', outgoing: out(1, 1) },
        { type: 'deleteSession', clientId: 'c3' },
        { type: 'putOutgoing', clientId: 'ghost', outgoing: out(2, 1) },
        { type: 'putSession', session: meta('c3') },
      ]);
      s = await cycle(s);
      const list = await s.loadSessions();
      expect(list.map((x) => x.clientId)).toEqual(['c3']);
      expect(list[0]?.outgoing).toEqual([]);
      await s.close();
    });

    it('stores, replaces and deletes retained messages by topic', async () => {
      let s = await open();
      await s.apply([
        { type: 'putRetained', message: { ...msg(1, 'r/a', 'one'), retain: true } },
        { type: 'putRetained', message: { ...msg(2, 'r/b', 'two'), retain: true, properties: { contentType: 'text/plain' } } },
        { type: 'putRetained', message: { ...msg(3, 'r/a', 'three'), retain: true } },
        { type: 'deleteRetained', topic: 'r/none' },
      ]);
      s = await cycle(s);
      const r = (await s.loadRetained()).sort((a, b) => a.topic.localeCompare(b.topic));
      expect(r.map((m) => [m.topic, m.payload.toString()])).toEqual([
        ['r/a', 'three'],
        ['r/b', 'two'],
      ]);
      expect(r[1]?.properties?.contentType).toBe('text/plain');
      await s.apply([{ type: 'deleteRetained', topic: 'r/a' }]);
      expect((await s.loadRetained()).map((m) => m.topic)).toEqual(['r/b']);
      await s.close();
    });

    it('keeps data it was given unaffected by later changes to the caller objects', async () => {
      const s = await open();
      const m = msg(1, 'r/z', 'orig');
      await s.apply([{ type: 'putRetained', message: m }]);
      m.topic = 'changed';
      m.payload.fill(0);
      const [got] = await s.loadRetained();
      expect([got?.topic, got?.payload.toString()]).toEqual(['r/z', 'orig']);
      await s.close();
    });

    it('keeps order across batches: outgoing copies load in the order they were made, updates keep their place', async () => {
      let s = await open();
      await s.apply([{ type: 'putSession', session: meta('ord') }]);
      for (let b = 0; b < 10; b++) {
        const ops: StorageOp[] = [];
        for (let i = 1; i <= 20; i++) ops.push({ type: 'putOutgoing', clientId: 'ord', outgoing: out(b * 20 + i, 1) });
        // Earlier copies change state later (sent, then PUBREC'd): their place must not move.
        if (b > 0) ops.push({ type: 'putOutgoing', clientId: 'ord', outgoing: out((b - 1) * 20 + 1, 3, b) });
        if (b > 1) ops.push({ type: 'deleteOutgoing', clientId: 'ord', messageId: (b - 2) * 20 + 2 });
        await s.apply(ops);
      }
      s = await cycle(s);
      const got = (await s.loadSessions())[0]?.outgoing ?? [];
      const expected: number[] = [];
      for (let id = 1; id <= 200; id++) if (!(id % 20 === 2 && id <= 8 * 20)) expected.push(id);
      expect(got.map((o) => o.messageId)).toEqual(expected);
      expect(got.find((o) => o.messageId === 21)?.state).toBe(3);
      expect(got.find((o) => o.messageId === 21)?.packetId).toBe(2);
      await s.close();
    });

    it('rejects a batch with an invalid op as a whole: nothing of it is applied', async () => {
      let s = await open();
      await s.apply([{ type: 'putSession', session: meta('atom') }]);
      const bad = [
        { type: 'putOutgoing', clientId: 'atom', outgoing: out(1, 1) },
        { type: 'putRetained', message: msg(2, 'r/atom') },
        { type: 'noSuchOp', clientId: 'atom' },
      ] as unknown as StorageOp[];
      let error: unknown;
      try {
        await s.apply(bad);
      } catch (err) {
        error = err;
      }
      expect((error as { code?: string } | undefined)?.code).toBe('ERR_STORAGE');
      s = await cycle(s);
      expect((await s.loadSessions())[0]?.outgoing).toEqual([]);
      expect(await s.loadRetained()).toEqual([]);
      await s.close();
    });

    it('survives close and reopen with everything in place (sessions, children, Wills, retained)', async () => {
      let s = await open();
      await s.apply([
        { type: 'putSession', session: meta('re', { userName: 'alice', will: { message: msg(9, 'w/re', 'gone'), delay: 0 } }) },
        { type: 'putIncoming', clientId: 're', incoming: { packetId: 65_535, messageId: 10, topic: 'x', qos: 2 } },
        { type: 'putRetained', message: { ...msg(11, 'r/re', 'kept'), retain: true } },
      ]);
      for (let round = 0; round < 3; round++) s = await cycle(s);
      const [got] = await s.loadSessions();
      expect(got?.userName).toBe('alice');
      expect(got?.will?.message.payload.toString()).toBe('gone');
      expect(got?.incoming.map((i) => i.packetId)).toEqual([65_535]);
      expect((await s.loadRetained()).map((m) => m.payload.toString())).toEqual(['kept']);
      await s.close();
    });

    it('stores large and binary payloads and MQTT 5 properties byte for byte', async () => {
      let s = await open();
      const big = Buffer.alloc(1024 * 1024 + 17);
      for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const props: PublishProperties = {
        correlationData: Buffer.from([0, 1, 2, 255]),
        userProperties: [
          ['a', 'b'],
          ['ü', '1'],
          ['ü', '2'],
        ],
        contentType: 'application/octet-stream',
        payloadFormatIndicator: 0,
        messageExpiryInterval: 60,
        responseTopic: 'reply/to',
      };
      const o = out(1, 1);
      await s.apply([
        { type: 'putSession', session: meta('big') },
        { type: 'putOutgoing', clientId: 'big', outgoing: { ...o, message: { ...o.message, payload: big, properties: props } } },
        { type: 'putRetained', message: { ...msg(2, 'r/bin'), payload: all, retain: true, properties: props } },
      ]);
      s = await cycle(s);
      const [sess] = await s.loadSessions();
      const m = sess?.outgoing[0]?.message;
      expect(m?.payload.equals(big)).toBe(true);
      expect(Buffer.isBuffer(m?.properties?.correlationData)).toBe(true);
      expect(m?.properties).toEqual(props);
      const [r] = await s.loadRetained();
      expect(r?.payload.equals(all)).toBe(true);
      expect(r?.properties).toEqual(props);
      await s.close();
    });

    it('holds many sessions, deletes some with all their children, and loads the rest exactly', async () => {
      let s = await open();
      const n = 300;
      for (let b = 0; b < n; b += 50) {
        const ops: StorageOp[] = [];
        for (let c = b; c < b + 50; c++) {
          const id = `many-${c}`;
          ops.push({ type: 'putSession', session: meta(id) });
          ops.push({
            type: 'putSubscription',
            clientId: id,
            subscription: { topicFilter: `t/${c}/#`, qos: 1, noLocal: false, retainAsPublished: false, retainHandling: 0 },
          });
          for (let k = 0; k < 4; k++) ops.push({ type: 'putOutgoing', clientId: id, outgoing: out(c * 10 + k + 1, 1) });
          ops.push({ type: 'putIncoming', clientId: id, incoming: { packetId: c + 1, messageId: c, topic: 'in', qos: 2 } });
        }
        await s.apply(ops);
      }
      const dels: StorageOp[] = [];
      for (let c = 0; c < n; c += 3) dels.push({ type: 'deleteSession', clientId: `many-${c}` });
      await s.apply(dels);
      s = await cycle(s);
      const list = (await s.loadSessions()).sort((a, b) => Number(a.clientId.slice(5)) - Number(b.clientId.slice(5)));
      const kept = Array.from({ length: n }, (_, c) => c).filter((c) => c % 3 !== 0);
      expect(list.map((x) => x.clientId)).toEqual(kept.map((c) => `many-${c}`));
      for (const x of list) {
        const c = Number(x.clientId.slice(5));
        expect(x.subscriptions.map((y) => y.topicFilter)).toEqual([`t/${c}/#`]);
        expect(x.outgoing.map((o) => o.messageId)).toEqual([1, 2, 3, 4].map((k) => c * 10 + k));
        expect(x.incoming.map((i) => i.packetId)).toEqual([c + 1]);
      }
      // A deleted id starts from scratch when it comes back.
      await s.apply([{ type: 'putSession', session: meta('many-0') }]);
      const again = (await s.loadSessions()).find((x) => x.clientId === 'many-0');
      expect([again?.subscriptions.length, again?.outgoing.length, again?.incoming.length]).toEqual([0, 0, 0]);
      await s.close();
    });
  });
}
