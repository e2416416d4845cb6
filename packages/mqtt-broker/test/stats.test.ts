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
    await client.endAsync();
  });
});
