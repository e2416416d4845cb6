// maxTransferRate through the whole client, on a real socket, with an injected clock: bytes
// are paced (never dropped), and PINGREQ overtakes the backlog so the keep-alive holds.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MqttClient } from '../src/index.js';
import { type FakeConnection, FakeServer, until } from './helpers/fake-server.js';
import { ManualClock } from './helpers/manual-clock.js';

let server: FakeServer;
const clients: MqttClient[] = [];
beforeEach(async () => {
  server = await FakeServer.start();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.interrupt();
  await server.close();
});

async function connected(o: { maxTransferRate: number; keepAlive?: number }) {
  const clock = new ManualClock('immediate');
  const c = new MqttClient({ url: server.url, clock, connectTimeoutMs: 0, ...o });
  c.on('error', () => {});
  clients.push(c);
  const p = c.connect();
  const conn: FakeConnection = await server.connection();
  await conn.accept();
  await p;
  let bytes = 0;
  conn.socket.on('data', (d: Buffer) => {
    bytes += d.length;
  });
  return { c, clock, conn, bytes: () => bytes };
}

describe('maxTransferRate', () => {
  it('paces publishes to the cap and delivers every byte in order', async () => {
    const { c, clock, conn, bytes } = await connected({ maxTransferRate: 1000, keepAlive: 0 });
    const payload = (i: number) => Buffer.alloc(900, 0x30 + i);
    for (let i = 0; i < 5; i++) void c.publish(`t/${i}`, payload(i));
    // Let the writer hand its batch over; only the burst (100 ms worth, here 100 bytes) may go.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 50));
    expect(bytes()).toBeLessThanOrEqual(100);
    for (let s = 1; s <= 6; s++) {
      clock.advance(1000);
      const cap = 100 + 1000 * s;
      await until(() => bytes() >= Math.min(cap, 5 * 906) - 100, 5000, `bytes after ${s} s`);
      expect(bytes()).toBeLessThanOrEqual(cap);
    }
    await until(() => conn.packets.filter((p) => p.type === 'publish').length === 5, 5000, 'all publishes');
    const got = conn.packets.filter((p) => p.type === 'publish') as { topic: string; payload: Uint8Array }[];
    expect(got.map((p) => p.topic)).toEqual(['t/0', 't/1', 't/2', 't/3', 't/4']);
    expect(got.map((p) => Buffer.from(p.payload).toString('hex'))).toEqual([0, 1, 2, 3, 4].map((i) => payload(i).toString('hex')));
  });

  it('PINGREQ overtakes the backlog at the next packet boundary (keep-alive is not starved)', async () => {
    const { c, clock, conn } = await connected({ maxTransferRate: 1000, keepAlive: 5 });
    // 30 s of backlog at the cap, in 1 KB packets.
    for (let i = 0; i < 30; i++) void c.publish(`b/${i}`, Buffer.alloc(990, 0x61));
    await new Promise((r) => setTimeout(r, 20));
    // The keep-alive interval passes (the writer last handed bytes over at t=0).
    for (let s = 0; s < 7 && !conn.packets.some((p) => p.type === 'pingreq'); s++) {
      clock.advance(1000);
      await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => conn.packets.some((p) => p.type === 'pingreq'), 5000, 'PINGREQ');
    const before = conn.packets.findIndex((p) => p.type === 'pingreq');
    const publishesBefore = conn.packets.slice(0, before).filter((p) => p.type === 'publish').length;
    expect(publishesBefore).toBeLessThan(10); // far ahead of the 30 queued publishes
    conn.send({ type: 'pingresp' });
    clock.advance(4000);
    await new Promise((r) => setTimeout(r, 20));
    expect(c.connected).toBe(true);
    // The rest still arrives, in order.
    for (let s = 0; s < 40; s++) clock.advance(1000);
    await until(() => conn.packets.filter((p) => p.type === 'publish').length === 30, 5000, 'backlog');
  });
});
