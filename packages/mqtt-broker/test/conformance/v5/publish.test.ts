// MQTT 5.0 §3.3 PUBLISH, §3.4-3.7 acks, §4.3 QoS flows, §4.4 redelivery, §4.6 ordering, §4.7 topics.
import { describe, expect, it } from 'vitest';
import * as check from '../checks/publish.js';
import { bye, cid, connect, drop, nextEvent, pub, sleep, startBroker, subscribe, subscriber, withProps } from '../helpers.js';

const V = 5;

describe('5.0 QoS flows', () => {
  it('[MQTT-1.5.4-3] a topic containing U+FEFF is delivered unchanged and matched as written', () => check.bomTopic(V));

  it('[MQTT-3.3.4-1] [MQTT-2.2.1-5] [MQTT-4.3.2-4] [MQTT-4.3.2-5] [MQTT-3.4.2-1] QoS 1 receiver: PUBACK with the id and a PUBACK code; the id re-used after PUBACK is new', () =>
    check.qos1Receiver(V));

  it('[MQTT-4.3.3-8] [MQTT-4.3.3-10] [MQTT-4.3.3-11] [MQTT-4.3.3-12] [MQTT-3.5.2-1] [MQTT-3.7.2-1] QoS 2 receiver: PUBREC, no duplicate before PUBREL, PUBCOMP; then the id is new', () =>
    check.qos2Receiver(V));

  it('[MQTT-4.3.3-10] a QoS 2 PUBLISH re-sent on a resumed session before PUBREL is acknowledged but not forwarded again', async () => {
    const { broker, port } = await startBroker();
    const s = await subscriber(port, V, 'q2r');
    const id = cid('qr');
    const props = { sessionExpiryInterval: 60 };
    const a = await connect(port, V, { clientId: id, clean: false, properties: props });
    a.client.send(pub('q2r', 'once', 2, { packetId: 21 }));
    await a.client.next('pubrec');
    const gone = nextEvent(broker, 'disconnected');
    await drop(a.client);
    await gone;
    const b = await connect(port, V, { clientId: id, clean: false, properties: props });
    b.client.send(pub('q2r', 'once', 2, { packetId: 21, dup: true }));
    expect((await b.client.next('pubrec')).packetId).toBe(21);
    b.client.send({ type: 'pubrel', packetId: 21 });
    expect((await b.client.next('pubcomp')).reasonCode ?? 0).toBe(0);
    expect((await s.next('publish')).payload.toString()).toBe('once');
    expect(await s.none('publish', 300)).toBe(true);
  });

  it('[MQTT-4.3.3-9] after a PUBREC of 0x80 or more the same Packet Identifier is a new message', async () => {
    const { port } = await startBroker({ hooks: [{ authorizePublish: (a) => !a.message.topic.startsWith('deny/') }] });
    const s = await subscriber(port, V, 'ok');
    const { client } = await connect(port, V);
    client.send(pub('deny/x', 'no', 2, { packetId: 4 }));
    expect((await client.next('pubrec')).reasonCode).toBe(0x87);
    client.send(pub('ok', 'yes', 2, { packetId: 4 }));
    expect((await client.next('pubrec')).reasonCode).toBe(0);
    expect((await s.next('publish')).payload.toString()).toBe('yes');
  });

  it('[MQTT-4.3.3-13] the QoS 2 acknowledgement sequence completes even after the message expired', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    client.send(withProps(pub('exp2', 'x', 2, { packetId: 11 }), { messageExpiryInterval: 1 }));
    await client.next('pubrec');
    await sleep(1200);
    client.send({ type: 'pubrel', packetId: 11 });
    const comp = await client.next('pubcomp');
    expect([comp.packetId, comp.reasonCode ?? 0]).toEqual([11, 0]);
  });

  it('[MQTT-2.2.1-4] [MQTT-4.3.2-1] [MQTT-4.3.2-2] [MQTT-4.3.3-1] [MQTT-4.3.3-2] QoS 1/2 sender: unused non-zero ids, DUP 0, the published QoS', async () => {
    const { port } = await startBroker();
    const s = await subscriber(port, V, 'ids', 2);
    const { client } = await connect(port, V);
    for (let i = 0; i < 6; i++) client.send(pub('ids', String(i), ((i % 2) + 1) as 1 | 2));
    const ms = [];
    for (let i = 0; i < 6; i++) ms.push(await s.next('publish'));
    const ids = ms.map((m) => m.packetId as number);
    expect(new Set(ids).size).toBe(6);
    expect(ids.every((i) => i > 0 && i < 65536)).toBe(true);
    expect(ms.map((m) => [m.qos, m.dup])).toEqual(Array.from({ length: 6 }, (_, i) => [(i % 2) + 1, false]));
  });

  it('[MQTT-4.3.3-3] [MQTT-4.3.3-4] [MQTT-4.3.3-5] [MQTT-4.3.3-6] [MQTT-3.6.2-1] QoS 2 sender: PUBREL after PUBREC, kept until PUBCOMP (re-sent on resume), never PUBLISH again', () =>
    check.qos2Sender(V));

  it('[MQTT-4.3.2-3] [MQTT-4.4.0-1] [MQTT-3.3.1-1] [MQTT-4.5.0-1] unacknowledged PUBLISH are kept and re-sent only on resume, same ids, DUP=1, in order', () =>
    check.redeliveryOnResume(V));

  it('[MQTT-4.4.0-2] a PUBACK or PUBREC of 0x80 or more completes the delivery: no PUBREL, no retransmission on resume', async () => {
    const { broker, port } = await startBroker();
    const id = cid('n');
    const props = { sessionExpiryInterval: 60 };
    const a = await connect(port, V, { clientId: id, clean: false, properties: props });
    await subscribe(a.client, 'neg/#', 2);
    const { client: p } = await connect(port, V);
    p.send(pub('neg/1', '1', 1));
    p.send(pub('neg/2', '2', 2));
    const m1 = await a.client.next('publish');
    const m2 = await a.client.next('publish');
    a.client.send({ type: 'puback', packetId: m1.packetId as number, reasonCode: 0x80 });
    a.client.send({ type: 'pubrec', packetId: m2.packetId as number, reasonCode: 0x80 });
    expect(await a.client.none('pubrel', 300)).toBe(true);
    const gone = nextEvent(broker, 'disconnected');
    await drop(a.client);
    await gone;
    const b = await connect(port, V, { clientId: id, clean: false, properties: props });
    expect(b.connack.sessionPresent).toBe(true);
    expect(await b.client.none('publish', 300)).toBe(true);
    expect(b.client.packets.filter((x) => x.type === 'pubrel')).toEqual([]);
  });

  it('[MQTT-4.3.3-7] a QoS 2 PUBLISH already sent is not expired: re-sent on resume after its expiry passed', async () => {
    const { broker, port } = await startBroker();
    const id = cid('e');
    const props = { sessionExpiryInterval: 60 };
    const a = await connect(port, V, { clientId: id, clean: false, properties: props });
    await subscribe(a.client, 'e2', 2);
    const { client: p } = await connect(port, V);
    p.send(withProps(pub('e2', 'kept', 2), { messageExpiryInterval: 1 }));
    const m = await a.client.next('publish');
    const gone = nextEvent(broker, 'disconnected');
    await drop(a.client);
    await gone;
    await sleep(1300);
    const b = await connect(port, V, { clientId: id, clean: false, properties: props });
    const r = await b.client.next('publish');
    expect([r.packetId, r.dup, r.payload.toString()]).toEqual([m.packetId, true, 'kept']);
  });

  it('[MQTT-3.3.1-2] [MQTT-4.3.1-1] [MQTT-3.3.1-3] QoS 0 goes out with DUP 0; an incoming DUP=1 is not copied', () =>
    check.dupNotCopied(V));

  it('[MQTT-3.3.1-4] [MQTT-4.13.1-1] a PUBLISH with both QoS bits set: DISCONNECT 0x81 (Malformed Packet) and close', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    client.sendRaw([0x36, 0x06, 0x00, 0x01, 0x61, 0x00, 0x01, 0x00]);
    expect((await client.next('disconnect')).reasonCode).toBe(0x81);
    await client.expectClose();
  });

  it('[MQTT-3.3.2-2] a Topic Name with a wildcard is refused with a DISCONNECT of 0x80 or more', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    client.sendRaw([0x30, 0x06, 0x00, 0x03, 0x61, 0x2f, 0x23, 0x00]);
    expect((await client.next('disconnect')).reasonCode).toBeGreaterThanOrEqual(0x80);
    await client.expectClose();
  });

  it('[MQTT-3.3.2-3] the Topic Name sent to a subscriber is the published one, matching its filter', () => check.topicNameAsPublished(V));

  it('[MQTT-4.6.0-5] [MQTT-4.6.0-6] messages of one client to one topic reach each non-shared subscriber in order, per QoS', () =>
    check.orderPerQos(V));

  it('[MQTT-4.7.2-1] filters starting with a wildcard do not match topics starting with $', () => check.dollarTopics(V, '$app/+'));

  it('[MQTT-4.7.3-4] matching applies no normalisation: case, Unicode forms and empty levels are significant', () =>
    check.noNormalisation(V));
});

describe('5.0 retained messages and subscription options', () => {
  it('[MQTT-3.3.1-5] [MQTT-3.3.1-9] [MQTT-3.3.1-12] a retained message replaces the old one; Retain Handling 0 sends it; RAP 0 clears RETAIN on live traffic', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    const live = await connect(port, V);
    await subscribe(live.client, [{ topicFilter: 'ret/a', qos: 1, retainAsPublished: false }]);
    client.send(pub('ret/a', 'old', 1, { retain: true }));
    await client.next('puback');
    client.send(pub('ret/a', 'new', 1, { retain: true }));
    await client.next('puback');
    const l1 = await live.client.next('publish');
    expect(l1.retain).toBe(false);
    const s = await connect(port, V);
    await subscribe(s.client, [{ topicFilter: 'ret/+', qos: 1, retainHandling: 0 }]);
    const m = await s.client.next('publish');
    expect([m.payload.toString(), m.retain]).toEqual(['new', true]);
    expect(await s.client.none('publish', 200)).toBe(true);
  });

  it('[MQTT-3.3.1-6] [MQTT-3.3.1-7] a zero-byte retained payload is forwarded, removes the retained message and is not stored', () =>
    check.zeroByteRetained(V));

  it('[MQTT-3.3.1-8] RETAIN=0 neither stores the message nor touches the retained one', () => check.retainZeroKeepsRetained(V));

  it('[MQTT-3.3.1-10] [MQTT-3.3.1-11] Retain Handling 1 sends retained messages only for a new subscription; 2 never', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    client.send(pub('rh/a', 'r', 1, { retain: true }));
    await client.next('puback');
    const s = await connect(port, V);
    await subscribe(s.client, [{ topicFilter: 'rh/#', qos: 0, retainHandling: 1 }]);
    expect((await s.client.next('publish')).payload.toString()).toBe('r');
    await subscribe(s.client, [{ topicFilter: 'rh/#', qos: 0, retainHandling: 1 }]);
    expect(await s.client.none('publish', 200)).toBe(true);
    const never = await connect(port, V);
    await subscribe(never.client, [{ topicFilter: 'rh/#', qos: 0, retainHandling: 2 }]);
    await subscribe(never.client, [{ topicFilter: 'rh/+', qos: 0, retainHandling: 2 }]);
    expect(await never.client.none('publish', 200)).toBe(true);
  });

  it('[MQTT-3.3.1-13] Retain As Published 1 forwards the RETAIN flag as received', async () => {
    const { port } = await startBroker();
    const s = await connect(port, V);
    await subscribe(s.client, [{ topicFilter: 'rap', qos: 0, retainAsPublished: true }]);
    const { client } = await connect(port, V);
    client.send(pub('rap', '1', 0, { retain: true }));
    client.send(pub('rap', '2', 0, { retain: false }));
    const a = await s.client.next('publish');
    const b = await s.client.next('publish');
    expect([a.retain, b.retain]).toEqual([true, false]);
  });
});

describe('5.0 PUBLISH properties', () => {
  it('[MQTT-3.3.2-4] [MQTT-3.3.2-15] [MQTT-3.3.2-16] [MQTT-3.3.2-17] [MQTT-3.3.2-18] [MQTT-3.3.2-20] Payload Format Indicator, Response Topic, Correlation Data, User Properties (in order) and Content Type pass unaltered', async () => {
    const { port } = await startBroker();
    const s = await subscriber(port, V, 'rr/#', 1);
    const { client } = await connect(port, V);
    const properties = {
      payloadFormatIndicator: 1 as const,
      responseTopic: 'rr/reply/\u00e9',
      correlationData: Buffer.from([0, 1, 2, 255]),
      userProperties: [
        ['z', '1'],
        ['a', '2'],
        ['z', '3'],
        ['', ''],
      ] as [string, string][],
      contentType: 'application/json; charset=utf-8',
    };
    client.send(withProps(pub('rr/req', '{"q":1}', 1), properties));
    const m = await s.next('publish');
    expect(m.properties?.payloadFormatIndicator).toBe(1);
    expect(m.properties?.responseTopic).toBe(properties.responseTopic);
    expect(Buffer.from(m.properties?.correlationData ?? []).toString('hex')).toBe('000102ff');
    expect(m.properties?.userProperties).toEqual(properties.userProperties);
    expect(m.properties?.contentType).toBe(properties.contentType);
    client.send(withProps(pub('rr/zero', 'b', 0), { payloadFormatIndicator: 0 }));
    expect((await s.next('publish')).properties?.payloadFormatIndicator ?? 0).toBe(0);
  });

  it('[MQTT-3.3.2-4] [MQTT-3.3.2-17] [MQTT-3.3.2-18] [MQTT-3.3.2-20] a retained message keeps its properties for later subscribers', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    const userProperties: [string, string][] = [
      ['b', '1'],
      ['a', '2'],
    ];
    client.send(withProps(pub('rp/p', 'v', 1, { retain: true }), { contentType: 'text/x', payloadFormatIndicator: 1, userProperties }));
    await client.next('puback');
    const s = await subscriber(port, V, 'rp/#');
    const m = await s.next('publish');
    expect([m.retain, m.properties?.contentType, m.properties?.payloadFormatIndicator]).toEqual([true, 'text/x', 1]);
    expect(m.properties?.userProperties).toEqual(userProperties);
  });

  it('[MQTT-3.3.2-5] [MQTT-3.3.2-6] an expired queued message is dropped; the others carry the reduced Message Expiry Interval', async () => {
    const { port } = await startBroker();
    const id = cid('x');
    const props = { sessionExpiryInterval: 60 };
    const a = await connect(port, V, { clientId: id, clean: false, properties: props });
    await subscribe(a.client, 'e', 1);
    await bye(a.client);
    const { client } = await connect(port, V);
    client.send(withProps(pub('e', 'short', 1), { messageExpiryInterval: 1 }));
    client.send(withProps(pub('e', 'long', 1), { messageExpiryInterval: 100 }));
    await client.next('puback');
    await client.next('puback');
    await sleep(1300);
    const b = await connect(port, V, { clientId: id, clean: false, properties: props });
    const m = await b.client.next('publish');
    expect(m.payload.toString()).toBe('long');
    expect(m.properties?.messageExpiryInterval).toBeLessThanOrEqual(99);
    expect(m.properties?.messageExpiryInterval).toBeGreaterThan(0);
    expect(await b.client.none('publish', 200)).toBe(true);
  });

  it('[MQTT-3.3.2-12] the server accepts Topic Aliases 1..its maximum; above it is DISCONNECT 0x94', async () => {
    const { port } = await startBroker({ topicAliasMaximum: 4 });
    const s = await subscriber(port, V, 'ta/#');
    const { client, connack } = await connect(port, V);
    expect(connack.properties?.topicAliasMaximum).toBe(4);
    client.send(withProps(pub('ta/1', 'a'), { topicAlias: 1 }));
    client.send(withProps(pub('ta/4', 'b'), { topicAlias: 4 }));
    client.send(withProps(pub('', 'c'), { topicAlias: 1 }));
    client.send(withProps(pub('', 'd'), { topicAlias: 4 }));
    const got = [];
    for (let i = 0; i < 4; i++) got.push((await s.next('publish')).topic);
    expect(got).toEqual(['ta/1', 'ta/4', 'ta/1', 'ta/4']);
    client.send(withProps(pub('ta/5', 'e'), { topicAlias: 5 }));
    expect((await client.next('disconnect')).reasonCode).toBe(0x94);
    await client.expectClose();
  });

  it('[MQTT-3.3.2-7] Topic Alias mappings do not carry over to a new connection, either way', async () => {
    const { broker, port } = await startBroker();
    const id = cid('al');
    const props = { sessionExpiryInterval: 60, topicAliasMaximum: 5 };
    const s1 = await connect(port, V, { clientId: id, clean: false, properties: props });
    await subscribe(s1.client, 'al/#');
    const p1 = await connect(port, V);
    p1.client.send(withProps(pub('al/x', '1'), { topicAlias: 2 }));
    const first = await s1.client.next('publish');
    expect(first.properties?.topicAlias).toBeDefined();
    await bye(p1.client);
    const gone = nextEvent(broker, 'disconnected');
    await drop(s1.client);
    await gone;
    const s2 = await connect(port, V, { clientId: id, clean: false, properties: props });
    const p2 = await connect(port, V);
    p2.client.send(pub('al/x', '2'));
    const again = await s2.client.next('publish');
    expect(again.topic).toBe('al/x');
    p2.client.send(withProps(pub('', '3'), { topicAlias: 2 }));
    expect((await p2.client.next('disconnect')).reasonCode).toBe(0x82);
  });

  it("[MQTT-3.3.2-11] [MQTT-3.1.2-26] [MQTT-3.1.2-27] outbound Topic Aliases stay within the client's maximum, and are absent without one", async () => {
    const { port } = await startBroker();
    const s = await subscriber(port, V, 'oa/#', 0, { properties: { topicAliasMaximum: 2 } });
    const none = await subscriber(port, V, 'oa/#');
    const { client } = await connect(port, V);
    for (const t of ['a', 'b', 'c', 'd', 'a', 'b', 'c', 'd']) client.send(pub(`oa/${t}`, t));
    const aliases: number[] = [];
    const topics = new Map<number, string>();
    for (let i = 0; i < 8; i++) {
      const m = await s.next('publish');
      const alias = m.properties?.topicAlias;
      if (alias !== undefined) {
        aliases.push(alias);
        if (m.topic !== '') topics.set(alias, m.topic);
        expect(topics.get(alias)).toBe(`oa/${m.payload.toString()}`);
      } else expect(m.topic).toBe(`oa/${m.payload.toString()}`);
      const n = await none.next('publish');
      expect([n.topic, n.properties?.topicAlias]).toEqual([`oa/${n.payload.toString()}`, undefined]);
    }
    expect(aliases.length).toBeGreaterThan(0);
    expect(aliases.every((a) => a >= 1 && a <= 2)).toBe(true);
  });
});
