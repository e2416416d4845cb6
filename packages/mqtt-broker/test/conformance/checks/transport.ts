// §6 WebSocket and ordered byte-stream checks, the same for 3.1.1 and 5.0; the version files keep
// the literal `[MQTT-…]` titles (coverage.test.ts reads them) and call these.
import { encode } from '@iotwire/mqtt-packet';
import { expect } from 'vitest';
import { connect, pub, startWsBroker, subscriber, type Version, wsOpen, wsPackets } from '../helpers.js';

/** The encoded CONNECT a WebSocket client sends (clean, no Keep Alive). */
const connectBytes = (V: Version, clientId: string) =>
  encode({ type: 'connect', protocolVersion: V, clean: true, keepAlive: 0, clientId }, V);

/** The server selects the "mqtt" WebSocket subprotocol (before any MQTT packet, so for either version). */
export async function wsSubprotocol() {
  const { ws: port } = await startWsBroker();
  const ws = await wsOpen(port, ['mqtt']);
  expect(ws.protocol).toBe('mqtt');
  ws.close();
}

/** Packets split over frames and several packets in one frame are both read. */
export async function wsFraming(V: Version) {
  const { ws: port } = await startWsBroker();
  const ws = await wsOpen(port);
  const rx = wsPackets(ws, V);
  for (const b of connectBytes(V, 'wsplit')) ws.send(Buffer.from([b]));
  expect((await rx.next()).type).toBe('connack');
  const ping = encode({ type: 'pingreq' }, V);
  ws.send(Buffer.concat([ping, ping, ping.subarray(0, 1)]));
  ws.send(ping.subarray(1));
  for (let i = 0; i < 3; i++) expect((await rx.next()).type).toBe('pingresp');
  ws.close();
}

/** A text WebSocket frame closes the connection. */
export async function wsTextFrameCloses(V: Version) {
  const { ws: port } = await startWsBroker();
  const ws = await wsOpen(port);
  const rx = wsPackets(ws, V);
  ws.send(connectBytes(V, 'wstext'));
  expect((await rx.next()).type).toBe('connack');
  ws.send('hello');
  await rx.closed;
}

/** 200 messages in one TCP write arrive complete and in order over TCP and over WebSocket. */
export async function orderedByteStream(V: Version) {
  const { tcp, ws: wsPort } = await startWsBroker();
  const s = await subscriber(tcp, V, 'seq');
  const ws = await wsOpen(wsPort);
  const rx = wsPackets(ws, V);
  ws.send(connectBytes(V, 'wsseq'));
  await rx.next();
  ws.send(encode({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'seq', qos: 0 }] }, V));
  await rx.next();
  const { client } = await connect(tcp, V);
  client.sendRaw(Buffer.concat(Array.from({ length: 200 }, (_, i) => encode(pub('seq', String(i)), V))));
  for (let i = 0; i < 200; i++) {
    expect((await s.next('publish')).payload.toString()).toBe(String(i));
    const p = await rx.next();
    expect(p.type === 'publish' && p.payload.toString()).toBe(String(i));
  }
  ws.close();
}
