// Listeners and lifecycle: startListening / stopListening / shutdown / disconnect, WebSocket
// transport rules, TLS status events.
import net from 'node:net';
import { encode } from '@iotwire/mqtt-packet';
import { createTestPki } from '@iotwire/tls';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MqttBroker } from '../src/index.js';
import { nextEvent, startBroker } from './helpers/broker.js';
import { RawClient } from './helpers/raw-client.js';

describe('lifecycle', () => {
  it('addBrokerListener after startListening throws; bound ports are reported; the toolkit protocol numbers work', async () => {
    const { broker, port } = await startBroker({}, [{ protocol: 0, host: '127.0.0.1', port: 0 }]);
    expect(port).toBeGreaterThan(0);
    expect(broker.brokerListeners[0]?.protocol).toBe('tcp');
    expect(broker.listening).toBe(true);
    expect(() => broker.addBrokerListener({ protocol: 'tcp', port: 0 })).toThrow(/before startListening/);
  });

  it('a bind failure rejects startListening and rolls back the listeners already started', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    const b = new MqttBroker();
    b.addBrokerListener({ protocol: 'tcp', host: '127.0.0.1', port: 0 });
    b.addBrokerListener({ protocol: 'tcp', host: '127.0.0.1', port: taken });
    await expect(b.startListening()).rejects.toMatchObject({ code: 'ERR_LISTEN' });
    expect(b.listening).toBe(false);
    blocker.close();
  });

  it('stopListening keeps connected clients; shutdown disconnects them (5.0: 0x8B) and keeps persistent sessions', async () => {
    const { broker, port } = await startBroker();
    const { client } = await RawClient.connect(port, {
      protocolVersion: 5,
      clientId: 'keep',
      clean: false,
      properties: { sessionExpiryInterval: 100 },
    });
    await broker.stopListening();
    client.send({ type: 'pingreq' });
    await client.next('pingresp');
    await expect(RawClient.open(port)).rejects.toThrow();
    await broker.shutdown();
    expect((await client.next('disconnect')).reasonCode).toBe(0x8b);
    expect(broker.sessions.has('keep')).toBe(true);
  });

  it('disconnect(id) sends 0x98 to a 5.0 client, publishes its Will by default, and rejects unknown ids', async () => {
    const { broker, port } = await startBroker();
    const { client: w } = await RawClient.connect(port);
    w.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'w', qos: 0 }] });
    await w.next('suback');
    const { client } = await RawClient.connect(port, {
      protocolVersion: 5,
      clientId: 'kick',
      will: { topic: 'w', payload: Buffer.from('kicked'), qos: 0, retain: false },
    });
    const id = [...broker.connections.values()].find((c) => c.clientId === 'kick')!.connectionId;
    await broker.disconnect(id);
    expect((await client.next('disconnect')).reasonCode).toBe(0x98);
    expect((await w.next('publish')).payload.toString()).toBe('kicked');
    await expect(broker.disconnect('nope')).rejects.toMatchObject({ code: 'ERR_UNKNOWN_CONNECTION' });
  });

  it('connections expose the toolkit fields', async () => {
    const { broker, port } = await startBroker();
    await RawClient.connect(port, { clientId: 'info', username: 'u', keepAlive: 30 });
    const c = [...broker.connections.values()][0]!;
    expect([c.clientId, c.userName, c.keepAlive, c.protocol, c.remoteHost, c.localPort, c.protocolVersion]).toEqual([
      'info',
      'u',
      30,
      'tcp',
      '127.0.0.1',
      port,
      4,
    ]);
  });
});

describe('WebSocket transport (MQTT §6)', () => {
  async function wsBroker() {
    return startBroker({}, [{ protocol: 'ws', host: '127.0.0.1', port: 0 }]);
  }
  const open = (url: string, protocols: string[] = ['mqtt']) =>
    new Promise<WebSocket>((resolve, reject) => {
      const ws = new WebSocket(url, protocols);
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    });
  const connect = encode({ type: 'connect', protocolVersion: 4, clean: true, keepAlive: 0, clientId: 'ws' }, 4);

  it('[MQTT-6.0.0-3] [MQTT-6.0.0-4] negotiates the mqtt subprotocol; packets may span frames and frames hold several packets', async () => {
    const { port } = await wsBroker();
    const ws = await open(`ws://127.0.0.1:${port}/mqtt`);
    expect(ws.protocol).toBe('mqtt');
    const got: Buffer[] = [];
    ws.on('message', (d: Buffer) => got.push(d));
    // CONNECT split over two frames, then PINGREQ + PINGREQ in one frame.
    ws.send(connect.subarray(0, 5));
    ws.send(connect.subarray(5));
    ws.send(Buffer.from([0xc0, 0x00, 0xc0, 0x00]));
    await new Promise((r) => setTimeout(r, 200));
    expect(Buffer.concat(got)).toEqual(Buffer.from([0x20, 0x02, 0x00, 0x00, 0xd0, 0x00, 0xd0, 0x00]));
    ws.close();
  });

  it('[MQTT-6.0.0-1] a text frame closes the connection', async () => {
    const { port } = await wsBroker();
    const ws = await open(`ws://127.0.0.1:${port}/mqtt`);
    const closed = new Promise((r) => ws.once('close', r));
    ws.send('hello');
    await closed;
  });

  it('only the configured path is served', async () => {
    const { port } = await wsBroker();
    await expect(open(`ws://127.0.0.1:${port}/other`)).rejects.toThrow();
  });
});

describe('TLS listener events', () => {
  it('sslStatus reports the handshake; connected fires after it', async () => {
    const pki = createTestPki();
    const { broker, port } = await startBroker({}, [
      { protocol: 'tls', host: '127.0.0.1', port: 0, certificate: { cert: pki.server.cert, key: pki.server.key } },
    ]);
    const lines: string[] = [];
    broker.on('sslStatus', (e) => lines.push(e.message));
    const connected = nextEvent(broker, 'connected');
    const tls = await import('node:tls');
    const s = tls.connect({ host: '127.0.0.1', port, ca: pki.ca.cert, servername: 'localhost' });
    await new Promise((r) => s.once('secureConnect', r));
    await connected;
    expect(lines.length).toBeGreaterThan(0);
    s.destroy();
  });
});
