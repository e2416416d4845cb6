// MQTT 3.1.1 §3.8 SUBSCRIBE, §3.9 SUBACK, §3.10 UNSUBSCRIBE, §3.11 UNSUBACK.
import { describe, expect, it } from 'vitest';
import * as check from '../checks/subscribe.js';
import { connect, pub, startBroker, subscribe } from '../helpers.js';

const V = 4;

describe('3.1.1 SUBSCRIBE / UNSUBSCRIBE', () => {
  it('[MQTT-3.8.4-1] [MQTT-3.8.4-2] [MQTT-2.3.1-7] SUBSCRIBE is answered by a SUBACK with its Packet Identifier', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    const ack = await subscribe(client, 'a', 1, undefined, 4242);
    expect(ack.packetId).toBe(4242);
    expect(ack.reasonCodes).toEqual([1]);
  });

  it('[MQTT-3.8.3-2] without wildcard support, filters with wildcards are refused (0x80), others granted', async () => {
    const { port } = await startBroker({ wildcardSubscriptionAvailable: false });
    const { client } = await connect(port, V);
    const ack = await subscribe(client, [
      { topicFilter: 'a/#', qos: 1 },
      { topicFilter: 'a/b', qos: 1 },
      { topicFilter: '+/b', qos: 0 },
    ]);
    expect(ack.reasonCodes).toEqual([0x80, 1, 0x80]);
  });

  it('[MQTT-3.8.4-4] [MQTT-3.8.4-5] [MQTT-3.9.3-1] [MQTT-3.9.3-2] several filters: one SUBACK, one code per filter in order, only 0/1/2/0x80', async () => {
    const { port } = await startBroker({ hooks: [{ authorizeSubscribe: (a) => (a.topicFilter === 'no' ? 0x87 : undefined) }] });
    const { client } = await connect(port, V);
    const ack = await subscribe(client, [
      { topicFilter: 'm/2', qos: 2 },
      { topicFilter: 'm/#', qos: 1 },
      { topicFilter: 'no', qos: 1 },
      { topicFilter: 'm/0', qos: 0 },
    ]);
    expect(ack.reasonCodes).toEqual([2, 1, 0x80, 0]);
    expect(client.packets.filter((p) => p.type === 'suback')).toEqual([]);
    const { client: p } = await connect(port, V);
    p.send(pub('m/0', 'x', 0));
    expect((await client.next('publish')).topic).toBe('m/0');
  });

  it('[MQTT-3.8.4-3] an identical filter replaces the subscription, re-sends retained messages and loses nothing', async () => {
    const { p, client } = await check.retainedThenSubscribed(V);
    p.send(pub('rp/b', 'before', 1));
    await p.next('puback');
    expect((await client.next('publish')).qos).toBe(0);
    await subscribe(client, 'rp/#', 1);
    const again = await client.next('publish');
    expect([again.topic, again.retain, again.qos]).toEqual(['rp/a', true, 1]);
    client.send({ type: 'puback', packetId: again.packetId as number });
    p.send(pub('rp/c', 'after', 1));
    const m = await client.next('publish');
    expect([m.topic, m.qos]).toEqual(['rp/c', 1]);
    expect(await client.none('publish', 200)).toBe(true);
  });

  it('[MQTT-3.8.4-6] delivered QoS is the minimum of the published and the granted QoS', () => check.minimumQos(V));

  it('[MQTT-3.10.4-1] [MQTT-3.10.4-2] UNSUBSCRIBE deletes only the exactly equal filter; no new messages for it', () =>
    check.unsubscribeExact(V));

  it('[MQTT-3.10.4-3] a QoS 2 delivery started before UNSUBSCRIBE is completed', () => check.qos2CompletesAfterUnsubscribe(V));

  it('[MQTT-3.10.4-4] [MQTT-3.10.4-5] [MQTT-3.10.4-6] [MQTT-2.3.1-7] one UNSUBACK with the Packet Identifier, even when nothing was subscribed', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    client.send({ type: 'unsubscribe', packetId: 777, topicFilters: ['never', 'x/#', 'y'] });
    const ack = await client.next('unsuback');
    expect(ack.packetId).toBe(777);
    expect(await client.none('unsuback', 200)).toBe(true);
  });
});
