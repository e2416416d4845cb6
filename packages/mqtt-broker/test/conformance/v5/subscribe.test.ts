// MQTT 5.0 §3.8 SUBSCRIBE, §3.9 SUBACK, §3.10 UNSUBSCRIBE, §3.11 UNSUBACK, §4.8 shared subscriptions.
import { describe, expect, it } from 'vitest';
import * as check from '../checks/subscribe.js';
import { cid, connect, drop, nextEvent, pub, type RawClient, startBroker, subscribe } from '../helpers.js';

const V = 5;

const SUBACK_CODES = [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2];

/** Which of the clients gets the next PUBLISH (waiting on all of them). */
async function whoGets(clients: RawClient[]) {
  return Promise.any(clients.map((c, i) => c.next('publish').then((m) => ({ i, m }))));
}

describe('5.0 SUBSCRIBE / UNSUBSCRIBE', () => {
  it('[MQTT-3.8.4-1] [MQTT-3.8.4-2] [MQTT-2.2.1-6] SUBSCRIBE is answered by a SUBACK with its Packet Identifier', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    const ack = await subscribe(client, 'a', 2, undefined, 31337);
    expect([ack.packetId, ack.reasonCodes]).toEqual([31337, [2]]);
  });

  it('[MQTT-3.8.4-5] [MQTT-3.8.4-6] [MQTT-3.8.4-7] [MQTT-3.9.3-1] [MQTT-3.9.3-2] one SUBACK, a code per filter in order: granted QoS or a Subscribe failure code', async () => {
    const { port } = await startBroker({ hooks: [{ authorizeSubscribe: (a) => (a.topicFilter === 'no' ? 0x87 : undefined) }] });
    const { client } = await connect(port, V);
    const ack = await subscribe(client, [
      { topicFilter: 'm/2', qos: 2 },
      { topicFilter: 'no', qos: 1 },
      { topicFilter: 'm/#', qos: 1 },
      { topicFilter: '$share/g/x', qos: 0, retainHandling: 0 },
      { topicFilter: 'm/0', qos: 0 },
    ]);
    expect(ack.reasonCodes[0]).toBe(2);
    expect(ack.reasonCodes[1]).toBe(0x87);
    expect(ack.reasonCodes[2]).toBe(1);
    expect(ack.reasonCodes[3]).toBe(0);
    expect(ack.reasonCodes[4]).toBe(0);
    expect(ack.reasonCodes.every((c) => SUBACK_CODES.includes(c))).toBe(true);
    expect(await client.none('suback', 200)).toBe(true);
  });

  it('[MQTT-3.8.4-8] delivered QoS is the minimum of the published and the granted QoS', () => check.minimumQos(V));

  it('[MQTT-3.8.4-3] [MQTT-3.8.4-4] an identical filter replaces the subscription; Retain Handling 0 re-sends retained messages; nothing is lost', async () => {
    const { p, client } = await check.retainedThenSubscribed(V);
    // Publications flow while the subscription is replaced.
    for (let i = 0; i < 5; i++) p.send(pub('rp/live', String(i), 1));
    await subscribe(client, [{ topicFilter: 'rp/#', qos: 1, retainHandling: 0 }]);
    for (let i = 5; i < 10; i++) p.send(pub('rp/live', String(i), 1));
    const live: string[] = [];
    let retained = 0;
    while (live.length < 10) {
      const m = await client.next('publish');
      if (m.qos === 1) client.send({ type: 'puback', packetId: m.packetId as number });
      if (m.topic === 'rp/a') retained++;
      else live.push(m.payload.toString());
    }
    expect(retained).toBe(1);
    expect(live).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    expect(await client.none('publish', 200)).toBe(true);
  });

  it('[MQTT-3.8.4-3] replacing a subscription replaces its Subscription Identifier; retained messages sent on subscribe carry it', async () => {
    const { port } = await startBroker();
    const { client: p } = await connect(port, V);
    p.send(pub('si/r', 'ret', 1, { retain: true }));
    await p.next('puback');
    const { client } = await connect(port, V);
    await subscribe(client, 'si/#', 0, { subscriptionIdentifier: 1 });
    expect((await client.next('publish')).properties?.subscriptionIdentifiers).toEqual([1]);
    await subscribe(client, 'si/#', 0, { subscriptionIdentifier: 2 });
    expect((await client.next('publish')).properties?.subscriptionIdentifiers).toEqual([2]);
    p.send(pub('si/x', 'live'));
    expect((await client.next('publish')).properties?.subscriptionIdentifiers).toEqual([2]);
    await subscribe(client, 'si/#', 0);
    await client.next('publish');
    p.send(pub('si/x', 'plain'));
    expect((await client.next('publish')).properties?.subscriptionIdentifiers).toBeUndefined();
  });

  it('[MQTT-3.8.3-3] No Local: messages are not forwarded back to the publishing ClientID, others get them', async () => {
    const { port } = await startBroker();
    const { client: me } = await connect(port, V);
    await subscribe(me, [{ topicFilter: 'nl', qos: 0, noLocal: true }]);
    const { client: other } = await connect(port, V);
    await subscribe(other, [{ topicFilter: 'nl', qos: 0, noLocal: true }]);
    me.send(pub('nl', 'mine'));
    expect((await other.next('publish')).payload.toString()).toBe('mine');
    expect(await me.none('publish', 200)).toBe(true);
  });

  it('[MQTT-3.8.3-4] No Local on a Shared Subscription is a Protocol Error', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    // The encoder refuses this combination: raw SUBSCRIBE id 3, no properties, "$share/g/t", No Local.
    client.sendRaw([0x82, 0x10, 0x00, 0x03, 0x00, 0x00, 0x0a, ...Buffer.from('$share/g/t'), 0x04]);
    expect((await client.next('disconnect')).reasonCode).toBe(0x82);
    await client.expectClose();
  });

  it('[MQTT-3.3.4-2] [MQTT-3.3.4-3] [MQTT-3.3.4-4] overlapping subscriptions: one copy at the highest QoS carrying every Subscription Identifier', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    await subscribe(client, 'ov/#', 0, { subscriptionIdentifier: 11 });
    await subscribe(client, 'ov/+', 2, { subscriptionIdentifier: 22 });
    await subscribe(client, '+/x', 1);
    const { client: p } = await connect(port, V);
    p.send(pub('ov/x', 'm', 2));
    const m = await client.next('publish');
    expect(m.qos).toBe(2);
    expect([...(m.properties?.subscriptionIdentifiers ?? [])].sort((a, b) => a - b)).toEqual([11, 22]);
    expect(await client.none('publish', 200)).toBe(true);
  });

  it('[MQTT-3.3.4-5] a shared and a non-shared subscription match: each copy carries its own Subscription Identifier', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    await subscribe(client, 'sx/t', 0, { subscriptionIdentifier: 5 });
    await subscribe(client, '$share/g1/sx/t', 0, { subscriptionIdentifier: 6 });
    const { client: p } = await connect(port, V);
    p.send(pub('sx/t', 'm'));
    const a = await client.next('publish');
    const b = await client.next('publish');
    const ids = [a, b].map((m) => m.properties?.subscriptionIdentifiers).sort();
    expect(ids).toEqual([[5], [6]]);
  });

  it('[MQTT-3.10.4-1] [MQTT-3.10.4-2] [MQTT-3.11.3-1] [MQTT-3.11.3-2] UNSUBSCRIBE deletes exact matches only, codes in order (0x00 / 0x11), no new messages for them', () =>
    check.unsubscribeExact(V));

  it('[MQTT-3.10.4-3] a QoS 2 delivery started before UNSUBSCRIBE is completed', () => check.qos2CompletesAfterUnsubscribe(V));

  it('[MQTT-3.10.4-4] [MQTT-3.10.4-5] [MQTT-3.10.4-6] [MQTT-2.2.1-6] one UNSUBACK with the Packet Identifier, even when nothing was subscribed', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, V);
    client.send({ type: 'unsubscribe', packetId: 777, topicFilters: ['never', 'x/#'] });
    const ack = await client.next('unsuback');
    expect([ack.packetId, ack.reasonCodes]).toEqual([777, [0x11, 0x11]]);
    expect(await client.none('unsuback', 200)).toBe(true);
  });

  it("[MQTT-3.9.2-1] [MQTT-3.9.2-2] [MQTT-3.11.2-1] [MQTT-3.11.2-2] SUBACK and UNSUBACK fit the client's Maximum Packet Size (no Reason String or User Property beyond it)", async () => {
    const { port } = await startBroker({ hooks: [{ authorizeSubscribe: () => 0x87 }] });
    const { client } = await connect(port, V, { properties: { maximumPacketSize: 8 } });
    const sizes: number[] = [];
    client.socket.on('data', (d: Buffer) => sizes.push(d.length));
    const ack = await subscribe(client, 'a', 0, { userProperties: [['why', 'please tell me the reason in a long string']] });
    expect(ack.reasonCodes).toEqual([0x87]);
    expect(ack.properties?.reasonString).toBeUndefined();
    client.send({ type: 'unsubscribe', packetId: 9, topicFilters: ['a'], properties: { userProperties: [['k', 'v']] } });
    const un = await client.next('unsuback');
    expect(un.properties).toBeUndefined();
    expect(Math.max(...sizes)).toBeLessThanOrEqual(8);
  });
});

describe('5.0 shared subscriptions', () => {
  it("[MQTT-4.8.2-3] a shared delivery respects the member's granted QoS", async () => {
    const { port } = await startBroker();
    const { client: m } = await connect(port, V);
    await subscribe(m, '$share/q/t', 0);
    const { client: p } = await connect(port, V);
    p.send(pub('t', 'x', 2));
    expect((await m.next('publish')).qos).toBe(0);
  });

  it('[MQTT-4.8.2-4] a QoS 2 shared delivery broken by a disconnect is completed to that member when it reconnects', async () => {
    const { broker, port } = await startBroker();
    const id = cid('sh');
    const props = { sessionExpiryInterval: 60 };
    const a = await connect(port, V, { clientId: id, clean: false, properties: props });
    await subscribe(a.client, '$share/g2/s2', 2);
    const { client: p } = await connect(port, V);
    p.send(pub('s2', 'x', 2));
    const m = await a.client.next('publish');
    const gone = nextEvent(broker, 'disconnected');
    await drop(a.client);
    await gone;
    const b = await connect(port, V, { clientId: id, clean: false, properties: props });
    const again = await b.client.next('publish');
    expect([again.packetId, again.dup, again.payload.toString()]).toEqual([m.packetId, true, 'x']);
  });

  it("[MQTT-4.8.2-5] if the member's session ends before it reconnects, the message goes to no other member", async () => {
    const { broker, port } = await startBroker();
    const a = await connect(port, V, { clientId: cid('sa'), properties: { sessionExpiryInterval: 0 } });
    const b = await connect(port, V, { clientId: cid('sb') });
    await subscribe(a.client, '$share/g3/s3', 1);
    await subscribe(b.client, '$share/g3/s3', 1);
    const { client: p } = await connect(port, V);
    p.send(pub('s3', 'one', 1));
    const first = await whoGets([a.client, b.client]);
    const holder = first.i === 0 ? a.client : b.client;
    const other = first.i === 0 ? b.client : a.client;
    const gone = nextEvent(broker, 'sessionRemoved');
    await drop(holder);
    await gone;
    expect(await other.none('publish', 400)).toBe(true);
  });

  it('[MQTT-4.8.2-6] a PUBACK of 0x80 or more from a member discards the message: no other member gets it', async () => {
    const { port } = await startBroker();
    const a = await connect(port, V);
    const b = await connect(port, V);
    await subscribe(a.client, '$share/g4/s4', 1);
    await subscribe(b.client, '$share/g4/s4', 1);
    const { client: p } = await connect(port, V);
    p.send(pub('s4', 'one', 1));
    const first = await whoGets([a.client, b.client]);
    const holder = first.i === 0 ? a.client : b.client;
    const other = first.i === 0 ? b.client : a.client;
    holder.send({ type: 'puback', packetId: first.m.packetId as number, reasonCode: 0x80 });
    expect(await other.none('publish', 400)).toBe(true);
    expect(await holder.none('publish', 50)).toBe(true);
  });
});
