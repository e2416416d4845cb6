// CONNECT, Will and take-over checks that 3.1.1 and 5.0 share. The version files keep the
// literal `[MQTT-…]` titles (coverage.test.ts reads them); where 5.0 answers with a reason code
// (CONNACK code, DISCONNECT 0x8E) the check branches on the version.
import { expect } from 'vitest';
import {
  bye,
  cid,
  connect,
  drop,
  nextEvent,
  pub,
  resumable,
  sendConnect,
  startBroker,
  subscribe,
  subscriber,
  type Version,
} from '../helpers.js';

/** The Will is published when the connection drops; Will Retain 0 publishes it non-retained. */
export async function willOnDrop(V: Version) {
  const { broker, port } = await startBroker();
  const w = await subscriber(port, V, 'will/#');
  const { client } = await connect(port, V, { will: { topic: 'will/a', payload: Buffer.from('bye'), qos: 1, retain: false } });
  await drop(client);
  const m = await w.next('publish');
  expect([m.topic, m.payload.toString(), m.retain]).toEqual(['will/a', 'bye', false]);
  expect(broker.messages.has('will/a')).toBe(false);
}

/** Will Retain 1 publishes the Will as a retained message. */
export async function willRetained(V: Version) {
  const { broker, port } = await startBroker();
  const { client } = await connect(port, V, { will: { topic: 'will/r', payload: Buffer.from('z'), qos: 0, retain: true } });
  const gone = nextEvent(broker, 'disconnected');
  await drop(client);
  await gone;
  const s = await connect(port, V);
  await subscribe(s.client, 'will/r');
  const m = await s.client.next('publish');
  expect([m.payload.toString(), m.retain]).toEqual(['z', true]);
}

/** DISCONNECT (5.0: reason 0x00) discards the Will; a Will once published is not published again on resume. */
export async function disconnectDiscardsWill(V: Version) {
  const { port } = await startBroker();
  const w = await subscriber(port, V, 'will/#');
  const a = await connect(port, V, { will: { topic: 'will/x', payload: Buffer.from('1'), qos: 0, retain: false } });
  await bye(a.client, V === 5 ? 0 : undefined);
  expect(await w.none('publish', 300)).toBe(true);
  const id = cid('w');
  const b = await connect(port, V, { ...resumable(V, id), will: { topic: 'will/y', payload: Buffer.from('2'), qos: 0, retain: false } });
  await drop(b.client);
  expect((await w.next('publish')).topic).toBe('will/y');
  const c = await connect(port, V, resumable(V, id));
  if (V === 5) expect(c.connack.sessionPresent).toBe(true);
  await drop(c.client);
  expect(await w.none('publish', 300)).toBe(true);
}

/** A 23-character alphanumeric Client Identifier is accepted with return/reason code 0. */
export async function longClientIdAccepted(V: Version) {
  const { port } = await startBroker();
  const { connack } = await connect(port, V, { clientId: 'abcdefghijKLMNOPQRST012' });
  expect(connack.reasonCode).toBe(0);
}

/** A Client Identifier the server rejects gets CONNACK 0x02 (3.1.1) / 0x85 (5.0) and a close. */
export async function clientIdRejected(V: Version) {
  const { broker, port } = await startBroker();
  broker.on('sessionRequest', (e) => {
    if (e.clientId.startsWith('bad')) {
      e.accept = false;
      e.reasonCode = 0x85;
    }
  });
  const c = await sendConnect(port, V, { clientId: 'bad1' });
  const ack = await c.next('connack');
  // The broker maps 5.0's 0x85 (Client Identifier not valid) to 3.1.1's 0x02 (Identifier rejected).
  if (V === 4) expect([ack.reasonCode, ack.sessionPresent]).toEqual([2, false]);
  else expect(ack.reasonCode).toBe(0x85);
  await c.expectClose();
}

/** A second connection with a connected Client Identifier disconnects the existing client (5.0: DISCONNECT 0x8E first). */
export async function takeOver(V: Version) {
  const { port } = await startBroker();
  const id = cid('t');
  const a = await connect(port, V, { clientId: id });
  const b = await connect(port, V, { clientId: id });
  expect(b.connack.reasonCode).toBe(0);
  if (V === 5) expect((await a.client.next('disconnect')).reasonCode).toBe(0x8e);
  await a.client.expectClose();
  if (V === 4) {
    // The new connection is the live one.
    b.client.send({ type: 'pingreq' });
    await b.client.next('pingresp');
  }
}

/** Disconnecting the existing client on take-over publishes its Will. */
export async function takeOverPublishesWill(V: Version) {
  const { port } = await startBroker();
  const w = await subscriber(port, V, 'will/#');
  const id = cid('tw');
  const a = await connect(port, V, { clientId: id, will: { topic: 'will/taken', payload: Buffer.from('t'), qos: 0, retain: false } });
  await connect(port, V, { clientId: id });
  if (V === 5) expect((await a.client.next('disconnect')).reasonCode).toBe(0x8e);
  else await a.client.expectClose();
  expect((await w.next('publish')).topic).toBe('will/taken');
}

/** After a rejected CONNECT nothing pipelined behind it is processed. */
export async function nothingAfterRejectedConnect(V: Version) {
  const { broker, port } = await startBroker();
  broker.on('sessionRequest', (e) => {
    if (e.userName === 'nope') e.accept = false;
  });
  const w = await subscriber(port, V, 'leak/#');
  const c = await sendConnect(port, V, { username: 'nope' });
  c.send(pub('leak/x', 'no', 0));
  if (V === 5) c.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'x', qos: 0 }] });
  // The default refusal: 0x05 Not authorized (3.1.1), 0x87 Not authorized (5.0).
  expect((await c.next('connack')).reasonCode).toBe(V === 5 ? 0x87 : 5);
  await c.expectClose();
  if (V === 5) expect(c.packets).toEqual([]);
  expect(await w.none('publish', 300)).toBe(true);
}
