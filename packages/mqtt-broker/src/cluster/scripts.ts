/**
 * The Redis side of the cluster: key names and the Lua scripts whose atomicity the design
 * relies on (a client id changes hands, a dead node's Wills move to the schedule, a due Will
 * is leased to one node). Everything else is plain commands in the per-turn transaction.
 *
 * Keys (under the key prefix):
 * - `nodes` set of node ids; `alive:<node>` = run id (TTL nodeTimeout); `beat:<node>` = last
 *   heartbeat (ms), the moment a dead node's clients lost their connections;
 * - `filters:<node>` hash of the filters it serves; `fwd:<node>` its stream of forwarded
 *   messages; `fwdack:<node>` the last entry committed into its sessions;
 * - `owner:<client>` = node holding the client id; `clients:<node>` set of client ids it holds;
 * - `wills:<node>` hash client → `<delay s>\n<frame>`: Wills of its connected clients;
 * - `willdue` zset client → due time (ms), `willmsg` hash client → frame, `willlease` hash
 *   client → `<node> <run>`: Wills waiting for their delay or for a node to publish them;
 * - `stats` hash node → JSON figures (for `$SYS/broker/cluster/...`); `reap:<node>` lock.
 */
import type { Redis } from 'ioredis';

export type ClusterRedis = Redis & {
  iotwireClaim(ownerKey: string, me: string, expected: string, cid: string, prefix: string, clean: string, now: number): Promise<string>;
  iotwireAdopt(ownerKey: string, sessionKey: string, clientsKey: string, dead: string, me: string, cid: string): Promise<string>;
  iotwireFree(ownerKey: string, me: string): Promise<number>;
  iotwireMoveWills(prefix: string, node: string, death: number): Promise<number>;
  iotwireDueWillsBuffer(prefix: string, lease: string, now: number, limit: number): Promise<Buffer[]>;
  iotwireAckWill(prefix: string, cid: string, lease: string): Promise<number>;
};

/** Key names of one cluster (one prefix). */
export class Keys {
  constructor(readonly prefix: string) {}
  k(...parts: string[]): string {
    return this.prefix + parts.join(':');
  }
  get events(): string {
    return `${this.prefix}events`;
  }
}

// Parses `<delay>\n<frame>` (a registered Will) in Lua.
const SPLIT_WILL = `
local function splitwill(v)
  local i = string.find(v, '\\n', 1, true)
  return tonumber(string.sub(v, 1, i - 1)), string.sub(v, i + 1)
end`;

/**
 * Takes a client id (free, ours, or held by `expected`, the node asked to release it), and
 * settles the client's Wills in the same step, as one broker would at CONNECT:
 * - a Will the previous holder registered (it died or did not answer) is due now when it has
 *   no delay or the new connection starts clean (the old session ends); otherwise the client
 *   is back within the delay and it is dropped [MQTT-3.1.3-9];
 * - a Will waiting for its delay is dropped (resumed) or made due now (clean start).
 */
const CLAIM = `${SPLIT_WILL}
local me, expected, cid, p, clean, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= me and not (expected ~= '' and cur == expected) then return cur end
redis.call('SET', KEYS[1], me)
-- In the same step: should this node die before its next commit, its reaper adopts the session.
redis.call('SADD', p .. 'clients:' .. me, cid)
if cur and cur ~= me then
  local w = redis.call('HGET', p .. 'wills:' .. cur, cid)
  if w then
    redis.call('HDEL', p .. 'wills:' .. cur, cid)
    local delay, frame = splitwill(w)
    if clean == '1' or delay == 0 then
      redis.call('ZADD', p .. 'willdue', now, cid)
      redis.call('HSET', p .. 'willmsg', cid, frame)
      redis.call('HDEL', p .. 'willlease', cid)
      return ''
    end
  end
end
if redis.call('ZSCORE', p .. 'willdue', cid) then
  if clean == '1' then
    redis.call('ZADD', p .. 'willdue', 0, cid)
  else
    redis.call('ZREM', p .. 'willdue', cid)
    redis.call('HDEL', p .. 'willmsg', cid)
    redis.call('HDEL', p .. 'willlease', cid)
  end
end
return ''`;

/** A dead node's client id: adopt its persistent session (listed as this node's at once), or free it. */
const ADOPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'other' end
if redis.call('HEXISTS', KEYS[2], 'm') == 1 then
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('SADD', KEYS[3], ARGV[3])
  return 'adopt'
end
redis.call('DEL', KEYS[1])
return 'free'`;

/**
 * The holder of a client id lets it go to the node that asked (in the transaction that writes
 * the session out): from then on that node's reaper adopts the session should it die before it
 * claims it.
 */
export const HANDOFF = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
return 1`;

const FREE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * A dead node's registered Wills move to the schedule in one step, each due at the node's
 * death plus its delay: a reaper that dies halfway leaves them either registered or scheduled.
 */
const MOVE_WILLS = `${SPLIT_WILL}
local p, node, death = ARGV[1], ARGV[2], tonumber(ARGV[3])
local h = redis.call('HGETALL', p .. 'wills:' .. node)
for i = 1, #h, 2 do
  local delay, frame = splitwill(h[i + 1])
  redis.call('ZADD', p .. 'willdue', death + delay * 1000, h[i])
  redis.call('HSET', p .. 'willmsg', h[i], frame)
  redis.call('HDEL', p .. 'willlease', h[i])
end
redis.call('DEL', p .. 'wills:' .. node)
return #h / 2`;

/**
 * Leases up to `limit` due Wills to this node run: a Will leased to another run that is still
 * alive is left alone; one leased to a run that died (crashed while publishing) is leased
 * again. (This run scans one batch at a time, so its own lease means an earlier scan's commit
 * failed: it tries again.)
 * The lease ends with the commit that carries the Will's publication (ACK_WILL).
 */
const DUE_WILLS = `
local p, lease, now, limit = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local out = {}
for _, cid in ipairs(redis.call('ZRANGEBYSCORE', p .. 'willdue', '-inf', now, 'LIMIT', 0, limit)) do
  local l = redis.call('HGET', p .. 'willlease', cid)
  local free = true
  if l and l ~= lease then
    local sp = string.find(l, ' ', 1, true)
    free = redis.call('GET', p .. 'alive:' .. string.sub(l, 1, sp - 1)) ~= string.sub(l, sp + 1)
  end
  local frame = redis.call('HGET', p .. 'willmsg', cid)
  if free and frame then
    redis.call('HSET', p .. 'willlease', cid, lease)
    table.insert(out, cid)
    table.insert(out, frame)
  elseif not frame then
    redis.call('ZREM', p .. 'willdue', cid)
  end
end
return out`;

/** The Will is published (in this same transaction): it leaves the schedule, if still ours. */
export const ACK_WILL = `
local p, cid, lease = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', p .. 'willlease', cid) ~= lease then return 0 end
redis.call('ZREM', p .. 'willdue', cid)
redis.call('HDEL', p .. 'willmsg', cid)
redis.call('HDEL', p .. 'willlease', cid)
return 1`;

export function defineScripts(cmd: Redis): ClusterRedis {
  cmd.defineCommand('iotwireClaim', { numberOfKeys: 1, lua: CLAIM });
  cmd.defineCommand('iotwireAdopt', { numberOfKeys: 3, lua: ADOPT });
  cmd.defineCommand('iotwireFree', { numberOfKeys: 1, lua: FREE });
  cmd.defineCommand('iotwireMoveWills', { numberOfKeys: 0, lua: MOVE_WILLS });
  cmd.defineCommand('iotwireDueWills', { numberOfKeys: 0, lua: DUE_WILLS });
  cmd.defineCommand('iotwireAckWill', { numberOfKeys: 0, lua: ACK_WILL });
  return cmd as ClusterRedis;
}
