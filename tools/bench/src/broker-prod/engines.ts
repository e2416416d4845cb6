// Embedded storage engines for the broker's durable backend, measured on its write pattern:
// group commits of `batch` records (a ~200-byte outgoing-message record each; half of them
// deleted again in the next batch, as acknowledged messages are), one synchronous
// (fsync'd) commit per batch. LevelDB (`classic-level`, the broker's dependency) always; the
// SQLite bindings only when they can be loaded from `--sqlite-dir` (they are not dependencies:
// `better-sqlite3` downloads a prebuilt binary from GitHub or compiles with node-gyp at install
// time, `node-sqlite3-wasm` is pure WebAssembly).
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClassicLevel } from 'classic-level';

export interface EngineResult {
  engine: string;
  /** Records committed per second (durable). */
  recordsPerSec: number;
  /** Commits (fsyncs) per second. */
  commitsPerSec: number;
  /** Longest time the event loop was blocked by one commit, ms (0 for engines that write off-thread). */
  maxBlockMs: number;
  note: string;
}

const record = (i: number): Buffer => {
  const b = Buffer.alloc(200, 0x61);
  b.writeUInt32BE(i, 0);
  return b;
};
const key = (i: number) => `o/client-${i % 1000}\u0000${i.toString(16).padStart(16, '0')}`;

async function level(dir: string, batch: number, durationMs: number): Promise<EngineResult> {
  const db = new ClassicLevel<string, Buffer>(join(dir, 'level'), { valueEncoding: 'buffer' });
  await db.open();
  let n = 0;
  let commits = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < durationMs) {
    const ops: { type: 'put' | 'del'; key: string; value?: Buffer }[] = [];
    for (let i = 0; i < batch; i++) ops.push({ type: 'put', key: key(n + i), value: record(n + i) });
    if (n > 0) for (let i = 0; i < batch / 2; i++) ops.push({ type: 'del', key: key(n - batch + i * 2) });
    await db.batch(ops as never, { sync: true });
    n += batch;
    commits++;
  }
  const s = (performance.now() - t0) / 1000;
  await db.close();
  return {
    engine: 'LevelDB (classic-level 3)',
    recordsPerSec: n / s,
    commitsPerSec: commits / s,
    maxBlockMs: 0,
    note: 'batch({ sync: true }) on the libuv pool',
  };
}

interface SqliteLike {
  exec(sql: string): void;
  put(k: string, v: Buffer): void;
  del(k: string): void;
  close(): void;
}

function openBetter(req: NodeRequire, file: string): SqliteLike {
  const Database = req('better-sqlite3');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID');
  const put = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)');
  const del = db.prepare('DELETE FROM kv WHERE k = ?');
  return { exec: (s) => db.exec(s), put: (k, v) => put.run(k, v), del: (k) => del.run(k), close: () => db.close() };
}

function openWasm(req: NodeRequire, file: string): SqliteLike {
  const { Database } = req('node-sqlite3-wasm');
  const db = new Database(file);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  db.exec('CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID');
  const put = db.prepare('INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)');
  const del = db.prepare('DELETE FROM kv WHERE k = ?');
  return {
    exec: (s) => db.exec(s),
    put: (k, v) => put.run([k, new Uint8Array(v)]),
    del: (k) => del.run([k]),
    close: () => {
      put.finalize();
      del.finalize();
      db.close();
    },
  };
}

async function sqlite(name: string, open: () => SqliteLike, batch: number, durationMs: number): Promise<EngineResult> {
  const db = open();
  let n = 0;
  let commits = 0;
  let maxBlock = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < durationMs) {
    const b0 = performance.now();
    db.exec('BEGIN');
    for (let i = 0; i < batch; i++) db.put(key(n + i), record(n + i));
    if (n > 0) for (let i = 0; i < batch / 2; i++) db.del(key(n - batch + i * 2));
    db.exec('COMMIT');
    maxBlock = Math.max(maxBlock, performance.now() - b0);
    n += batch;
    commits++;
    await new Promise((r) => setImmediate(r));
  }
  const s = (performance.now() - t0) / 1000;
  db.close();
  return {
    engine: name,
    recordsPerSec: n / s,
    commitsPerSec: commits / s,
    maxBlockMs: maxBlock,
    note: 'WAL, synchronous=FULL, one transaction per batch, synchronous API (blocks the event loop)',
  };
}

/** Runs every engine that can be loaded; `sqliteDir` is a node_modules directory holding the SQLite bindings. */
export async function compareEngines(opts: {
  batch: number;
  durationMs: number;
  sqliteDir?: string;
}): Promise<{ results: EngineResult[]; missing: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'iotwire-engines-'));
  const results: EngineResult[] = [];
  const missing: string[] = [];
  try {
    results.push(await level(dir, opts.batch, opts.durationMs));
    const req = createRequire(opts.sqliteDir ? join(opts.sqliteDir, 'x.js') : import.meta.url);
    for (const [name, open] of [
      ['SQLite (better-sqlite3)', () => openBetter(req, join(dir, 'better.db'))],
      ['SQLite (node-sqlite3-wasm)', () => openWasm(req, join(dir, 'wasm.db'))],
    ] as const) {
      try {
        results.push(await sqlite(name, open, opts.batch, opts.durationMs));
      } catch (err) {
        missing.push(`${name}: ${(err as Error).message.split('\n')[0]}`);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { results, missing };
}
