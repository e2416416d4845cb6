// The Redis backend (a clustered broker's session store) runs the same storage contract,
// against Debian's redis-server.
import { randomBytes } from 'node:crypto';
import { startRedis } from '@iotwire/interop';
import { storageContract } from '@iotwire/mqtt-broker/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStorage } from '../src/index.js';

let redis: Redis;
let stop: () => Promise<void>;
beforeAll(async () => {
  const peer = await startRedis();
  stop = peer.stop;
  redis = new Redis(peer.url);
});
afterAll(async () => {
  redis.disconnect();
  await stop();
});

const prefixes = new WeakMap<object, string>();
storageContract(
  'RedisStorage',
  { describe, it, expect },
  async () => {
    const keyPrefix = `t${randomBytes(4).toString('hex')}:`;
    const s = new RedisStorage(redis, { keyPrefix });
    prefixes.set(s, keyPrefix);
    return s;
  },
  async (old) => {
    const keyPrefix = prefixes.get(old) as string;
    const s = new RedisStorage(redis, { keyPrefix });
    prefixes.set(s, keyPrefix);
    return s;
  },
);
