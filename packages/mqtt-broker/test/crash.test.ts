// Crash safety of the durable store: a broker process (test/fixtures/durable-broker.mjs, the
// built package) is SIGKILLed at random moments — during sustained QoS 1 and QoS 2 traffic
// and during start-up — and restarted on the same port and directory, many times. Clients with
// persistent sessions reconnect after each restart. At the end: no message the broker
// acknowledged (PUBACK / PUBREC) is lost for either subscriber, and the QoS 2 subscriber got
// no QoS 2 message twice.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@iotwire/interop';
import { afterEach, describe, expect, it } from 'vitest';
import { CrashPublisher, CrashSubscriber } from './helpers/crash-clients.js';

const fixture = fileURLToPath(new URL('./fixtures/durable-broker.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rand = (a: number, b: number) => a + Math.floor(Math.random() * (b - a));

function spawnBroker(port: number, dir: string): { child: ChildProcess; ready: Promise<void>; exited: Promise<void> } {
  if (!existsSync(dist)) throw new Error(`${dist} is missing: run \`pnpm build\` first`);
  const child = spawn(process.execPath, [fixture, String(port), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('ready')) resolve();
    });
    child.stderr?.on('data', (d) => (out += d));
    child.once('exit', (code, signal) => reject(new Error(`broker exited (${code ?? signal}) before ready: ${out}`)));
  });
  ready.catch(() => {});
  return { child, ready, exited };
}

async function kill(b: { child: ChildProcess; exited: Promise<void> }): Promise<void> {
  b.child.kill('SIGKILL');
  await b.exited;
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await sleep(25);
  }
  return true;
}

describe('durable store: crash safety under kill -9', () => {
  it('14 SIGKILLs during QoS 1 + QoS 2 traffic and start-up: zero acknowledged messages lost, zero QoS 2 duplicates', async () => {
    const port = await freePort('tcp');
    const dir = join(mkdtempSync(join(tmpdir(), 'iotwire-crash-')), 'store');
    const s1 = new CrashSubscriber('crash-sub-q1', 'crash/#', 1);
    const s2 = new CrashSubscriber('crash-sub-q2', 'crash/#', 2);
    const p1 = new CrashPublisher('crash-pub-q1', 'crash/q1', 1);
    const p2 = new CrashPublisher('crash-pub-q2', 'crash/q2', 2);
    const clients = [s1, s2, p1, p2];

    let broker = spawnBroker(port, dir);
    await broker.ready;
    await Promise.all([s1.connect(port), s2.connect(port)]);
    expect(await until(() => s1.subscribed && s2.subscribed, 10_000)).toBe(true);

    let kills = 0;
    for (let round = 0; round < 12; round++) {
      // Subscribers first, publishers after: every client reconnects with its session.
      await Promise.allSettled([s1.connect(port), s2.connect(port)]);
      await Promise.allSettled([p1.connect(port), p2.connect(port)]);
      await sleep(rand(100, 500));
      await kill(broker);
      kills++;
      if (round % 4 === 1) {
        // Killed again while it opens the store and loads the sessions.
        const early = spawnBroker(port, dir);
        await sleep(rand(20, 250));
        await kill(early);
        kills++;
      }
      broker = spawnBroker(port, dir);
      await broker.ready;
    }

    // The end: no new messages; everything pending is re-sent until acknowledged and delivered.
    p1.running = false;
    p2.running = false;
    await Promise.allSettled(clients.map((c) => c.connect(port)));
    const key = (p: CrashPublisher, seq: number) => `${p.topic}:${seq}`;
    const everythingDelivered = () =>
      p1.pending === 0 &&
      p2.pending === 0 &&
      [p1, p2].every((p) => [...p.acked].every((seq) => (s1.counts.get(key(p, seq)) ?? 0) > 0 && (s2.counts.get(key(p, seq)) ?? 0) > 0));
    await until(everythingDelivered, 30_000);

    expect(kills).toBeGreaterThanOrEqual(14);
    expect(p1.acked.size + p2.acked.size).toBeGreaterThan(50);
    for (const c of clients) expect(c.sessionLost, `${c.clientId} lost its session`).toBe(0);
    const lost: string[] = [];
    for (const p of [p1, p2])
      for (const seq of p.acked)
        for (const s of [s1, s2]) if ((s.counts.get(key(p, seq)) ?? 0) === 0) lost.push(`${key(p, seq)} → ${s.clientId}`);
    expect(lost, 'acknowledged but never delivered').toEqual([]);
    const dups: string[] = [];
    for (let seq = 1; seq <= p2.sent; seq++) if ((s2.counts.get(key(p2, seq)) ?? 0) > 1) dups.push(key(p2, seq));
    expect(dups, 'QoS 2 delivered twice to the QoS 2 subscriber').toEqual([]);
    for (const c of clients) c.socket?.destroy();
    broker.child.kill('SIGTERM');
    await broker.exited;
  }, 90_000);
});
