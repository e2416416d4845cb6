/**
 * `$SYS` in a cluster. Each node's `$SYS/broker/...` tree describes that node: it is never
 * forwarded to other nodes and its retained values are not shared through Redis (routing.ts,
 * ClusterStorage). Figures of the whole cluster come from the `stats` hash, where every node
 * writes its own with each heartbeat; `SysTopics` publishes them under `$SYS/broker/cluster/`.
 */
import type { BrokerCore } from '../core.js';
import type { ClusterRedis, Keys } from './scripts.js';

/** Figures of the whole cluster (as of the last heartbeat). */
export interface ClusterFigures {
  /** This node's id. */
  nodeId: string;
  /** Live nodes. */
  nodes: number;
  /** Clients connected, on all nodes. */
  clientsConnected: number;
  /** Sessions (connected clients plus disconnected persistent sessions), on all nodes. */
  clientsTotal: number;
}

export class ClusterStats {
  figures: ClusterFigures;

  constructor(
    private readonly core: BrokerCore,
    private readonly cmd: ClusterRedis,
    private readonly keys: Keys,
    private readonly me: string,
  ) {
    this.figures = { nodeId: me, nodes: 1, clientsConnected: 0, clientsTotal: 0 };
  }

  /** Writes this node's figures and reads everyone's (once per heartbeat). */
  async refresh(): Promise<void> {
    let connected = 0;
    for (const s of this.core.sessions.values()) if (s.connection !== null) connected++;
    const mine = { c: connected, t: this.core.sessions.size };
    const key = this.keys.k('stats');
    const [, [, all], [, nodes]] = (await this.cmd
      .multi()
      .hset(key, this.me, JSON.stringify(mine))
      .hgetall(key)
      .smembers(this.keys.k('nodes'))
      .exec()) as [unknown, [unknown, Record<string, string>], [unknown, string[]]];
    const live = new Set(nodes);
    let c = 0;
    let t = 0;
    for (const [node, json] of Object.entries(all)) {
      if (!live.has(node)) continue;
      const f = JSON.parse(json) as { c: number; t: number };
      c += f.c;
      t += f.t;
    }
    this.figures = { nodeId: this.me, nodes: live.size, clientsConnected: c, clientsTotal: t };
  }
}
