import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { MqttBroker } from '../src/index.js';

const brokers: MqttBroker[] = [];
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.shutdown();
});

describe('BrokerStats', () => {
  it('counts connections, packets, messages and bytes in both directions', async () => {
    const broker = new MqttBroker();
    brokers.push(broker);
    broker.addBrokerListener({ host: '127.0.0.1', port: 0, protocol: 'tcp' });
    await broker.startListening();
    const port = broker.brokerListeners[0]?.port as number;
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
    const got = new Promise<void>((resolve) => client.on('message', () => resolve()));
    await client.subscribeAsync('stats/t', { qos: 1 });
    await client.publishAsync('stats/t', 'x'.repeat(10), { qos: 1 });
    await got;
    await broker.publish({ topic: 'stats/other', payload: 'y' });
    const s = broker.stats;
    expect(s.connectionsAccepted).toBe(1);
    expect(s.connectionsMaximum).toBe(1);
    expect(s.messagesReceived).toBe(1);
    expect(s.messagesSent).toBe(1);
    expect(s.messagesPublishedInternally).toBe(1);
    // CONNECT + SUBSCRIBE + PUBLISH (the PUBACK for the delivery may still be on its way).
    expect(s.packetsReceived).toBeGreaterThanOrEqual(3);
    expect(s.bytesReceived).toBeGreaterThan(20);
    expect(s.bytesSent).toBeGreaterThan(15);
    expect(s.uptimeSeconds).toBeGreaterThanOrEqual(0);
    // CONNACK + SUBACK + PUBACK + the delivered PUBLISH.
    expect(s.packetsSent).toBeGreaterThanOrEqual(4);
    expect(s.publishBytesReceived).toBe(10);
    expect(s.publishBytesSent).toBe(10);
    const f = broker.figures();
    expect(f).toMatchObject({ connections: 1, clientsConnected: 1, clientsTotal: 1, subscriptions: 1, retainedMessages: 0 });
    expect(f.connectionsByProtocol.tcp).toBe(1);
    await client.endAsync();
  });

  it('counts sessions removed by Session Expiry and reads figures without snapshots', async () => {
    const broker = new MqttBroker();
    brokers.push(broker);
    broker.addBrokerListener({ host: '127.0.0.1', port: 0, protocol: 'tcp' });
    await broker.startListening();
    const port = broker.brokerListeners[0]?.port as number;
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      reconnectPeriod: 0,
      protocolVersion: 5,
      clean: false,
      clientId: 'expiring',
      properties: { sessionExpiryInterval: 1 },
    });
    await client.subscribeAsync('a/+', { qos: 1 });
    await client.subscribeAsync('$share/g/b', { qos: 0 });
    await broker.publish({ topic: 'r/1', payload: 'kept', retain: true });
    await client.endAsync();
    await new Promise((r) => setTimeout(r, 100));
    await broker.publish({ topic: 'a/1', payload: 'queued', qos: 1 });
    const f = broker.figures();
    expect(f).toMatchObject({
      clientsConnected: 0,
      clientsDisconnected: 1,
      subscriptions: 2,
      sharedSubscriptions: 1,
      retainedMessages: 1,
      retainedBytes: 4,
      storedMessages: 1,
      storedBytes: 6,
    });
    const deadline = Date.now() + 10_000;
    while (broker.stats.sessionsExpired === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(broker.stats.sessionsExpired).toBe(1);
    expect(broker.figures().clientsTotal).toBe(0);
  });
});
