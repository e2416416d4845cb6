// MQTT 3.1.1 transports: §6 WebSocket and the ordered byte-stream requirement.
import { encode } from '@iotwire/mqtt-packet';
import { describe, expect, it } from 'vitest';
import { connect, pub, startWsBroker, subscriber, wsOpen, wsPackets } from '../helpers.js';

const V = 4;

describe('3.1.1 transports', () => {
  it('[MQTT-6.0.0-4] the server selects the "mqtt" WebSocket subprotocol', async () => {
    const { ws: port } = await startWsBroker();
    const ws = await wsOpen(port, ['mqtt']);
    expect(ws.protocol).toBe('mqtt');
    ws.close();
  });

  it('[MQTT-6.0.0-2] packets split over frames and several packets in one frame are both read', async () => {
    const { ws: port } = await startWsBroker();
    const ws = await wsOpen(port);
    const rx = wsPackets(ws, V);
    const connectBytes = encode({ type: 'connect', protocolVersion: V, clean: true, keepAlive: 0, clientId: 'wsplit' }, V);
    for (const b of connectBytes) ws.send(Buffer.from([b]));
    expect((await rx.next()).type).toBe('connack');
    const ping = encode({ type: 'pingreq' }, V);
    ws.send(Buffer.concat([ping, ping, ping.subarray(0, 1)]));
    ws.send(ping.subarray(1));
    for (let i = 0; i < 3; i++) expect((await rx.next()).type).toBe('pingresp');
    ws.close();
  });

  it('[MQTT-6.0.0-1] a text WebSocket frame closes the connection', async () => {
    const { ws: port } = await startWsBroker();
    const ws = await wsOpen(port);
    const rx = wsPackets(ws, V);
    ws.send(encode({ type: 'connect', protocolVersion: V, clean: true, keepAlive: 0, clientId: 'wstext' }, V));
    expect((await rx.next()).type).toBe('connack');
    ws.send('hello');
    await rx.closed;
  });

  it('[MQTT-7.1.1-1] MQTT runs over an ordered, lossless byte stream (TCP and WebSocket): 200 messages in one write arrive complete and in order', async () => {
    const { tcp, ws: wsPort } = await startWsBroker();
    const s = await subscriber(tcp, V, 'seq');
    const ws = await wsOpen(wsPort);
    const rx = wsPackets(ws, V);
    ws.send(encode({ type: 'connect', protocolVersion: V, clean: true, keepAlive: 0, clientId: 'wsseq' }, V));
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
  });
});
