import { randomBytes } from 'node:crypto';
import type { RedisOptions } from 'ioredis';
import { BrokerError, BrokerErrorCode } from '../errors.js';

/** `cluster` option of the broker: several broker processes on one Redis form one broker. */
export interface ClusterOptions {
  /** Redis to use: a `redis://` URL or ioredis options. */
  redis: string | RedisOptions;
  /**
   * This node's id, unique in the cluster. Default: random per process. Give a stable id to
   * have a restarted node take back (and publish the Wills of) what its previous run owned
   * at once, rather than after `nodeTimeout`.
   */
  nodeId?: string;
  /** Prefix of every Redis key and channel. Default `'iotwire:'`. */
  keyPrefix?: string;
  /** Heartbeat period, ms. Default 1000. */
  heartbeatInterval?: number;
  /** A node silent this long (ms) is dead: its clients' Wills are published, its sessions adopted. Default 5000. */
  nodeTimeout?: number;
  /** How long a take-over waits for the node holding the client (ms) before forcing it. Default 3000. */
  takeoverTimeout?: number;
  /** Forwarded messages kept per node stream while that node lags (Redis XADD MAXLEN ~). Default 100,000. */
  streamMaxLength?: number;
}

export interface ResolvedClusterOptions {
  redis: string | RedisOptions;
  nodeId: string;
  keyPrefix: string;
  heartbeatInterval: number;
  nodeTimeout: number;
  takeoverTimeout: number;
  streamMaxLength: number;
}

function ms(name: string, v: number | undefined, def: number, min: number): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || v < min || v > 3_600_000)
    throw new BrokerError(BrokerErrorCode.InvalidArgument, `cluster.${name} must be an integer in ${min}..3600000, got ${String(v)}`);
  return v;
}

export function resolveClusterOptions(o: ClusterOptions): ResolvedClusterOptions {
  if (o === null || typeof o !== 'object' || (typeof o.redis !== 'string' && (o.redis === null || typeof o.redis !== 'object')))
    throw new BrokerError(BrokerErrorCode.InvalidArgument, 'cluster.redis must be a redis:// URL or ioredis options');
  const nodeId = o.nodeId ?? randomBytes(6).toString('hex');
  if (typeof nodeId !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(nodeId))
    throw new BrokerError(BrokerErrorCode.InvalidArgument, 'cluster.nodeId must be 1-64 characters of A-Z a-z 0-9 . _ -');
  const heartbeatInterval = ms('heartbeatInterval', o.heartbeatInterval, 1000, 50);
  const nodeTimeout = ms('nodeTimeout', o.nodeTimeout, 5000, 100);
  if (nodeTimeout <= heartbeatInterval * 2)
    throw new BrokerError(BrokerErrorCode.InvalidArgument, 'cluster.nodeTimeout must be more than twice cluster.heartbeatInterval');
  return {
    redis: o.redis,
    nodeId,
    keyPrefix: o.keyPrefix ?? 'iotwire:',
    heartbeatInterval,
    nodeTimeout,
    takeoverTimeout: ms('takeoverTimeout', o.takeoverTimeout, 3000, 100),
    streamMaxLength: ms('streamMaxLength', o.streamMaxLength, 100_000, 100),
  };
}
