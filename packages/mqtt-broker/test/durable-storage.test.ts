// The durable backend's damage handling: damaged database files and damaged records are
// detected at open and reported with a clear, typed error; `onCorruption: 'repair'` keeps what
// is readable and `'reset'` moves the store aside and starts empty. Never a crash.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ClassicLevel } from 'classic-level';
import { describe, expect, it } from 'vitest';
import { type BrokerStorage, createDurableStorage, StorageCorruptionError, type StorageOp } from '../src/index.js';

const fresh = () => join(mkdtempSync(join(tmpdir(), 'iotwire-damage-')), 'store');

const session = (clientId: string): StorageOp => ({
  type: 'putSession',
  session: { clientId, protocolVersion: 4, expiryInterval: 3600, disconnectedAt: 1 },
});
const outgoing = (clientId: string, id: number): StorageOp => ({
  type: 'putOutgoing',
  clientId,
  outgoing: {
    messageId: id,
    qos: 1,
    retain: false,
    dup: false,
    packetId: 0,
    state: 1,
    message: { messageId: id, topic: `t/${id}`, payload: Buffer.alloc(200, id & 0xff), qos: 1, retain: false, expiresAt: 0, senderId: 'p' },
  },
});

/** A store with `n` sessions of 10 queued messages each, closed, then reopened and closed (so LevelDB writes a table file). */
async function populated(n = 50): Promise<string> {
  const directory = fresh();
  let s: BrokerStorage = await createDurableStorage({ directory });
  const ops: StorageOp[] = [];
  for (let c = 0; c < n; c++) {
    ops.push(session(`c${c}`));
    for (let k = 1; k <= 10; k++) ops.push(outgoing(`c${c}`, c * 100 + k));
  }
  await s.apply(ops);
  await s.close();
  s = await createDurableStorage({ directory });
  await s.close();
  return directory;
}

async function openError(directory: string): Promise<unknown> {
  try {
    const s = await createDurableStorage({ directory });
    await s.close();
  } catch (err) {
    return err;
  }
  return undefined;
}

function flip(file: string, from: number, to: number): void {
  const b = readFileSync(file);
  for (let i = from; i < Math.min(to, b.length); i++) b[i] = (b[i] as number) ^ 0x5a;
  writeFileSync(file, b);
}

describe('durable storage: damaged files', () => {
  it('a damaged table file is reported with ERR_STORAGE_CORRUPT and the way out', async () => {
    const dir = await populated();
    const table = readdirSync(dir).find((f) => f.endsWith('.ldb')) as string;
    flip(join(dir, table), 100, 400);
    const err = await openError(dir);
    expect(err).toBeInstanceOf(StorageCorruptionError);
    expect((err as StorageCorruptionError).code).toBe('ERR_STORAGE_CORRUPT');
    expect((err as Error).message).toMatch(/onCorruption: 'repair'.*'reset'/);
    expect((err as StorageCorruptionError).directory).toBe(dir);
  });

  it('a damaged CURRENT or MANIFEST file is reported the same way', async () => {
    const a = await populated(5);
    writeFileSync(join(a, 'CURRENT'), 'garbage');
    expect(((await openError(a)) as { code?: string }).code).toBe('ERR_STORAGE_CORRUPT');
    const b = await populated(5);
    flip(join(b, readdirSync(b).find((f) => f.startsWith('MANIFEST')) as string), 10, 1000);
    expect(((await openError(b)) as { code?: string }).code).toBe('ERR_STORAGE_CORRUPT');
  });

  it("onCorruption 'repair' opens a store with a damaged table, keeps what is readable and reports", async () => {
    const dir = await populated();
    const table = readdirSync(dir).find((f) => f.endsWith('.ldb')) as string;
    flip(join(dir, table), 100, 400);
    const reports: string[] = [];
    const s = await createDurableStorage({ directory: dir, onCorruption: 'repair', onReport: (m) => reports.push(m) });
    const sessions = await s.loadSessions();
    // Whatever survived is whole: every loaded copy decodes with its payload intact.
    for (const x of sessions)
      for (const o of x.outgoing) expect(o.message.payload.equals(Buffer.alloc(200, o.messageId & 0xff))).toBe(true);
    expect(reports.join('\n')).toMatch(/repair/);
    await s.apply([session('after'), outgoing('after', 1)]);
    await s.close();
    // Repaired for good: it opens with the default policy now.
    const again = await createDurableStorage({ directory: dir });
    expect((await again.loadSessions()).some((x) => x.clientId === 'after')).toBe(true);
    await again.close();
  });

  it("onCorruption 'reset' moves the damaged store aside and starts empty", async () => {
    const dir = await populated(5);
    writeFileSync(join(dir, 'CURRENT'), 'garbage');
    const reports: string[] = [];
    const s = await createDurableStorage({ directory: dir, onCorruption: 'reset', onReport: (m) => reports.push(m) });
    expect(await s.loadSessions()).toEqual([]);
    await s.close();
    const aside = readdirSync(dirname(dir)).filter((f) => f.startsWith('store.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(existsSync(join(dirname(dir), aside[0] as string, 'CURRENT'))).toBe(true);
    expect(reports.join('\n')).toContain('moved to');
  });
});

describe('durable storage: damaged records', () => {
  async function withBadRecords(): Promise<string> {
    const dir = await populated(3);
    const db = new ClassicLevel<string, Buffer>(dir, { valueEncoding: 'buffer' });
    await db.open();
    const key = 'o!c1\u0000' + (102).toString(16).padStart(14, '0');
    const good = (await db.get(key)) as Buffer;
    const bad = Buffer.from(good);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1; // one payload bit
    await db.put(key, bad);
    await db.put('s!c2', Buffer.from('not a record'));
    await db.close();
    return dir;
  }

  it('a record failing its checksum is named in the error', async () => {
    const err = (await openError(await withBadRecords())) as StorageCorruptionError;
    expect(err).toBeInstanceOf(StorageCorruptionError);
    expect(err.problems.join('\n')).toContain('checksum mismatch');
    expect(err.problems.join('\n')).toContain('"s!c2"');
  });

  it("'repair' deletes the damaged records (and the orphans of a damaged session), keeps the rest", async () => {
    const dir = await withBadRecords();
    const s = await createDurableStorage({ directory: dir, onCorruption: 'repair', onReport: () => {} });
    const list = (await s.loadSessions()).sort((a, b) => a.clientId.localeCompare(b.clientId));
    expect(list.map((x) => x.clientId)).toEqual(['c0', 'c1']);
    expect(list[0]?.outgoing).toHaveLength(10);
    expect(list[1]?.outgoing.map((o) => o.messageId)).toEqual([101, 103, 104, 105, 106, 107, 108, 109, 110]);
    await s.close();
  });

  it('a store from a newer format is refused with ERR_STORAGE_VERSION (not treated as damage)', async () => {
    const dir = await populated(1);
    const db = new ClassicLevel<string, string>(dir);
    await db.open();
    await db.put('!format', '99');
    await db.close();
    for (const onCorruption of ['fail', 'repair', 'reset'] as const) {
      let err: unknown;
      try {
        await createDurableStorage({ directory: dir, onCorruption });
      } catch (e) {
        err = e;
      }
      expect((err as { code?: string }).code).toBe('ERR_STORAGE_VERSION');
    }
  });

  it('a store in use by another broker is refused with ERR_STORAGE', async () => {
    const directory = fresh();
    const a = await createDurableStorage({ directory });
    const err = await openError(directory);
    expect((err as { code?: string }).code).toBe('ERR_STORAGE');
    expect((err as Error).message).toContain('in use');
    await a.close();
  });
});
