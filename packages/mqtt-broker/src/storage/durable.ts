/**
 * The durable embedded backend: LevelDB through `classic-level` (its prebuilt binaries ship in
 * the npm package). Chosen by measurement over SQLite: it commits a synchronous batch on the
 * libuv pool, so the event loop keeps serving clients while a group commit is fsync'd, and it
 * was faster per commit on the broker's write pattern (see BENCHMARKS.md, `broker-prod`).
 *
 * Keys: `s!<client>` session, `b!<client>\0<filter>` subscription, `o!<client>\0<id>` outgoing
 * copy, `i!<client>\0<packet id>` inbound QoS 2 id, `r!<topic>` retained, `!format` version.
 * Every value is a checksummed record (records.ts). One `apply()` is one atomic LevelDB batch
 * written with `sync: true`; within it the last change of a key wins.
 */
import { mkdirSync, renameSync } from 'node:fs';
import { ClassicLevel } from 'classic-level';
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
  RECORD_FORMAT,
  RecordError,
} from './records.js';
import { type BrokerStorage, checkOps, type StorageOp, type StoredMessage, type StoredSession } from './types.js';

/** What to do when the store is found damaged at open. */
export type CorruptionPolicy = 'fail' | 'repair' | 'reset';

export interface DurableStorageOptions {
  /** Directory of the database (created if missing). */
  directory: string;
  /**
   * A damaged store (unreadable database files, records failing their checksum, a missing
   * format marker): `'fail'` (default) refuses to open with a {@link StorageCorruptionError}
   * that lists the damage; `'repair'` runs LevelDB's repair and deletes the records that
   * still fail (what is readable is kept); `'reset'` moves the directory aside to
   * `<directory>.corrupt-<time>` and starts empty. Each action is reported through `onReport`.
   */
  onCorruption?: CorruptionPolicy;
  /** fsync every batch (default true). False trades the crash guarantee for speed. */
  sync?: boolean;
  /** Where repair/reset actions are reported. Default: `process.emitWarning`. */
  onReport?: (message: string) => void;
}

/** The store is damaged; `problems` says where. Open again with `onCorruption: 'repair'` or `'reset'`. */
export class StorageCorruptionError extends BrokerError {
  constructor(
    readonly directory: string,
    readonly problems: readonly string[],
  ) {
    super(
      BrokerErrorCode.StorageCorrupt,
      `durable storage at ${directory} is damaged (${problems.length} problem${problems.length === 1 ? '' : 's'}: ${problems
        .slice(0, 3)
        .join(
          '; ',
        )}${problems.length > 3 ? '; …' : ''}). Open it with onCorruption: 'repair' to keep what is readable, or 'reset' to move it aside and start empty`,
    );
  }
}

const FORMAT_KEY = '!format';

function encodeOp(op: StorageOp): Buffer {
  switch (op.type) {
    case 'putSession':
      return encodeSession(op.session);
    case 'putSubscription':
      return encodeSubscription(op.subscription);
    case 'putOutgoing':
      return encodeOutgoing(op.outgoing);
    case 'putIncoming':
      return encodeIncoming(op.incoming);
    case 'putRetained':
      return encodeRetained(op.message);
    default:
      throw new BrokerError(BrokerErrorCode.Storage, `not a put: ${op.type}`);
  }
}
const SEP = '\u0000';

type Db = ClassicLevel<string, Buffer>;

function isCorruption(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown; message?: string } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    if (e.code === 'LEVEL_CORRUPTION' || /Corruption/i.test(e.message ?? '')) return true;
  }
  return false;
}
function isLocked(err: unknown): boolean {
  for (let e = err as { code?: string; cause?: unknown } | undefined, i = 0; e && i < 5; e = e.cause as typeof e, i++) {
    if (e.code === 'LEVEL_LOCKED') return true;
  }
  return false;
}

/** Opens (creating if needed) the durable backend. The returned storage is opened already. */
export async function createDurableStorage(options: DurableStorageOptions): Promise<BrokerStorage> {
  const s = new LevelStorage(options);
  await s.open();
  return s;
}

class LevelStorage implements BrokerStorage {
  readonly durable: boolean;
  readonly #dir: string;
  readonly #policy: CorruptionPolicy;
  readonly #report: (message: string) => void;
  #db: Db | null = null;
  #opening: Promise<void> | null = null;
  /** Child keys per session: deleteSession removes them in the same atomic batch. */
  readonly #children = new Map<string, Set<string>>();

  constructor(o: DurableStorageOptions) {
    if (typeof o.directory !== 'string' || o.directory === '')
      throw new BrokerError(BrokerErrorCode.InvalidArgument, 'createDurableStorage: directory is required');
    const policy = o.onCorruption ?? 'fail';
    if (policy !== 'fail' && policy !== 'repair' && policy !== 'reset')
      throw new BrokerError(BrokerErrorCode.InvalidArgument, `onCorruption must be 'fail', 'repair' or 'reset', got ${String(policy)}`);
    this.#dir = o.directory;
    this.#policy = policy;
    this.durable = o.sync ?? true;
    this.#report = o.onReport ?? ((m) => process.emitWarning(m, { code: 'IOTWIRE_STORAGE' }));
  }

  open(): Promise<void> {
    if (this.#db !== null) return Promise.resolve();
    this.#opening ??= this.#open().finally(() => {
      this.#opening = null;
    });
    return this.#opening;
  }

  async #open(): Promise<void> {
    mkdirSync(this.#dir, { recursive: true });
    let repaired = false;
    for (let attempt = 0; attempt < 3; attempt++) {
      let db: Db;
      try {
        db = await this.#openDb();
      } catch (err) {
        if (isLocked(err)) {
          throw new BrokerError(BrokerErrorCode.Storage, `durable storage at ${this.#dir} is in use by another process`, { cause: err });
        }
        if (!isCorruption(err))
          throw new BrokerError(BrokerErrorCode.Storage, `cannot open durable storage at ${this.#dir}: ${(err as Error).message}`, {
            cause: err,
          });
        const cause = (err as Error).cause instanceof Error ? ((err as Error).cause as Error) : (err as Error);
        const problem = `database files: ${cause.message}`;
        if (this.#policy === 'fail') throw new StorageCorruptionError(this.#dir, [problem]);
        if (this.#policy === 'reset') db = await this.#reset([problem]);
        else {
          this.#report(`durable storage at ${this.#dir}: ${problem}; running LevelDB repair`);
          await ClassicLevel.repair(this.#dir);
          repaired = true;
          db = await this.#openDb();
        }
      }
      const problems = await this.#scan(db);
      if (problems.bad.length === 0 && problems.general.length === 0) {
        this.#db = db;
        return;
      }
      const list = [...problems.general, ...problems.bad.map((b) => `${JSON.stringify(b.key)}: ${b.why}`)];
      await db.close();
      if (this.#policy === 'fail') throw new StorageCorruptionError(this.#dir, list);
      if (this.#policy === 'reset' || (problems.general.length > 0 && repaired)) {
        // Reset, or a repair that did not make the files readable: start empty (moved aside).
        await this.#reset(list).then((d) => d.close());
        continue;
      }
      if (problems.general.length > 0) {
        // Unreadable blocks: LevelDB's repair rebuilds the tables from what is readable.
        this.#report(`durable storage at ${this.#dir}: ${list[0]}; running LevelDB repair`);
        await ClassicLevel.repair(this.#dir);
        repaired = true;
        continue;
      }
      db = await this.#openDb();
      await db.batch(
        problems.bad.map((b) => ({ type: 'del' as const, key: b.key })),
        { sync: true },
      );
      await db.put(FORMAT_KEY, Buffer.from(String(RECORD_FORMAT)), { sync: true });
      this.#report(
        `durable storage at ${this.#dir} repaired: removed ${problems.bad.length} damaged record(s) (${list.slice(0, 5).join('; ')})`,
      );
      // Children of removed sessions are orphans now: forget and delete them.
      await this.#dropOrphans(db);
      this.#db = db;
      return;
    }
    throw new StorageCorruptionError(this.#dir, ['still damaged after repair and reset']);
  }

  async #openDb(): Promise<Db> {
    const db = new ClassicLevel<string, Buffer>(this.#dir, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
    await db.open();
    return db;
  }

  async #reset(problems: string[]): Promise<Db> {
    const aside = `${this.#dir}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    renameSync(this.#dir, aside);
    mkdirSync(this.#dir, { recursive: true });
    this.#report(`durable storage at ${this.#dir} was damaged (${problems.slice(0, 3).join('; ')}); moved to ${aside}, starting empty`);
    return this.#openDb();
  }

  /** Reads every record once: builds the child-key index and lists what fails to decode. */
  async #scan(db: Db): Promise<{ bad: { key: string; why: string }[]; general: string[] }> {
    const bad: { key: string; why: string }[] = [];
    const general: string[] = [];
    this.#children.clear();
    let format: string | undefined;
    let count = 0;
    try {
      for await (const [key, value] of db.iterator()) {
        count++;
        if (key === FORMAT_KEY) {
          format = value.toString();
          continue;
        }
        try {
          this.#check(key, value);
        } catch (err) {
          bad.push({ key, why: (err as Error).message });
        }
      }
    } catch (err) {
      if (!isCorruption(err)) throw err;
      general.push(`database files: ${(err as Error).message}`);
    }
    if (format === undefined) {
      if (count === 0) await db.put(FORMAT_KEY, Buffer.from(String(RECORD_FORMAT)), { sync: true });
      else general.push('format marker missing');
    } else if (Number(format) > RECORD_FORMAT) {
      await db.close();
      throw new BrokerError(
        BrokerErrorCode.StorageVersion,
        `durable storage at ${this.#dir} has format ${format}; this version reads format ${RECORD_FORMAT}`,
      );
    } else if (Number(format) !== RECORD_FORMAT) general.push(`unknown format marker ${JSON.stringify(format)}`);
    return { bad, general };
  }

  #check(key: string, value: Buffer): void {
    const kind = key.slice(0, 2);
    const sep = key.indexOf(SEP);
    switch (kind) {
      case 's!':
        decodeSession(value);
        this.#childrenOf(key.slice(2));
        return;
      case 'b!':
        decodeSubscription(value);
        break;
      case 'o!':
        decodeOutgoing(value);
        break;
      case 'i!':
        decodeIncoming(value);
        break;
      case 'r!':
        decodeRetained(value);
        return;
      default:
        throw new RecordError('unknown key');
    }
    if (sep < 0) throw new RecordError('malformed key');
    this.#childrenOf(key.slice(2, sep)).add(key);
  }

  #childrenOf(clientId: string): Set<string> {
    let set = this.#children.get(clientId);
    if (set === undefined) {
      set = new Set();
      this.#children.set(clientId, set);
    }
    return set;
  }

  async #dropOrphans(db: Db): Promise<void> {
    const sessions = new Set<string>();
    for await (const key of db.keys({ gte: 's!', lt: 's"' })) sessions.add(key.slice(2));
    const orphans: string[] = [];
    for (const [cid, keys] of this.#children) {
      if (!sessions.has(cid)) {
        orphans.push(...keys);
        this.#children.delete(cid);
      }
    }
    if (orphans.length > 0)
      await db.batch(
        orphans.map((key) => ({ type: 'del' as const, key })),
        { sync: true },
      );
  }

  #need(): Db {
    if (this.#db === null) throw new BrokerError(BrokerErrorCode.InvalidState, 'durable storage is not open');
    return this.#db;
  }

  async apply(ops: readonly StorageOp[]): Promise<void> {
    const db = this.#need();
    checkOps(ops);
    // Last change per key wins (the batch is atomic, so only its end state matters), and
    // records are encoded only for what is finally written: a copy stored and acknowledged
    // within one batch costs no write at all.
    const writes = new Map<string, StorageOp | null>();
    const fresh = new Set<string>(); // keys first created in this batch
    for (const op of ops) {
      switch (op.type) {
        case 'putSession': {
          const cid = op.session.clientId;
          if (!this.#children.has(cid)) this.#children.set(cid, new Set());
          writes.set(`s!${cid}`, op);
          break;
        }
        case 'deleteSession': {
          const keys = this.#children.get(op.clientId);
          if (keys === undefined) break;
          for (const k of keys) this.#del(writes, fresh, k);
          this.#del(writes, fresh, `s!${op.clientId}`);
          this.#children.delete(op.clientId);
          break;
        }
        case 'putSubscription':
          this.#child(writes, fresh, op.clientId, `b!${op.clientId}${SEP}${op.subscription.topicFilter}`, op);
          break;
        case 'deleteSubscription':
          this.#child(writes, fresh, op.clientId, `b!${op.clientId}${SEP}${op.topicFilter}`, null);
          break;
        case 'putOutgoing':
          this.#child(writes, fresh, op.clientId, `o!${op.clientId}${SEP}${hex(op.outgoing.messageId, 14)}`, op);
          break;
        case 'deleteOutgoing':
          this.#child(writes, fresh, op.clientId, `o!${op.clientId}${SEP}${hex(op.messageId, 14)}`, null);
          break;
        case 'putIncoming':
          this.#child(writes, fresh, op.clientId, `i!${op.clientId}${SEP}${hex(op.incoming.packetId, 4)}`, op);
          break;
        case 'deleteIncoming':
          this.#child(writes, fresh, op.clientId, `i!${op.clientId}${SEP}${hex(op.packetId, 4)}`, null);
          break;
        case 'putRetained':
          writes.set(`r!${op.message.topic}`, op);
          break;
        case 'deleteRetained':
          writes.set(`r!${op.topic}`, null);
          break;
      }
    }
    if (writes.size === 0) return;
    const batch = db.batch();
    for (const [key, op] of writes) {
      if (op === null) batch.del(key);
      else batch.put(key, encodeOp(op));
    }
    await batch.write({ sync: this.durable });
  }

  #del(writes: Map<string, StorageOp | null>, fresh: Set<string>, key: string): void {
    if (fresh.delete(key))
      writes.delete(key); // never written: nothing to delete
    else writes.set(key, null);
  }

  #child(writes: Map<string, StorageOp | null>, fresh: Set<string>, clientId: string, key: string, op: StorageOp | null): void {
    const keys = this.#children.get(clientId);
    if (keys === undefined) return; // no such session: ignored (contract)
    if (op === null) {
      if (keys.delete(key) || writes.has(key)) this.#del(writes, fresh, key);
      return;
    }
    if (!keys.has(key)) {
      keys.add(key);
      if (!writes.has(key)) fresh.add(key);
    }
    writes.set(key, op);
  }

  async loadSessions(): Promise<StoredSession[]> {
    const db = this.#need();
    const byId = new Map<string, StoredSession>();
    const where = (key: string) => {
      const sep = key.indexOf(SEP);
      return byId.get(key.slice(2, sep));
    };
    try {
      for await (const [key, value] of db.iterator({ gte: 's!', lt: 's"' })) {
        const meta = decodeSession(value);
        byId.set(key.slice(2), { ...meta, subscriptions: [], outgoing: [], incoming: [] });
      }
      for await (const [key, value] of db.iterator({ gte: 'b!', lt: 'b"' })) where(key)?.subscriptions.push(decodeSubscription(value));
      for await (const [key, value] of db.iterator({ gte: 'o!', lt: 'o"' })) where(key)?.outgoing.push(decodeOutgoing(value));
      for await (const [key, value] of db.iterator({ gte: 'i!', lt: 'i"' })) where(key)?.incoming.push(decodeIncoming(value));
    } catch (err) {
      throw this.#readError(err);
    }
    return [...byId.values()];
  }

  async loadRetained(): Promise<StoredMessage[]> {
    const db = this.#need();
    const out: StoredMessage[] = [];
    try {
      for await (const value of db.values({ gte: 'r!', lt: 'r"' })) out.push(decodeRetained(value));
    } catch (err) {
      throw this.#readError(err);
    }
    return out;
  }

  #readError(err: unknown): Error {
    if (err instanceof RecordError || isCorruption(err)) return new StorageCorruptionError(this.#dir, [(err as Error).message]);
    return new BrokerError(BrokerErrorCode.Storage, `durable storage read failed: ${(err as Error).message}`, { cause: err });
  }

  async close(): Promise<void> {
    if (this.#opening) await this.#opening.catch(() => {});
    const db = this.#db;
    this.#db = null;
    if (db !== null) await db.close();
  }
}
