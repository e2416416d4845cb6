/**
 * The node's one write path to Redis: everything a turn of the event loop produced — session
 * changes (from the broker's Persister, through {@link ClusterStorage}), forwards to other
 * nodes' streams, registry and Will changes, and the acknowledgement of the node's own stream
 * entries — goes out as ONE MULTI/EXEC per turn, while the next turn's batch grows.
 *
 * One transaction is what makes the failure story simple: a stream entry counts as consumed
 * (`fwdack:<node>`) in the same transaction that commits what it did to the sessions (and any
 * hand-on to another node), so a reaper re-delivers exactly the entries whose effects are not
 * in Redis — none lost, none twice. A Will leaves the schedule in the transaction that carries
 * its publication.
 */
import type { ChainableCommander } from 'ioredis';
import type { GatedOutput } from '../persistence.js';
import type { StorageOp } from '../storage/types.js';
import { RedisStorage, type RedisStorageOptions } from './redis-storage.js';
import type { ClusterRedis, Keys } from './scripts.js';

type Cmd = (string | Buffer | number)[];
type After = { mark: number; node?: string; id?: string; cmd?: Cmd };

interface Batch {
  storage: (string | Buffer)[][];
  storageDone: (() => void)[];
  storageFailed: ((err: unknown) => void)[];
  fwd: Map<string, Buffer[]>;
  cmds: Cmd[];
  gated: Set<GatedOutput>;
  ownerChecks: Set<string>;
}

function newBatch(): Batch {
  return { storage: [], storageDone: [], storageFailed: [], fwd: new Map(), cmds: [], gated: new Set(), ownerChecks: new Set() };
}

function isEmpty(b: Batch): boolean {
  return b.storageDone.length === 0 && b.fwd.size === 0 && b.cmds.length === 0 && b.gated.size === 0 && b.ownerChecks.size === 0;
}

export interface CommitterHooks {
  /** Commands to run first in each transaction (the node's filter announcements). */
  prelude(): Cmd[];
  preludeDirty(): boolean;
  /** Client ids whose session ended here: freed unless a session took them again. */
  stillHeld(clientId: string): boolean;
  onError(err: unknown): void;
}

export class Committer {
  /** Forwards and registry changes queued so far (callers compare it around a packet). */
  queued = 0;
  /** Storage changes handed over by the Persister so far (see {@link ack}). */
  handed = 0;
  #open = newBatch();
  #scheduled = false;
  #writing: Promise<void> | null = null;
  #closed = false;
  /** Commands waiting until the storage changes they follow are handed over (stream and Will acks). */
  #after: After[] = [];
  /** Nodes known dead (until they announce filters again). */
  readonly #dead = new Set<string>();

  constructor(
    private readonly cmd: ClusterRedis,
    private readonly keys: Keys,
    private readonly me: string,
    private readonly streamMaxLength: number,
    private readonly hooks: CommitterHooks,
  ) {}

  /** Queues one Redis command for this turn's transaction. */
  queue(...cmd: Cmd): void {
    this.#open.cmds.push(cmd);
    this.queued++;
    this.schedule();
  }

  /** Queues a frame for another node's stream (one XADD per node per turn). */
  forward(node: string, frame: Buffer): void {
    let frames = this.#open.fwd.get(node);
    if (frames === undefined) {
      frames = [];
      this.#open.fwd.set(node, frames);
    }
    frames.push(frame);
    this.queued++;
    this.schedule();
  }

  nodeDead(node: string, dead: boolean): void {
    if (dead) this.#dead.add(node);
    else this.#dead.delete(node);
  }

  /** Holds `conn`'s output until what was queued in this turn is in Redis. */
  gate(conn: GatedOutput): void {
    if (this.#open.gated.has(conn)) return;
    conn.holdOutput();
    this.#open.gated.add(conn);
    this.schedule();
  }

  sessionEnded(clientId: string): void {
    this.#open.ownerChecks.add(clientId);
    this.queued++;
    this.schedule();
  }

  /** Storage changes (APPLY script runs); resolves once their transaction is done. */
  storage(runs: (string | Buffer)[][], count: number): Promise<void> {
    this.handed += count;
    return new Promise<void>((resolve, reject) => {
      const b = this.#open;
      b.storage.push(...runs);
      b.storageDone.push(resolve);
      b.storageFailed.push(reject);
      this.schedule();
    });
  }

  /**
   * `node`'s stream is consumed up to `id` once the storage changes pushed so far (`mark`, the
   * Persister's count) are handed over: the ack then rides in the same transaction as them.
   */
  ack(node: string, id: string, mark: number): void {
    this.#after.push({ node, id, mark });
    this.schedule();
  }

  /** Runs `cmd` in the transaction that carries the storage changes pushed so far (`mark`), or a later one. */
  after(mark: number, ...cmd: Cmd): void {
    this.#after.push({ mark, cmd });
    this.queued++;
    this.schedule();
  }

  schedule(): void {
    if (this.#scheduled || this.#writing !== null || this.#closed) return;
    this.#scheduled = true;
    setImmediate(this.#commit);
  }

  #pending(): boolean {
    return !isEmpty(this.#open) || this.hooks.preludeDirty() || this.#after.some((a) => a.mark <= this.handed);
  }

  #commit = (): void => {
    this.#scheduled = false;
    if (this.#writing !== null || !this.#pending()) return;
    const b = this.#open;
    this.#open = newBatch();
    const k = this.keys;
    const multi = this.cmd.multi() as ChainableCommander & {
      iotwireApply(...a: (string | Buffer)[]): unknown;
      iotwireFree(key: string, me: string): unknown;
    };
    for (const run of b.storage) multi.iotwireApply(...run);
    for (const [node, frames] of b.fwd) {
      const body = frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames);
      // A dead node's stream only gets late fences: they must not bring a reaped stream back.
      if (this.#dead.has(node)) multi.xadd(k.k('fwd', node), 'NOMKSTREAM', 'MAXLEN', '~', this.streamMaxLength, '*', 'm', body);
      else multi.xadd(k.k('fwd', node), 'MAXLEN', '~', this.streamMaxLength, '*', 'm', body);
    }
    for (const c of this.hooks.prelude()) multi.call(c[0] as string, ...(c.slice(1) as (string | Buffer | number)[]));
    for (const c of b.cmds) multi.call(c[0] as string, ...(c.slice(1) as (string | Buffer | number)[]));
    // Stream acks whose storage changes are in this transaction or an earlier one.
    const last = new Map<string, string>();
    const keep: After[] = [];
    for (const a of this.#after) {
      if (a.mark > this.handed) keep.push(a);
      else if (a.cmd !== undefined) multi.call(a.cmd[0] as string, ...(a.cmd.slice(1) as (string | Buffer | number)[]));
      else last.set(a.node as string, a.id as string);
    }
    this.#after = keep;
    for (const [node, id] of last) {
      multi.set(k.k('fwdack', node), id);
      if (node === this.me) multi.xtrim(k.k('fwd', node), 'MINID', id);
    }
    // Client ids whose session ended here, unless a new session took them in the meantime.
    for (const cid of b.ownerChecks) {
      if (this.hooks.stillHeld(cid)) continue;
      multi.srem(k.k('clients', this.me), cid);
      multi.iotwireFree(k.k('owner', cid), this.me);
    }
    this.#writing = this.#exec(multi, b);
  };

  async #exec(multi: ChainableCommander, b: Batch): Promise<void> {
    let failed: unknown;
    try {
      const res = await multi.exec();
      if (res === null) failed = new Error('transaction aborted');
      for (const [err] of res ?? []) if (err) failed ??= err;
    } catch (err) {
      failed = err;
    }
    for (const c of b.gated) {
      if (failed === undefined) c.releaseOutput();
      else c.failOutput('cluster write failed');
    }
    if (failed === undefined) for (const f of b.storageDone) f();
    else for (const f of b.storageFailed) f(failed);
    if (failed !== undefined && b.storageFailed.length === 0) this.hooks.onError(failed);
    this.#writing = null;
    if (this.#pending()) this.schedule();
  }

  /** Resolves once everything queued so far is in Redis. */
  async flush(): Promise<void> {
    for (let i = 0; i < 1000; i++) {
      if (this.#writing !== null) {
        await this.#writing;
        continue;
      }
      if (!this.#pending()) return;
      this.#commit();
    }
  }

  /** Nothing more is written (after the last flush). */
  close(): void {
    this.#closed = true;
  }
}

/**
 * A clustered broker's storage: RedisStorage whose writes go through the node's per-turn
 * transaction. `$SYS` retained messages stay on their node (each node has its own `$SYS`).
 */
export class ClusterStorage extends RedisStorage {
  committer: Committer | null = null;
  constructor(redis: ClusterRedis, options: RedisStorageOptions) {
    super(redis, options);
  }
  override async apply(ops: readonly StorageOp[]): Promise<void> {
    const c = this.committer;
    if (c === null) return super.apply(ops);
    const shared = ops.filter(
      (op) => !(op.type === 'putRetained' ? op.message.topic : op.type === 'deleteRetained' ? op.topic : '').startsWith('$'),
    );
    await c.storage(this.applyRuns(shared), ops.length);
  }
}
