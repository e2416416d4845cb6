// Cluster configuration errors are clear and typed (no Redis needed).
import { freePort } from '@iotwire/interop';
import { describe, expect, it } from 'vitest';
import { MemoryStorage, MqttBroker } from '../src/index.js';

describe('cluster options', () => {
  it('refuses storage together with cluster, and bad values', () => {
    expect(() => new MqttBroker({ cluster: { redis: 'redis://127.0.0.1:1' }, storage: new MemoryStorage() })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('Redis') }),
    );
    expect(() => new MqttBroker({ cluster: { redis: 'redis://x', nodeId: 'a b' } })).toThrow(/nodeId/);
    expect(() => new MqttBroker({ cluster: { redis: 'redis://x', heartbeatInterval: 1000, nodeTimeout: 1500 } })).toThrow(/twice/);
    expect(() => new MqttBroker({ cluster: { redis: 42 as never } })).toThrow(/cluster\.redis/);
  });

  it('an unreachable Redis makes startListening fail with ERR_CLUSTER (and leaves nothing running)', async () => {
    const port = await freePort('tcp');
    const broker = new MqttBroker({ cluster: { redis: { host: '127.0.0.1', port, retryStrategy: () => null } } });
    broker.on('error', () => {});
    broker.addBrokerListener({ protocol: 'tcp', host: '127.0.0.1', port: 0 });
    await expect(broker.startListening()).rejects.toMatchObject({ code: 'ERR_CLUSTER' });
    expect(broker.listening).toBe(false);
    await broker.close();
  });
});
