// Broker behaviour beyond single normative statements (events, hooks, session JSON, MQTT 3.1,
// limits), kept from the first conformance suite; ids cited here are informative only. The
// statement-by-statement suite is ../v311 (MQTT 3.1.1) and ../v5 (MQTT 5.0), see ../statements.ts.
// SUBSCRIBE / SUBACK / UNSUBSCRIBE / UNSUBACK (3.8-3.11) and shared subscriptions (4.8).
import { describe, expect, it } from 'vitest';
import { startBroker } from '../../helpers/broker.js';
import { RawClient } from '../../helpers/raw-client.js';

/** SUBSCRIBE bytes built by hand (the encoder refuses invalid filters). */
function rawSubscribe(packetId: number, subs: [string, number][], v5 = false): Buffer {
  const body = [Buffer.from([packetId >> 8, packetId & 0xff]), ...(v5 ? [Buffer.from([0])] : [])];
  for (const [f, o] of subs) {
    const fb = Buffer.from(f);
    body.push(Buffer.from([fb.length >> 8, fb.length & 0xff]), fb, Buffer.from([o]));
  }
  const b = Buffer.concat(body);
  return Buffer.concat([Buffer.from([0x82, b.length]), b]);
}

describe('SUBSCRIBE', () => {
  it('[MQTT-3.8.1-1] reserved header flags other than 0010 close the connection', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port);
    client.sendRaw([0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x00]);
    await client.expectClose();
  });
  it('[MQTT-3.8.3-3] a SUBSCRIBE without filters closes the connection', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port);
    client.sendRaw([0x82, 0x02, 0x00, 0x01]);
    await client.expectClose();
  });
  it('[MQTT-3-8.3-4] reserved bits in the requested QoS byte close the connection (3.1.1)', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port);
    client.sendRaw([0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x61, 0x04]);
    await client.expectClose();
  });
  it('[MQTT-3.8.4-1] [MQTT-3.8.4-5] SUBACK reuses the packet id and has one code per filter, in order', async () => {
    const { port } = await startBroker({ maximumQoS: 1 });
    const { client } = await RawClient.connect(port);
    client.sendRaw(
      rawSubscribe(42, [
        ['a', 2],
        ['a/#/b', 0],
        ['c', 0],
      ]),
    );
    const s = await client.next('suback');
    expect(s.packetId).toBe(42);
    expect(s.reasonCodes).toEqual([1, 0x80, 0]);
  });
  it('5.0: an invalid filter gets 0x8F (Topic Filter invalid) in SUBACK, the rest are granted', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port, { protocolVersion: 5 });
    client.sendRaw(
      rawSubscribe(
        1,
        [
          ['x+', 0],
          ['ok', 1],
        ],
        true,
      ),
    );
    expect((await client.next('suback')).reasonCodes).toEqual([0x8f, 1]);
  });
  it('[MQTT-3.8.4-3] subscribing again replaces the subscription (new QoS) and re-sends retained messages', async () => {
    const { broker, port } = await startBroker();
    broker.setRetained('re', 'x', 1);
    const { client } = await RawClient.connect(port);
    client.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 're', qos: 0 }] });
    await client.next('suback');
    expect((await client.next('publish')).qos).toBe(0);
    client.send({ type: 'subscribe', packetId: 2, subscriptions: [{ topicFilter: 're', qos: 1 }] });
    await client.next('suback');
    expect((await client.next('publish')).qos).toBe(1);
    expect(broker.sessions.get([...broker.connections.values()][0]!.clientId)?.subscriptions).toEqual([{ topicFilter: 're', qos: 1 }]);
  });
  it('the subscribe event grants, downgrades or refuses each filter', async () => {
    const { broker, port } = await startBroker();
    broker.on('subscribe', (e) => {
      if (e.topicFilter === 'secret/#') e.returnCode = 0x80;
      if (e.topicFilter === 'slow') e.returnCode = 0;
    });
    const { client } = await RawClient.connect(port);
    client.send({
      type: 'subscribe',
      packetId: 1,
      subscriptions: [
        { topicFilter: 'secret/#', qos: 1 },
        { topicFilter: 'slow', qos: 2 },
        { topicFilter: 'fine', qos: 2 },
      ],
    });
    expect((await client.next('suback')).reasonCodes).toEqual([0x80, 0, 2]);
  });
});

describe('UNSUBSCRIBE', () => {
  it('[MQTT-3.10.4-4] [MQTT-3.10.4-5] UNSUBACK with the same id even when nothing matched; 5.0 codes 0x00 / 0x11', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port, { protocolVersion: 5 });
    client.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'u', qos: 0 }] });
    await client.next('suback');
    client.send({ type: 'unsubscribe', packetId: 9, topicFilters: ['u', 'never'] });
    const a = await client.next('unsuback');
    expect([a.packetId, a.reasonCodes]).toEqual([9, [0, 0x11]]);
  });
  it('[MQTT-3.10.4-2] after UNSUBSCRIBE no new messages are delivered for that filter', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port);
    client.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'u', qos: 0 }] });
    await client.next('suback');
    client.send({ type: 'unsubscribe', packetId: 2, topicFilters: ['u'] });
    await client.next('unsuback');
    const { client: pub } = await RawClient.connect(port);
    pub.send({ type: 'publish', topic: 'u', payload: Buffer.from('x'), qos: 1, retain: false, dup: false, packetId: 1 });
    await pub.next('puback');
    expect(await client.none('publish', 200)).toBe(true);
  });
  it('[MQTT-3.10.1-1] reserved header flags on UNSUBSCRIBE close the connection', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port);
    client.sendRaw([0xa0, 0x05, 0x00, 0x01, 0x00, 0x01, 0x61]);
    await client.expectClose();
  });
});

describe('Shared subscriptions (5.0 §4.8)', () => {
  it('each message goes to exactly one member; no retained messages on subscribe; a member leaving reroutes', async () => {
    const { broker, port } = await startBroker();
    broker.setRetained('job/r', 'old');
    const members = await Promise.all(
      [1, 2, 3].map(async (i) => {
        const { client } = await RawClient.connect(port, { protocolVersion: 5, clientId: `m${i}` });
        client.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: '$share/workers/job/+', qos: 1 }] });
        await client.next('suback');
        return client;
      }),
    );
    for (const m of members) expect(await m.none('publish', 100)).toBe(true);
    const { client: pub } = await RawClient.connect(port);
    for (let i = 0; i < 9; i++) {
      pub.send({ type: 'publish', topic: `job/${i}`, payload: Buffer.from(String(i)), qos: 1, retain: false, dup: false, packetId: i + 1 });
      await pub.next('puback');
    }
    const counts = await Promise.all(
      members.map(async (m) => {
        let n = 0;
        for (;;) {
          try {
            const p = await m.next('publish', 300);
            m.send({ type: 'puback', packetId: p.packetId! });
            n++;
          } catch {
            return n;
          }
        }
      }),
    );
    expect(counts).toEqual([3, 3, 3]);
  });
  it('No Local on a shared subscription is a protocol error [MQTT-3.8.3-4]', async () => {
    const { port } = await startBroker();
    const { client } = await RawClient.connect(port, { protocolVersion: 5 });
    client.sendRaw(rawSubscribe(1, [['$share/g/topic', 0x04]], true));
    expect((await client.next('disconnect')).reasonCode).toBe(0x82);
  });
  it('shared subscriptions can be switched off (0x9E Shared Subscriptions not supported)', async () => {
    const { port } = await startBroker({ sharedSubscriptionAvailable: false });
    const { client, connack } = await RawClient.connect(port, { protocolVersion: 5 });
    expect(connack.properties?.sharedSubscriptionAvailable).toBe(false);
    client.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: '$share/g/t', qos: 0 }] });
    expect((await client.next('suback')).reasonCodes).toEqual([0x9e]);
  });
});
