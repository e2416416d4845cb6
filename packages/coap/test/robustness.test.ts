import { createSocket } from 'node:dgram';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { CoapServer } from '../src/index.js';
import { pair } from './helpers.js';

let p: Awaited<ReturnType<typeof pair>> | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

describe('bad input and floods', () => {
  it('survives random datagrams from many source ports and keeps serving', async () => {
    p = await pair();
    p.server.resource('/ok', { get: () => ({ payload: 'alive' }) });
    const datagrams = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 40 }), 3000);
    const sockets = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<ReturnType<typeof createSocket>>((r) => {
            const s = createSocket('udp4');
            s.on('message', () => {});
            s.bind(0, '127.0.0.1', () => r(s));
          }),
      ),
    );
    for (const [i, d] of datagrams.entries()) sockets[i % sockets.length]!.send(d, p!.port, '127.0.0.1');
    // Valid requests interleaved with the garbage still get answers.
    const answers = await Promise.all(Array.from({ length: 20 }, () => p!.client.get(`${p!.base}/ok`)));
    expect(answers.every((a) => a.text() === 'alive')).toBe(true);
    const st = p.server.stats;
    expect(st.malformed + st.badVersion + st.requests + st.pings + st.unmatched).toBeGreaterThan(0);
    for (const s of sockets) s.close();
  });

  it('evicts from its bounded dedup cache under a flood of distinct requests', async () => {
    p = await pair({ dedupCapacity: 500 });
    p.server.resource('/f', { get: () => ({ payload: 'f' }) });
    const s = createSocket('udp4');
    let replies = 0;
    s.on('message', () => replies++);
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    // In batches the kernel's receive buffer can hold; each batch is answered before the next.
    for (let batch = 0; batch < 15; batch++) {
      for (let j = 0; j < 200; j++) {
        const i = batch * 200 + j;
        s.send(Buffer.from([0x41, 0x01, i >> 8, i & 255, 1, 0xb1, 0x66]), p.port, '127.0.0.1');
      }
      await expect.poll(() => replies, { timeout: 10_000 }).toBeGreaterThanOrEqual((batch + 1) * 200 * 0.9);
    }
    expect(p.server.stats.requests).toBeGreaterThan(2700);
    expect(p.server.stats.dedupEvicted).toBeGreaterThan(2000);
    s.close();
  });

  it('logs an error with no listener as a process warning instead of crashing', async () => {
    const server = new CoapServer({ host: '127.0.0.1', port: 0 });
    server.resource('/t', {
      get: () => {
        throw new Error('handler bug');
      },
    });
    const { port } = await server.listen();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    const c = createSocket('udp4');
    const reply = new Promise<Buffer>((r) => c.once('message', r));
    c.send(Buffer.from([0x41, 0x01, 0, 1, 1, 0xb1, 0x74]), port, '127.0.0.1');
    expect((await reply)[1]).toBe(0xa0); // 5.00
    await expect.poll(() => warnings.some((w) => w.includes('handler bug'))).toBe(true);
    process.off('warning', onWarning);
    c.close();
    await server.close();
  });
});
