// MQTT 3.1.1 §3.3 PUBLISH and acks, §4.3 QoS flows, §4.4 redelivery, §4.6 ordering, §4.7 topics.
import { describe, expect, it } from 'vitest';
import * as check from '../checks/publish.js';
import { connect, pub, startBroker, subscribe, subscriber } from '../helpers.js';

const V = 4;

describe('3.1.1 PUBLISH and QoS flows', () => {
  it('[MQTT-1.5.3-3] a topic containing U+FEFF is delivered unchanged and matched as written', () => check.bomTopic(V));

  it('[MQTT-3.3.4-1] [MQTT-2.3.1-6] [MQTT-4.3.2-2] QoS 0 gets no answer, QoS 1 a PUBACK with its id; a re-used id after PUBACK is a new message', () =>
    check.qos1Receiver(V));

  it('[MQTT-4.3.3-2] QoS 2 receiver: PUBREC, a re-sent PUBLISH is not forwarded twice, PUBREL gets PUBCOMP; then the id is new', () =>
    check.qos2Receiver(V));

  it('[MQTT-2.3.1-4] [MQTT-4.3.2-1] QoS 1 sender: distinct non-zero ids, DUP 0, kept until PUBACK', async () => {
    const { port } = await startBroker();
    const s = await subscriber(port, V, 'ids', 1);
    const { client } = await connect(port, V);
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

  it('[MQTT-4.3.3-1] QoS 2 sender: PUBREL with the same id after PUBREC, no PUBLISH again after PUBREL, PUBREL re-sent on resume', () =>
    check.qos2Sender(V));

  it('[MQTT-4.4.0-1] [MQTT-3.3.1-1] unacknowledged QoS 1 and 2 PUBLISH are re-sent on resume with their ids and DUP=1, in order', () =>
    check.redeliveryOnResume(V));

  it('[MQTT-3.3.1-2] [MQTT-4.3.1-1] [MQTT-3.3.1-3] QoS 0 goes out with DUP 0; an incoming DUP=1 is not copied to subscribers', () =>
    check.dupNotCopied(V));

  it('[MQTT-3.3.1-4] a PUBLISH with both QoS bits set closes the connection', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    client.sendRaw([0x36, 0x05, 0x00, 0x01, 0x61, 0x00, 0x01]);
    await client.expectClose();
  });

  it('[MQTT-3.3.2-2] a Topic Name with a wildcard closes the connection', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    client.sendRaw([0x30, 0x05, 0x00, 0x03, 0x61, 0x2f, 0x2b]);
    await client.expectClose();
  });

  it('[MQTT-3.3.2-3] the Topic Name sent to a subscriber is the published one, matching its filter', () => check.topicNameAsPublished(V));

  it('[MQTT-3.3.5-1] overlapping subscriptions: one delivery at the maximum granted QoS', async () => {
    const { port } = await startBroker();
    const { client: s } = await connect(port, V);
    await subscribe(s, [
      { topicFilter: 'ov/#', qos: 0 },
      { topicFilter: 'ov/+', qos: 2 },
    ]);
    const { client } = await connect(port, V);
    client.send(pub('ov/1', 'x', 2));
    expect((await s.next('publish')).qos).toBe(2);
    expect(await s.none('publish', 200)).toBe(true);
  });

  it('[MQTT-3.3.5-2] an unauthorised PUBLISH is acknowledged positively and not forwarded', async () => {
    const { port } = await startBroker({ hooks: [{ authorizePublish: (a) => !a.message.topic.startsWith('deny/') }] });
    const s = await subscriber(port, V, 'deny/#');
    const { client } = await connect(port, V);
    client.send(pub('deny/x', 'no', 1, { packetId: 3 }));
    const ack = await client.next('puback');
    expect(ack.packetId).toBe(3);
    expect(await s.none('publish', 300)).toBe(true);
  });

  it('[MQTT-4.6.0-5] [MQTT-4.6.0-6] messages of one client to one topic reach each subscriber in order, per QoS', () =>
    check.orderPerQos(V));

  it('[MQTT-4.7.2-1] filters starting with a wildcard do not match topics starting with $', () => check.dollarTopics(V, '$app/#'));

  it('[MQTT-4.7.3-4] matching applies no normalisation: case, Unicode forms and empty levels are significant', () =>
    check.noNormalisation(V));
});

describe('3.1.1 retained messages', () => {
  it('[MQTT-3.3.1-5] [MQTT-3.3.1-6] [MQTT-3.3.1-8] a retained message and its QoS go to new subscribers with RETAIN=1', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    client.send(pub('ret/a', 'v', 1, { retain: true }));
    await client.next('puback');
    const s = await connect(port, V);
    await subscribe(s.client, 'ret/+', 2);
    const m = await s.client.next('publish');
    expect([m.topic, m.payload.toString(), m.retain, m.qos]).toEqual(['ret/a', 'v', true, 1]);
  });

  it('[MQTT-3.3.1-9] an established subscription gets the retained message with RETAIN=0', async () => {
    const { port } = await startBroker();
    const s = await subscriber(port, V, 'ret/b');
    const { client } = await connect(port, V);
    client.send(pub('ret/b', 'v', 0, { retain: true }));
    expect((await s.next('publish')).retain).toBe(false);
  });

  it('[MQTT-3.3.1-7] a QoS 0 retained message replaces the previous one', async () => {
    const { broker, port } = await startBroker();
    const { client } = await connect(port, V);
    client.send(pub('ret/c', 'old', 1, { retain: true }));
    await client.next('puback');
    client.send(pub('ret/c', 'new', 0, { retain: true }));
    client.send({ type: 'pingreq' });
    await client.next('pingresp');
    expect(broker.messages.get('ret/c')?.payload.toString()).toBe('new');
    const s = await connect(port, V);
    await subscribe(s.client, 'ret/c', 1);
    const m = await s.client.next('publish');
    expect([m.payload.toString(), m.qos]).toEqual(['new', 0]);
    expect(await s.client.none('publish', 200)).toBe(true);
  });

  it('[MQTT-3.3.1-10] [MQTT-3.3.1-11] a zero-byte retained message is forwarded, removes the retained message and is not stored', () =>
    check.zeroByteRetained(V));

  it('[MQTT-3.3.1-12] RETAIN=0 neither stores the message nor touches the retained one', () => check.retainZeroKeepsRetained(V));
});
