/**
 * Session state and retained messages in Redis: the storage of a clustered broker (any node
 * can load a client's persistent session), also usable alone. One `apply()` is one Lua script
 * run (atomic and ordered; very large batches are split into chunks of 4,000 changes). Values
 * are the checksummed records of the durable backend. Needs a standalone Redis (or Sentinel);
 * the keys of one batch are not declared for Redis Cluster slots.
 *
 * Keys: `<prefix>s:<client>` hash (`m` meta, `b:<filter>`, `o:<id>`, `i:<packet id>`),
 * `<prefix>sessions` set of client ids, `<prefix>retained` hash topic → record.
 */
import type { Redis } from 'ioredis';
import { BrokerError, BrokerErrorCode } from '../errors.js';
import {
  decodeIncoming,
  decodeOutgoing,
  decodeRetained,
  decodeSession,
  decodeSubscription,
  encodeIncoming,
  encodeOutgoing,
  encodeRetained,
  encodeSession,
  encodeSubscription,
  hex,
  RecordError,
} from '../storage/records.js';
import { type BrokerStorage, checkOps, type StorageOp, type StoredMessage, type StoredSession } from '../storage/types.js';

const APPLY = `
local p = ARGV[1]
local ch = ARGV[2]
for i = 3, #ARGV, 4 do
  local op, a, b, v = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if op == 'S' then
    redis.call('HSET', p .. 's:' .. a, 'm', v)
    redis.call('SADD', p .. 'sessions', a)
  elseif op == 'D' then
    redis.call('DEL', p .. 's:' .. a)
    redis.call('SREM', p .. 'sessions', a)
  elseif op == 'H' then
    if redis.call('HEXISTS', p .. 's:' .. a, 'm') == 1 then redis.call('HSET', p .. 's:' .. a, b, v) end
  elseif op == 'X' then
    redis.call('HDEL', p .. 's:' .. a, b)
  elseif op == 'R' then
    redis.call('HSET', p .. 'retained', a, v)
    if ch ~= '' then redis.call('PUBLISH', ch, 'R' .. v) end
  elseif op == 'Q' then
    if redis.call('HDEL', p .. 'retained', a) == 1 and ch ~= '' then redis.call('PUBLISH', ch, 'Q' .. a) end
  end
end
return 1
`;

const CHUNK = 4000;

type ApplyRedis = Redis & { iotwireApply(...args: (string | Buffer)[]): Promise<unknown> };

export interface RedisStorageOptions {
  /** Key prefix. Default `'iotwire:'`. */
  keyPrefix?: string;
  /** Channel on which retained changes are published (the cluster's); none by default. */
  retainedChannel?: string;
}

/**
 * {@link BrokerStorage} on Redis. Pass a connected ioredis client (it is not closed by
 * `close()`: the caller owns it).
 */
export class RedisStorage implements BrokerStorage {
  /** Acknowledgements wait for Redis to confirm; how durable Redis itself is depends on its `appendonly`/`appendfsync`. */
  readonly durable = true;
  readonly #redis: ApplyRedis;
  readonly #p: string;
  readonly #channel: string;

  constructor(redis: Redis, options: RedisStorageOptions = {}) {
    this.#redis = redis as ApplyRedis;
    this.#p = options.keyPrefix ?? 'iotwire:';
    this.#channel = options.retainedChannel ?? '';
    if (typeof this.#redis.iotwireApply !== 'function') redis.defineCommand('iotwireApply', { numberOfKeys: 0, lua: APPLY });
  }

  async open(): Promise<void> {}

  async apply(ops: readonly StorageOp[]): Promise<void> {
    for (const run of this.applyRuns(ops)) await this.#redis.iotwireApply(...run);
  }

  /**
   * The arguments of the APPLY script runs that make `ops` (checked); a clustered node runs
   * them inside its own per-turn transaction, together with its forwards and stream acks.
   */
  applyRuns(ops: readonly StorageOp[]): (string | Buffer)[][] {
    checkOps(ops);
    let args: (string | Buffer)[] = [this.#p, this.#channel];
    const runs: (string | Buffer)[][] = [];
    for (const op of ops) {
      switch (op.type) {
        case 'putSession':
          args.push('S', op.session.clientId, '', encodeSession(op.session));
          break;
        case 'deleteSession':
          args.push('D', op.clientId, '', '');
          break;
        case 'putSubscription':
          args.push('H', op.clientId, `b:${op.subscription.topicFilter}`, encodeSubscription(op.subscription));
          break;
        case 'deleteSubscription':
          args.push('X', op.clientId, `b:${op.topicFilter}`, '');
          break;
        case 'putOutgoing':
          args.push('H', op.clientId, `o:${hex(op.outgoing.messageId, 14)}`, encodeOutgoing(op.outgoing));
          break;
        case 'deleteOutgoing':
          args.push('X', op.clientId, `o:${hex(op.messageId, 14)}`, '');
          break;
        case 'putIncoming':
          args.push('H', op.clientId, `i:${hex(op.incoming.packetId, 4)}`, encodeIncoming(op.incoming));
          break;
        case 'deleteIncoming':
          args.push('X', op.clientId, `i:${hex(op.packetId, 4)}`, '');
          break;
        case 'putRetained':
          args.push('R', op.message.topic, '', encodeRetained(op.message));
          break;
        case 'deleteRetained':
          args.push('Q', op.topic, '', '');
          break;
      }
      if (args.length >= 2 + CHUNK * 4) {
        runs.push(args);
        args = [this.#p, this.#channel];
      }
    }
    if (args.length > 2) runs.push(args);
    return runs;
  }

  /** One client's stored session, or undefined. */
  async loadSession(clientId: string): Promise<StoredSession | undefined> {
    const h = await this.#redis.hgetallBuffer(`${this.#p}s:${clientId}`);
    return this.#decode(clientId, h);
  }

  #decode(clientId: string, h: Record<string, Buffer>): StoredSession | undefined {
    const meta = h.m;
    if (meta === undefined) return undefined;
    try {
      const s: StoredSession = { ...decodeSession(meta), subscriptions: [], outgoing: [], incoming: [] };
      const fields = Object.keys(h).sort();
      for (const f of fields) {
        const v = h[f] as Buffer;
        if (f.startsWith('b:')) s.subscriptions.push(decodeSubscription(v));
        else if (f.startsWith('o:')) s.outgoing.push(decodeOutgoing(v));
        else if (f.startsWith('i:')) s.incoming.push(decodeIncoming(v));
      }
      return s;
    } catch (err) {
      if (err instanceof RecordError)
        throw new BrokerError(BrokerErrorCode.StorageCorrupt, `session ${JSON.stringify(clientId)} in Redis is damaged: ${err.message}`, {
          cause: err,
        });
      throw err;
    }
  }

  async loadSessions(): Promise<StoredSession[]> {
    const ids = await this.#redis.smembers(`${this.#p}sessions`);
    const out: StoredSession[] = [];
    for (const id of ids) {
      const s = await this.loadSession(id);
      if (s !== undefined) out.push(s);
    }
    return out;
  }

  async loadRetained(): Promise<StoredMessage[]> {
    const h = await this.#redis.hgetallBuffer(`${this.#p}retained`);
    return Object.values(h).map((v) => decodeRetained(v));
  }

  async close(): Promise<void> {}
}
