// MQTT 3.1.1 §3.3 PUBLISH and acks, §4.3 QoS flows, §4.4 redelivery, §4.6 ordering, §4.7 topics.
import { describe, expect, it } from 'vitest';
import { cid, connect, drop, nextEvent, pub, recordBytes, startBroker, subscribe, subscriber } from '../helpers.js';

describe('3.1.1 PUBLISH and QoS flows', () => {
  it('[MQTT-1.5.3-3] a topic containing U+FEFF is delivered unchanged and matched as written', async () => {
    const { port } = await startBroker();
    const exact = await subscriber(port, 4, 'bom/\uFEFFx');
    const plain = await subscriber(port, 4, 'bom/x');
    const { client } = await connect(port, 4);
    client.send(pub('bom/\uFEFFx', 'b'));
    expect((await exact.next('publish')).topic).toBe('bom/\uFEFFx');
    expect(await plain.none('publish', 200)).toBe(true);
  });

  it('[MQTT-3.3.4-1] [MQTT-2.3.1-6] [MQTT-4.3.2-2] QoS 0 gets no answer, QoS 1 a PUBACK with its id; a re-used id after PUBACK is a new message', async () => {
    const { port } = await startBroker();
    const s = await subscriber(port, 4, 'q1', 1);
    const { client } = await connect(port, 4);
    client.send(pub('q1', 'zero', 0));
    client.send(pub('q1', 'a', 1, { packetId: 7 }));
    expect((await client.next('puback')).packetId).toBe(7);
    client.send(pub('q1', 'b', 1, { packetId: 7, dup: true }));
    expect((await client.next('puback')).packetId).toBe(7);
    const got: string[] = [];
    for (let i = 0; i < 3; i++) {
      const m = await s.next('publish');
      got.push(m.payload.toString());
      if (m.qos === 1) s.send({ type: 'puback', packetId: m.packetId as number });
    }
    expect(got).toEqual(['zero', 'a', 'b']);
    expect(client.packets).toEqual([]);
  });

  it('[MQTT-4.3.3-2] QoS 2 receiver: PUBREC, a re-sent PUBLISH is not forwarded twice, PUBREL gets PUBCOMP; then the id is new', async () => {
    const { port } = await startBroker();
    const s = await subscriber(port, 4, 'q2');
    const { client } = await connect(port, 4);
    client.send(pub('q2', 'once', 2, { packetId: 9 }));
    expect((await client.next('pubrec')).packetId).toBe(9);
    client.send(pub('q2', 'once', 2, { packetId: 9, dup: true }));
    expect((await client.next('pubrec')).packetId).toBe(9);
    client.send({ type: 'pubrel', packetId: 9 });
    expect((await client.next('pubcomp')).packetId).toBe(9);
    client.send(pub('q2', 'again', 2, { packetId: 9 }));
    await client.next('pubrec');
    expect((await s.next('publish')).payload.toString()).toBe('once');
    expect((await s.next('publish')).payload.toString()).toBe('again');
    expect(await s.none('publish', 200)).toBe(true);
  });

  it('[MQTT-2.3.1-4] [MQTT-4.3.2-1] QoS 1 sender: distinct non-zero ids, DUP 0, kept until PUBACK', async () => {
    const { port } = await startBroker();
    const s = await subscriber(port, 4, 'ids', 1);
    const { client } = await connect(port, 4);
    for (let i = 0; i < 5; i++) client.send(pub('ids', String(i), 1));
    const ms = [];
    for (let i = 0; i < 5; i++) ms.push(await s.next('publish'));
    const ids = ms.map((m) => m.packetId as number);
    expect(new Set(ids).size).toBe(5);
    expect(ids.every((i) => i > 0 && i < 65536)).toBe(true);
    expect(ms.every((m) => m.qos === 1 && !m.dup)).toBe(true);
    // Unacknowledged: not re-sent on the same connection.
    expect(await s.none('publish', 300)).toBe(true);
  });

  it('[MQTT-4.3.3-1] QoS 2 sender: PUBREL with the same id after PUBREC, no PUBLISH again after PUBREL, PUBREL re-sent on resume', async () => {
    const { broker, port } = await startBroker();
    const id = cid('q');
    const a = await connect(port, 4, { clientId: id, clean: false });
    await subscribe(a.client, 'x2', 2);
    const { client: p } = await connect(port, 4);
    p.send(pub('x2', 'm', 2));
    const m = await a.client.next('publish');
    expect([m.qos, m.dup]).toEqual([2, false]);
    a.client.send({ type: 'pubrec', packetId: m.packetId as number });
    expect((await a.client.next('pubrel')).packetId).toBe(m.packetId);
    const gone = nextEvent(broker, 'disconnected');
    await drop(a.client);
    await gone;
    const b = await connect(port, 4, { clientId: id, clean: false });
    expect((await b.client.next('pubrel')).packetId).toBe(m.packetId);
    b.client.send({ type: 'pubcomp', packetId: m.packetId as number });
    expect(await b.client.none('publish', 300)).toBe(true);
  });

  it('[MQTT-4.4.0-1] [MQTT-3.3.1-1] unacknowledged QoS 1 and 2 PUBLISH are re-sent on resume with their ids and DUP=1, in order', async () => {
    const { broker, port } = await startBroker();
    const id = cid('r');
    const a = await connect(port, 4, { clientId: id, clean: false });
    await subscribe(a.client, 'rs/#', 2);
    const { client: p } = await connect(port, 4);
    p.send(pub('rs/1', '1', 1));
    p.send(pub('rs/2', '2', 2));
    const m1 = await a.client.next('publish');
    const m2 = await a.client.next('publish');
    const gone = nextEvent(broker, 'disconnected');
    await drop(a.client);
    await gone;
    const b = await connect(port, 4, { clientId: id, clean: false });
    const r1 = await b.client.next('publish');
    const r2 = await b.client.next('publish');
    expect([r1.packetId, r1.dup, r1.payload.toString()]).toEqual([m1.packetId, true, '1']);
    expect([r2.packetId, r2.dup, r2.payload.toString()]).toEqual([m2.packetId, true, '2']);
  });

  it('[MQTT-3.3.1-2] [MQTT-4.3.1-1] [MQTT-3.3.1-3] QoS 0 goes out with DUP 0; an incoming DUP=1 is not copied to subscribers', async () => {
    const { port } = await startBroker();
    const s0 = await subscriber(port, 4, 'dup', 0);
    const s1 = await subscriber(port, 4, 'dup', 1);
    const rec = recordBytes(s0);
    const { client } = await connect(port, 4);
    client.send(pub('dup', 'd', 1, { dup: true }));
    const m1 = await s1.next('publish');
    expect(m1.dup).toBe(false);
    await s0.next('publish');
    expect(rec.bytes()[0]).toBe(0x30);
  });

  it('[MQTT-3.3.1-4] a PUBLISH with both QoS bits set closes the connection', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, 4);
    client.sendRaw([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]);
    await client.expectClose();
  });

  it('[MQTT-3.3.2-2] a Topic Name with a wildcard closes the connection', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, 4);
    client.sendRaw([0x30, 0x05, 0x00, 0x03, 0x61, 0x2f, 0x2b]);
    await client.expectClose();
  });

  it('[MQTT-3.3.2-3] the Topic Name sent to a subscriber is the published one, matching its filter', async () => {
    const { port } = await startBroker();
    const s = await subscriber(port, 4, 'a/+/c');
    const { client } = await connect(port, 4);
    client.send(pub('a/b/d', 'no'));
    client.send(pub('a/b/c', 'yes'));
    const m = await s.next('publish');
    expect([m.topic, m.payload.toString()]).toEqual(['a/b/c', 'yes']);
  });

  it('[MQTT-3.3.5-1] overlapping subscriptions: one delivery at the maximum granted QoS', async () => {
    const { port } = await startBroker();
    const { client: s } = await connect(port, 4);
    await subscribe(s, [
      { topicFilter: 'ov/#', qos: 0 },
      { topicFilter: 'ov/+', qos: 2 },
    ]);
    const { client } = await connect(port, 4);
    client.send(pub('ov/1', 'x', 2));
    expect((await s.next('publish')).qos).toBe(2);
    expect(await s.none('publish', 200)).toBe(true);
  });

  it('[MQTT-3.3.5-2] an unauthorised PUBLISH is acknowledged positively and not forwarded', async () => {
    const { port } = await startBroker({ hooks: [{ authorizePublish: (a) => !a.message.topic.startsWith('deny/') }] });
    const s = await subscriber(port, 4, 'deny/#');
    const { client } = await connect(port, 4);
    client.send(pub('deny/x', 'no', 1, { packetId: 3 }));
    const ack = await client.next('puback');
    expect(ack.packetId).toBe(3);
    expect(await s.none('publish', 300)).toBe(true);
  });

  it('[MQTT-4.6.0-5] [MQTT-4.6.0-6] messages of one client to one topic reach each subscriber in order, per QoS', async () => {
    const { port } = await startBroker();
    const s1 = await subscriber(port, 4, 'ord', 1);
    const s0 = await subscriber(port, 4, 'ord', 0);
    const { client } = await connect(port, 4);
    for (let i = 0; i < 40; i++) client.send(pub('ord', String(i), (i % 2) as 0 | 1));
    const got1: number[] = [];
    const got0: number[] = [];
    for (let i = 0; i < 40; i++) {
      const m = await s1.next('publish');
      if (m.qos === 1) s1.send({ type: 'puback', packetId: m.packetId as number });
      got1.push(Number(m.payload.toString()));
      got0.push(Number((await s0.next('publish')).payload.toString()));
    }
    const seq = Array.from({ length: 40 }, (_, i) => i);
    expect(got1).toEqual(seq);
    expect(got0).toEqual(seq);
  });

  it('[MQTT-4.7.2-1] filters starting with a wildcard do not match topics starting with $', async () => {
    const { port } = await startBroker();
    const all = await subscriber(port, 4, '#');
    const plus = await subscriber(port, 4, '+/x');
    const dollar = await subscriber(port, 4, '$app/#');
    const { client } = await connect(port, 4);
    client.send(pub('$app/x', 'd'));
    expect((await dollar.next('publish')).topic).toBe('$app/x');
    expect(await all.none('publish', 200)).toBe(true);
    expect(await plus.none('publish', 50)).toBe(true);
  });

  it('[MQTT-4.7.3-4] matching applies no normalisation: case, Unicode forms and empty levels are significant', async () => {
    const { port } = await startBroker();
    const nfc = await subscriber(port, 4, 'n/\u00c4');
    const lower = await subscriber(port, 4, 'n/a');
    const empty = await subscriber(port, 4, 'n//b');
    const { client } = await connect(port, 4);
    client.send(pub('n/A\u0308', '1'));
    client.send(pub('n/A', '2'));
    client.send(pub('n/b', '3'));
    client.send(pub('n//b', '4'));
    expect((await empty.next('publish')).payload.toString()).toBe('4');
    expect(await nfc.none('publish', 200)).toBe(true);
    expect(await lower.none('publish', 50)).toBe(true);
  });
});

describe('3.1.1 retained messages', () => {
  it('[MQTT-3.3.1-5] [MQTT-3.3.1-6] [MQTT-3.3.1-8] a retained message and its QoS go to new subscribers with RETAIN=1', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, 4);
    client.send(pub('ret/a', 'v', 1, { retain: true }));
    await client.next('puback');
    const s = await connect(port, 4);
    await subscribe(s.client, 'ret/+', 2);
    const m = await s.client.next('publish');
    expect([m.topic, m.payload.toString(), m.retain, m.qos]).toEqual(['ret/a', 'v', true, 1]);
  });

  it('[MQTT-3.3.1-9] an established subscription gets the retained message with RETAIN=0', async () => {
    const { port } = await startBroker();
    const s = await subscriber(port, 4, 'ret/b');
    const { client } = await connect(port, 4);
    client.send(pub('ret/b', 'v', 0, { retain: true }));
    expect((await s.next('publish')).retain).toBe(false);
  });

  it('[MQTT-3.3.1-7] a QoS 0 retained message replaces the previous one', async () => {
    const { broker, port } = await startBroker();
    const { client } = await connect(port, 4);
    client.send(pub('ret/c', 'old', 1, { retain: true }));
    await client.next('puback');
    client.send(pub('ret/c', 'new', 0, { retain: true }));
    client.send({ type: 'pingreq' });
    await client.next('pingresp');
    expect(broker.messages.get('ret/c')?.payload.toString()).toBe('new');
    const s = await connect(port, 4);
    await subscribe(s.client, 'ret/c', 1);
    const m = await s.client.next('publish');
    expect([m.payload.toString(), m.qos]).toEqual(['new', 0]);
    expect(await s.client.none('publish', 200)).toBe(true);
  });

  it('[MQTT-3.3.1-10] [MQTT-3.3.1-11] a zero-byte retained message is forwarded, removes the retained message and is not stored', async () => {
    const { broker, port } = await startBroker();
    const { client } = await connect(port, 4);
    client.send(pub('ret/d', 'v', 1, { retain: true }));
    await client.next('puback');
    const live = await subscriber(port, 4, 'ret/d');
    await live.next('publish');
    client.send(pub('ret/d', '', 1, { retain: true }));
    await client.next('puback');
    expect((await live.next('publish')).payload.length).toBe(0);
    expect(broker.messages.has('ret/d')).toBe(false);
    const late = await subscriber(port, 4, 'ret/#');
    expect(await late.none('publish', 200)).toBe(true);
  });

  it('[MQTT-3.3.1-12] RETAIN=0 neither stores the message nor touches the retained one', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, 4);
    client.send(pub('ret/e', 'kept', 1, { retain: true }));
    await client.next('puback');
    client.send(pub('ret/e', 'plain', 1));
    await client.next('puback');
    client.send(pub('ret/f', 'plain', 1));
    await client.next('puback');
    const s = await connect(port, 4);
    await subscribe(s.client, 'ret/#');
    expect((await s.client.next('publish')).payload.toString()).toBe('kept');
    expect(await s.client.none('publish', 200)).toBe(true);
  });
});
