// MQTT 3.1.1 §3.1 CONNECT, §3.2 CONNACK, §3.12 PINGREQ, §3.14 DISCONNECT, §4.1 sessions, §4.8 errors.
import { describe, expect, it } from 'vitest';
import { type BrokerOptions, MemoryStorage } from '../../../src/index.js';
import * as check from '../checks/connect.js';
import {
  bye,
  cid,
  connect,
  drop,
  nextEvent,
  pub,
  RawClient,
  rawConnect,
  recordBytes,
  sleep,
  startBroker,
  subscribe,
  subscriber,
} from '../helpers.js';

const V = 4;

describe('3.1.1 CONNECT', () => {
  it('[MQTT-3.1.0-1] a first packet other than CONNECT closes the connection', async () => {
    const { port } = await startBroker();
    const c = await RawClient.open(port);
    c.send({ type: 'pingreq' });
    await c.expectClose();
    expect(c.packets).toEqual([]);
  });

  it('[MQTT-3.1.0-2] a second CONNECT is a protocol violation: the client is disconnected', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    client.send({ type: 'connect', protocolVersion: 4, clean: true, keepAlive: 0, clientId: 'again' });
    await client.expectClose();
    expect(client.packets).toEqual([]);
  });

  it('[MQTT-3.1.2-1] [MQTT-3.1.4-1] [MQTT-3.2.2-6] a wrong protocol name closes without CONNACK', async () => {
    const { port } = await startBroker();
    const c = await RawClient.open(port);
    const rec = recordBytes(c);
    c.sendRaw(rawConnect(V, 'MQTX', 4, 0x02));
    await c.expectClose();
    expect(rec.bytes().length).toBe(0);
  });

  it('[MQTT-3.1.2-2] [MQTT-3.2.2-4] [MQTT-3.2.2-5] an unsupported level gets CONNACK 0x01 with Session Present 0, then a close', async () => {
    const { port } = await startBroker();
    const c = await RawClient.open(port);
    const rec = recordBytes(c);
    c.sendRaw(rawConnect(V, 'MQTT', 7, 0x00));
    await c.expectClose();
    expect([...rec.bytes()]).toEqual([0x20, 0x02, 0x00, 0x01]);
  });

  it('[MQTT-3.1.2-3] the reserved CONNECT flag set disconnects the client', async () => {
    const { port } = await startBroker();
    const c = await RawClient.open(port);
    const rec = recordBytes(c);
    c.sendRaw(rawConnect(V, 'MQTT', 4, 0x03));
    await c.expectClose();
    expect(rec.bytes().length).toBe(0);
  });

  it('[MQTT-3.1.2-4] [MQTT-3.1.4-3] [MQTT-3.2.2-2] [MQTT-3.2.2-3] [MQTT-3.1.3-2] CleanSession=0 resumes the session of that Client Identifier only', async () => {
    const { port } = await startBroker();
    const id = cid('p');
    const a = await connect(port, V, { clientId: id, clean: false });
    expect(a.connack.sessionPresent).toBe(false);
    await subscribe(a.client, 'r/t', 1);
    await bye(a.client);
    const b = await connect(port, V, { clientId: id, clean: false });
    expect(b.connack.sessionPresent).toBe(true);
    const other = await connect(port, V, { clientId: cid('q'), clean: false });
    expect(other.connack.sessionPresent).toBe(false);
    const { client: p } = await connect(port, V);
    p.send(pub('r/t', 'kept', 1));
    expect((await b.client.next('publish')).payload.toString()).toBe('kept');
    expect(await other.client.none('publish', 200)).toBe(true);
  });

  it('[MQTT-3.1.2-5] [MQTT-4.5.0-1] a CleanSession=0 session stores QoS 1 and QoS 2 messages while disconnected', async () => {
    const { broker, port } = await startBroker();
    const id = cid('s');
    const a = await connect(port, V, { clientId: id, clean: false });
    await subscribe(a.client, 'off/#', 2);
    const gone = nextEvent(broker, 'disconnected');
    await drop(a.client);
    await gone;
    const { client: p } = await connect(port, V);
    p.send(pub('off/1', 'one', 1));
    await p.next('puback');
    p.send(pub('off/2', 'two', 2));
    await p.next('pubrec');
    const b = await connect(port, V, { clientId: id, clean: false });
    expect(b.connack.sessionPresent).toBe(true);
    const m1 = await b.client.next('publish');
    const m2 = await b.client.next('publish');
    expect([m1.payload.toString(), m1.qos, m2.payload.toString(), m2.qos]).toEqual(['one', 1, 'two', 2]);
  });

  it('[MQTT-3.1.2-6] [MQTT-3.2.2-1] CleanSession=1 discards the previous session and starts a new one', async () => {
    const { port } = await startBroker();
    const id = cid('d');
    const a = await connect(port, V, { clientId: id, clean: false });
    await subscribe(a.client, 'gone/t', 1);
    await bye(a.client);
    const b = await connect(port, V, { clientId: id, clean: true });
    expect(b.connack.sessionPresent).toBe(false);
    const { client: p } = await connect(port, V);
    p.send(pub('gone/t', 'x', 1));
    await p.next('puback');
    expect(await b.client.none('publish', 200)).toBe(true);
    await bye(b.client);
    const c = await connect(port, V, { clientId: id, clean: false });
    expect(c.connack.sessionPresent).toBe(false);
  });

  it('[MQTT-3.1.2-7] retained messages survive the end of the session that published them', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V, { clean: true });
    client.send(pub('keep/me', 'r', 1, { retain: true }));
    await client.next('puback');
    await bye(client);
    const s = await connect(port, V);
    await subscribe(s.client, 'keep/#');
    const m = await s.client.next('publish');
    expect([m.topic, m.payload.toString(), m.retain]).toEqual(['keep/me', 'r', true]);
  });

  it('[MQTT-3.1.2-8] [MQTT-3.1.2-16] the Will is published when the connection drops; Will Retain 0 publishes it non-retained', () =>
    check.willOnDrop(V));

  it('[MQTT-3.1.2-17] Will Retain 1 publishes the Will as a retained message', () => check.willRetained(V));

  it('[MQTT-3.1.2-10] [MQTT-3.14.4-3] DISCONNECT discards the Will; a published Will is not published again', () =>
    check.disconnectDiscardsWill(V));

  it('[MQTT-3.1.2-12] without a Will Flag nothing is published when the connection ends', async () => {
    const { port } = await startBroker();
    const w = await subscriber(port, V, '#');
    const { client } = await connect(port, V);
    await drop(client);
    expect(await w.none('publish', 300)).toBe(true);
  });

  it('[MQTT-3.1.2-24] nothing within 1.5 x Keep Alive disconnects the client; traffic keeps it open', async () => {
    const { port } = await startBroker();
    const idle = await connect(port, V, { keepAlive: 1 });
    const busy = await connect(port, V, { keepAlive: 2 });
    const started = Date.now();
    const pinging = (async () => {
      // Keep Alive 2 s, a PINGREQ every 0.5 s: 2.5 s of slack for a loaded machine.
      for (let i = 0; i < 5; i++) {
        busy.client.send({ type: 'pingreq' });
        await busy.client.next('pingresp');
        await sleep(500);
      }
    })();
    await idle.client.expectClose(10_000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    await pinging;
    expect(busy.client.isClosed).toBe(false);
  });

  it('[MQTT-3.1.3-5] [MQTT-3.1.4-4] a 23-character alphanumeric Client Identifier is accepted with return code 0', () =>
    check.longClientIdAccepted(V));

  it('[MQTT-3.1.3-6] a zero-byte Client Identifier with CleanSession=1 is assigned a unique one', async () => {
    const { broker, port } = await startBroker();
    await connect(port, V, { clientId: '' });
    await connect(port, V, { clientId: '' });
    const ids = [...broker.connections.values()].map((c) => c.clientId);
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe(ids[1]);
    expect(ids.every((i) => i.length > 0)).toBe(true);
  });

  it('[MQTT-3.1.3-8] a zero-byte Client Identifier with CleanSession=0 gets CONNACK 0x02 and a close', async () => {
    const { port } = await startBroker();
    const c = await RawClient.open(port);
    const rec = recordBytes(c);
    c.sendRaw([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00]);
    await c.expectClose();
    expect([...rec.bytes()]).toEqual([0x20, 0x02, 0x00, 0x02]);
  });

  it('[MQTT-3.1.3-9] a Client Identifier the server rejects gets CONNACK 0x02 and a close', () => check.clientIdRejected(V));

  it('[MQTT-3.1.4-2] a second connection with a connected Client Identifier disconnects the existing client', () => check.takeOver(V));

  it('[MQTT-3.1.4-2] [MQTT-3.1.2-8] disconnecting the existing client on take-over publishes its Will', () =>
    check.takeOverPublishesWill(V));

  it('[MQTT-3.1.4-5] after a rejected CONNECT nothing sent behind it is processed', () => check.nothingAfterRejectedConnect(V));

  it('[MQTT-3.2.0-1] the first packet the server sends is CONNACK, even with packets pipelined behind CONNECT', async () => {
    const { port } = await startBroker();
    const c = await RawClient.open(port);
    const rec = recordBytes(c);
    c.send({ type: 'connect', protocolVersion: 4, clean: true, keepAlive: 0, clientId: cid() });
    c.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'a', qos: 0 }] });
    c.send({ type: 'pingreq' });
    await c.next('pingresp');
    expect(rec.bytes()[0]).toBe(0x20);
  });

  it('[MQTT-3.12.4-1] PINGREQ is answered with PINGRESP', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    const rec = recordBytes(client);
    client.send({ type: 'pingreq' });
    await client.next('pingresp');
    expect([...rec.bytes()]).toEqual([0xd0, 0x00]);
  });

  it('[MQTT-4.1.0-1] [MQTT-4.1.0-2] session state lasts as long as the connection', async () => {
    const { port } = await startBroker();
    const s = await subscriber(port, V, 'long/#', 1);
    const { client: p } = await connect(port, V);
    for (let i = 0; i < 3; i++) {
      await sleep(150);
      p.send(pub(`long/${i}`, String(i), 1));
      expect((await s.next('publish')).payload.toString()).toBe(String(i));
    }
  });

  it('[MQTT-4.8.0-2] a transient error (the durable store failing a write) closes the connection it concerns, nothing else', async () => {
    class FlakyStorage extends MemoryStorage {
      readonly durable = true;
      failNext = false;
      override async apply(ops: Parameters<MemoryStorage['apply']>[0]): Promise<void> {
        if (this.failNext) {
          this.failNext = false;
          throw new Error('disk full');
        }
        return super.apply(ops);
      }
    }
    const storage = new FlakyStorage();
    const { broker, port } = await startBroker({ storage });
    broker.on('error', () => {});
    const s = await subscriber(port, V, 'fl/#', 1, { clientId: cid('fl'), clean: false });
    const { client } = await connect(port, V);
    const rec = recordBytes(client);
    storage.failNext = true;
    client.send(pub('fl/a', 'x', 1, { packetId: 5 }));
    await client.expectClose();
    expect(rec.bytes().length).toBe(0); // never acknowledged
    const m = await s.next('publish');
    s.send({ type: 'puback', packetId: m.packetId as number });
    const { client: again } = await connect(port, V);
    again.send(pub('fl/b', 'y', 1, { packetId: 6 }));
    expect((await again.next('puback')).packetId).toBe(6);
    expect((await s.next('publish')).payload.toString()).toBe('y');
  });

  it('[MQTT-4.8.0-1] a protocol violation closes that connection only', async () => {
    const { port } = await startBroker();
    const s = await subscriber(port, V, 't');
    const { client: bad } = await connect(port, V);
    bad.sendRaw([0x36, 0x05, 0x00, 0x01, 0x74, 0x00, 0x01]); // PUBLISH QoS 3
    await bad.expectClose();
    const { client: good } = await connect(port, V);
    good.send(pub('t', 'still'));
    expect((await s.next('publish')).payload.toString()).toBe('still');
  });
});

describe('3.1.1 protocol violations: the connection is closed without any answer', () => {
  const cases: { name: string; raw: number[]; options?: BrokerOptions }[] = [
    { name: 'PUBLISH QoS 3', raw: [0x36, 0x05, 0x00, 0x01, 0x74, 0x00, 0x01] },
    { name: 'PUBLISH QoS 0 with DUP', raw: [0x38, 0x03, 0x00, 0x01, 0x74] },
    { name: 'PUBLISH QoS 1 with Packet Identifier 0', raw: [0x32, 0x05, 0x00, 0x01, 0x74, 0x00, 0x00] },
    { name: 'PUBREL with flags 0000', raw: [0x60, 0x02, 0x00, 0x01] },
    { name: 'SUBSCRIBE without filters', raw: [0x82, 0x02, 0x00, 0x01] },
    { name: 'SUBSCRIBE requesting QoS 3', raw: [0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x74, 0x03] },
    { name: 'UNSUBSCRIBE with flags 0000', raw: [0xa0, 0x05, 0x00, 0x01, 0x00, 0x01, 0x74] },
    { name: 'packet type 15 (AUTH exists only in 5.0)', raw: [0xf0, 0x00] },
    { name: 'DISCONNECT with reserved flags', raw: [0xe2, 0x00] },
    {
      name: 'a packet above the server Maximum Packet Size',
      raw: [0x30, 0x7f, 0x00, 0x01, 0x74, ...Array(124).fill(0)],
      options: { limits: { maxPacketSize: 64 } },
    },
  ];
  for (const c of cases) {
    it(`[MQTT-4.8.0-1] ${c.name}`, async () => {
      const { port } = await startBroker(c.options);
      const s = await subscriber(port, V, 't');
      const { client } = await connect(port, V);
      const rec = recordBytes(client);
      client.sendRaw(c.raw);
      await client.expectClose();
      expect(rec.bytes().length).toBe(0);
      const { client: p } = await connect(port, V);
      p.send(pub('t', 'fine'));
      expect((await s.next('publish')).payload.toString()).toBe('fine');
    });
  }
});
