// SUBSCRIBE / UNSUBSCRIBE checks that 3.1.1 and 5.0 share; the version files keep the literal
// `[MQTT-…]` titles (coverage.test.ts reads them) and call these.
import { expect } from 'vitest';
import { connect, pub, startBroker, subscribe, type Version } from '../helpers.js';

/** Delivered QoS is the minimum of the published and the granted QoS. */
export async function minimumQos(V: Version) {
  const { port } = await startBroker();
  const { client } = await connect(port, V);
  await subscribe(client, 'min', 1);
  const { client: p } = await connect(port, V);
  p.send(pub('min', 'two', 2));
  p.send(pub('min', 'zero', 0));
  const a = await client.next('publish');
  client.send({ type: 'puback', packetId: a.packetId as number });
  const b = await client.next('publish');
  expect([a.qos, b.qos]).toEqual([1, 0]);
}

/** UNSUBSCRIBE deletes only exactly equal filters (5.0: with a code per filter); no new messages for them. */
export async function unsubscribeExact(V: Version) {
  const { port } = await startBroker();
  const { client } = await connect(port, V);
  await subscribe(client, [
    { topicFilter: 'u/+', qos: 0 },
    { topicFilter: 'w/#', qos: 0 },
  ]);
  // 5.0 answers each filter: 0x00 removed, 0x11 No subscription existed.
  const topicFilters = V === 5 ? ['u/a', 'w/#', 'none'] : ['u/a', 'w/#'];
  client.send({ type: 'unsubscribe', packetId: 5, topicFilters });
  const ack = await client.next('unsuback');
  if (V === 5) expect(ack.reasonCodes).toEqual([0x11, 0x00, 0x11]);
  const { client: p } = await connect(port, V);
  p.send(pub('w/x', 'gone'));
  p.send(pub('u/a', 'kept'));
  expect((await client.next('publish')).payload.toString()).toBe('kept');
  expect(await client.none('publish', 200)).toBe(true);
}

/** A QoS 2 delivery started before UNSUBSCRIBE is completed. */
export async function qos2CompletesAfterUnsubscribe(V: Version) {
  const { port } = await startBroker();
  const { client } = await connect(port, V);
  await subscribe(client, 'fin', 2);
  const { client: p } = await connect(port, V);
  p.send(pub('fin', 'x', 2));
  const m = await client.next('publish');
  client.send({ type: 'unsubscribe', packetId: 6, topicFilters: ['fin'] });
  await client.next('unsuback');
  client.send({ type: 'pubrec', packetId: m.packetId as number });
  expect((await client.next('pubrel')).packetId).toBe(m.packetId);
}

/**
 * The start of both versions' [MQTT-3.8.4-3] tests (what follows differs): a retained message on
 * rp/a, then a QoS 0 subscription to rp/# that receives it retained. Returns the publisher and subscriber.
 */
export async function retainedThenSubscribed(V: Version) {
  const { port } = await startBroker();
  const { client: p } = await connect(port, V);
  p.send(pub('rp/a', 'ret', 1, { retain: true }));
  await p.next('puback');
  const { client } = await connect(port, V);
  await subscribe(client, 'rp/#', 0);
  expect((await client.next('publish')).retain).toBe(true);
  return { p, client };
}
