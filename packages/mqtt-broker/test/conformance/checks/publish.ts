// PUBLISH, QoS flow and retained-message checks that 3.1.1 and 5.0 share. The version files keep
// the literal `[MQTT-…]` titles (coverage.test.ts reads them); where 5.0 adds reason codes or
// needs a Session Expiry Interval, the check branches on the version.
import { expect } from 'vitest';
import {
  cid,
  connect,
  drop,
  nextEvent,
  pub,
  recordBytes,
  resumable,
  startBroker,
  subscribe,
  subscriber,
  type Version,
} from '../helpers.js';

const PUBACK_CODES = [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
const PUBREL_CODES = [0x00, 0x92];

/** A topic containing U+FEFF is delivered unchanged and matched as written. */
export async function bomTopic(V: Version) {
  const { port } = await startBroker();
  const exact = await subscriber(port, V, 'bom/\uFEFFx');
  const plain = await subscriber(port, V, 'bom/x');
  const { client } = await connect(port, V);
  client.send(pub('bom/\uFEFFx', 'b'));
  expect((await exact.next('publish')).topic).toBe('bom/\uFEFFx');
  expect(await plain.none('publish', 200)).toBe(true);
}

/** QoS 0 gets no answer, QoS 1 a PUBACK with its id; the id re-used after PUBACK is a new message. */
export async function qos1Receiver(V: Version) {
  const { port } = await startBroker();
  const s = await subscriber(port, V, 'q1', 1);
  const { client } = await connect(port, V);
  client.send(pub('q1', 'zero', 0));
  client.send(pub('q1', 'a', 1, { packetId: 7 }));
  const ack = await client.next('puback');
  expect(ack.packetId).toBe(7);
  if (V === 5) expect(PUBACK_CODES).toContain(ack.reasonCode ?? 0);
  client.send(pub('q1', 'b', 1, { packetId: 7, dup: true }));
  expect((await client.next('puback')).packetId).toBe(7);
  if (V === 5) {
    // 5.0 tells the sender nobody matched (0x10 No matching subscribers).
    client.send(pub('nobody', 'c', 1, { packetId: 8 }));
    expect((await client.next('puback')).reasonCode).toBe(0x10);
  }
  const got: string[] = [];
  for (let i = 0; i < 3; i++) {
    const m = await s.next('publish');
    got.push(m.payload.toString());
    if (m.qos === 1) s.send({ type: 'puback', packetId: m.packetId as number });
  }
  expect(got).toEqual(['zero', 'a', 'b']);
  if (V === 4) expect(client.packets).toEqual([]);
}

/** QoS 2 receiver: PUBREC, a re-sent PUBLISH is not forwarded twice, PUBREL gets PUBCOMP; then the id is new. */
export async function qos2Receiver(V: Version) {
  const { port } = await startBroker();
  const s = await subscriber(port, V, 'q2');
  const { client } = await connect(port, V);
  client.send(pub('q2', 'once', 2, { packetId: 9 }));
  const rec = await client.next('pubrec');
  if (V === 5) expect([rec.packetId, rec.reasonCode ?? 0]).toEqual([9, 0]);
  else expect(rec.packetId).toBe(9);
  client.send(pub('q2', 'once', 2, { packetId: 9, dup: true }));
  expect((await client.next('pubrec')).packetId).toBe(9);
  client.send({ type: 'pubrel', packetId: 9 });
  const comp = await client.next('pubcomp');
  if (V === 5) {
    expect([comp.packetId, comp.reasonCode ?? 0]).toEqual([9, 0]);
    // A PUBREL for an id already released: PUBCOMP 0x00 or 0x92 (Packet Identifier not found).
    client.send({ type: 'pubrel', packetId: 9 });
    expect(PUBREL_CODES).toContain((await client.next('pubcomp')).reasonCode ?? 0);
  } else expect(comp.packetId).toBe(9);
  client.send(pub('q2', 'again', 2, { packetId: 9 }));
  await client.next('pubrec');
  expect((await s.next('publish')).payload.toString()).toBe('once');
  expect((await s.next('publish')).payload.toString()).toBe('again');
  expect(await s.none('publish', 200)).toBe(true);
}

/** QoS 2 sender: PUBREL with the PUBLISH's id after PUBREC, re-sent on resume; no PUBLISH again after PUBREL. */
export async function qos2Sender(V: Version) {
  const { broker, port } = await startBroker();
  const id = cid('q');
  const a = await connect(port, V, resumable(V, id));
  await subscribe(a.client, 'x2', 2);
  const { client: p } = await connect(port, V);
  p.send(pub('x2', 'm', 2));
  const m = await a.client.next('publish');
  if (V === 5) expect(await a.client.none('pubrel', 200)).toBe(true);
  else expect([m.qos, m.dup]).toEqual([2, false]);
  a.client.send({ type: 'pubrec', packetId: m.packetId as number });
  const rel = await a.client.next('pubrel');
  if (V === 5) expect([rel.packetId, PUBREL_CODES.includes(rel.reasonCode ?? 0)]).toEqual([m.packetId, true]);
  else expect(rel.packetId).toBe(m.packetId);
  const gone = nextEvent(broker, 'disconnected');
  await drop(a.client);
  await gone;
  const b = await connect(port, V, resumable(V, id));
  expect((await b.client.next('pubrel')).packetId).toBe(m.packetId);
  b.client.send({ type: 'pubcomp', packetId: m.packetId as number });
  expect(await b.client.none('publish', 300)).toBe(true);
}

/** Unacknowledged QoS 1 and 2 PUBLISH are re-sent on resume with their ids and DUP=1, in order. */
export async function redeliveryOnResume(V: Version) {
  const { broker, port } = await startBroker();
  const id = cid('r');
  const a = await connect(port, V, resumable(V, id));
  await subscribe(a.client, 'rs/#', 2);
  const { client: p } = await connect(port, V);
  p.send(pub('rs/1', '1', 1));
  p.send(pub('rs/2', '2', 2));
  const m1 = await a.client.next('publish');
  const m2 = await a.client.next('publish');
  // 5.0 also states they are re-sent only on resume, never on the same connection.
  if (V === 5) expect(await a.client.none('publish', 300)).toBe(true);
  const gone = nextEvent(broker, 'disconnected');
  await drop(a.client);
  await gone;
  const b = await connect(port, V, resumable(V, id));
  const r1 = await b.client.next('publish');
  const r2 = await b.client.next('publish');
  expect([r1.packetId, r1.dup, r1.payload.toString()]).toEqual([m1.packetId, true, '1']);
  expect([r2.packetId, r2.dup, r2.payload.toString()]).toEqual([m2.packetId, true, '2']);
}

/** QoS 0 goes out with DUP 0 (checked on the wire); an incoming DUP=1 is not copied to subscribers. */
export async function dupNotCopied(V: Version) {
  const { port } = await startBroker();
  const s0 = await subscriber(port, V, 'dup', 0);
  const s1 = await subscriber(port, V, 'dup', 1);
  const rec = recordBytes(s0);
  const { client } = await connect(port, V);
  client.send(pub('dup', 'd', 1, { dup: true }));
  expect((await s1.next('publish')).dup).toBe(false);
  await s0.next('publish');
  expect(rec.bytes()[0]).toBe(0x30);
}

/** The Topic Name sent to a subscriber is the published one, matching its filter. */
export async function topicNameAsPublished(V: Version) {
  const { port } = await startBroker();
  const s = await subscriber(port, V, 'a/+/c');
  const { client } = await connect(port, V);
  client.send(pub('a/b/d', 'no'));
  client.send(pub('a/b/c', 'yes'));
  const m = await s.next('publish');
  expect([m.topic, m.payload.toString()]).toEqual(['a/b/c', 'yes']);
}

/** Messages of one client to one topic reach each subscriber in order, per QoS. */
export async function orderPerQos(V: Version) {
  const { port } = await startBroker();
  const s1 = await subscriber(port, V, 'ord', 1);
  const s0 = await subscriber(port, V, 'ord', 0);
  const { client } = await connect(port, V);
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
  expect([got1, got0]).toEqual([seq, seq]);
}

/** Filters starting with a wildcard do not match topics starting with $; `dollarFilter` (a `$app/` one) does. */
export async function dollarTopics(V: Version, dollarFilter: string) {
  const { port } = await startBroker();
  const all = await subscriber(port, V, '#');
  const plus = await subscriber(port, V, '+/x');
  const dollar = await subscriber(port, V, dollarFilter);
  const { client } = await connect(port, V);
  client.send(pub('$app/x', 'd'));
  expect((await dollar.next('publish')).topic).toBe('$app/x');
  expect(await all.none('publish', 200)).toBe(true);
  expect(await plus.none('publish', 50)).toBe(true);
}

/** Matching applies no normalisation: case, Unicode forms and empty levels are significant. */
export async function noNormalisation(V: Version) {
  const { port } = await startBroker();
  const nfc = await subscriber(port, V, 'n/\u00c4');
  const lower = await subscriber(port, V, 'n/a');
  const empty = await subscriber(port, V, 'n//b');
  const { client } = await connect(port, V);
  client.send(pub('n/A\u0308', '1'));
  client.send(pub('n/A', '2'));
  client.send(pub('n/b', '3'));
  client.send(pub('n//b', '4'));
  expect((await empty.next('publish')).payload.toString()).toBe('4');
  expect(await nfc.none('publish', 200)).toBe(true);
  expect(await lower.none('publish', 50)).toBe(true);
}

/** A zero-byte retained message is forwarded, removes the retained message and is not stored. */
export async function zeroByteRetained(V: Version) {
  const { broker, port } = await startBroker();
  const { client } = await connect(port, V);
  client.send(pub('ret/d', 'v', 1, { retain: true }));
  await client.next('puback');
  const live = await subscriber(port, V, 'ret/d');
  await live.next('publish');
  client.send(pub('ret/d', '', 1, { retain: true }));
  await client.next('puback');
  expect((await live.next('publish')).payload.length).toBe(0);
  expect(broker.messages.has('ret/d')).toBe(false);
  const late = await subscriber(port, V, 'ret/#');
  expect(await late.none('publish', 200)).toBe(true);
}

/** RETAIN=0 neither stores the message nor touches the retained one. */
export async function retainZeroKeepsRetained(V: Version) {
  const { port } = await startBroker();
  const { client } = await connect(port, V);
  client.send(pub('ret/e', 'kept', 1, { retain: true }));
  await client.next('puback');
  client.send(pub('ret/e', 'plain', 1));
  await client.next('puback');
  client.send(pub('ret/f', 'plain', 1));
  await client.next('puback');
  const s = await subscriber(port, V, 'ret/#');
  expect((await s.next('publish')).payload.toString()).toBe('kept');
  expect(await s.none('publish', 200)).toBe(true);
}
