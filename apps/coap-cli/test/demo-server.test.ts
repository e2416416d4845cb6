import { CoapClient } from '@iotwire/coap';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoServer, type DemoServer, exampleData, formatClock, INDEX_TEXT } from '../src/index.js';

let demo: DemoServer | undefined;
let client: CoapClient | undefined;
afterEach(async () => {
  await client?.close();
  await demo?.close();
  demo = undefined;
  client = undefined;
});

async function start(opts: Parameters<typeof createDemoServer>[0] = {}) {
  demo = createDemoServer({ host: '127.0.0.1', port: 0, now: () => 1_700_000_000, ...opts });
  const { port } = await demo.server.listen();
  client = new CoapClient({ bindAddress: '127.0.0.1', timeoutMs: 5000 });
  return `coap://127.0.0.1:${port}`;
}

describe('demo resources (libcoap coap-server -d equivalents)', () => {
  it('serves / with the index text and a long Max-Age', async () => {
    const base = await start();
    const r = await client!.get(`${base}/`);
    expect(r.text()).toBe(INDEX_TEXT);
    expect([r.contentFormat, r.maxAge]).toEqual([0, 0x2ffff]);
    expect((await client!.post(`${base}/`, 'x')).code).toBe('4.05');
  });

  it('/time: formatted like strftime("%b %d %H:%M:%S"), ?ticks gives seconds, PUT sets, DELETE removes', async () => {
    const base = await start();
    expect(formatClock(1_700_000_000)).toBe('Nov 14 22:13:20');
    const r = await client!.get(`${base}/time`);
    expect([r.text(), r.maxAge]).toEqual(['Nov 14 22:13:20', 1]);
    expect((await client!.get(`${base}/time?ticks`)).text()).toBe('1700000000');
    expect((await client!.put(`${base}/time`, '1000')).code).toBe('2.04');
    expect((await client!.get(`${base}/time?ticks`)).text()).toBe('1000');
    expect((await client!.put(`${base}/time`, 'nonsense')).code).toBe('4.00');
    expect((await client!.delete(`${base}/time`)).code).toBe('2.02');
    expect((await client!.get(`${base}/time`)).code).toBe('4.04');
    expect((await client!.put(`${base}/time`, '')).code).toBe('2.01');
    expect((await client!.get(`${base}/time?ticks`)).text()).toBe('1700000000');
  });

  it('/time is observable and ticks', async () => {
    const base = await start({ tickMs: 50 });
    const got: string[] = [];
    const obs = await client!.observe(`${base}/time`, (n) => {
      got.push(n.response.text());
    });
    await expect.poll(() => got.length, { timeout: 5000 }).toBeGreaterThanOrEqual(3);
    await obs.cancel();
  });

  it('/example_data: 1500 bytes of a123456789b123456789…, replaceable by PUT', async () => {
    const base = await start();
    const r = await client!.get(`${base}/example_data`);
    expect(r.payload.equals(exampleData())).toBe(true);
    expect(r.text().slice(0, 30)).toBe('a123456789b123456789c123456789');
    expect((await client!.put(`${base}/example_data`, 'abc')).code).toBe('2.01');
    expect((await client!.get(`${base}/example_data`)).text()).toBe('abc');
    expect((await client!.delete(`${base}/example_data`)).code).toBe('4.05');
  });

  it('/async?N answers after N seconds with a separate response', async () => {
    const base = await start();
    const t = Date.now();
    const r = await client!.get(`${base}/async?1`);
    expect(r.text()).toBe('done');
    expect(r.type).toBe('CON');
    expect(Date.now() - t).toBeGreaterThanOrEqual(900);
  });

  it('dynamic resources: created by PUT/POST up to -d, listed in /.well-known/core, removed by DELETE', async () => {
    const base = await start({ dynamic: 2 });
    expect((await client!.put(`${base}/a`, 'one', { contentFormat: 50 })).code).toBe('2.01');
    const post = await client!.post(`${base}/b/c`, 'two');
    expect([post.code, post.locationPath]).toEqual(['2.01', 'b/c']);
    expect((await client!.put(`${base}/c`, 'three')).code).toBe('4.06');
    const a = await client!.get(`${base}/a`);
    expect([a.text(), a.contentFormat]).toEqual(['one', 50]);
    expect((await client!.put(`${base}/a`, 'uno')).code).toBe('2.04');
    const links = await client!.discover(base);
    expect(links.find((l) => l.href === '/a')?.attributes).toEqual({ ct: 50, title: 'Dynamic', obs: true });
    expect((await client!.delete(`${base}/a`)).code).toBe('2.02');
    expect((await client!.get(`${base}/a`)).code).toBe('4.04');
    expect((await client!.put(`${base}/c`, 'now fits')).code).toBe('2.01');
  });

  it('without -d, PUT to an unknown path is refused', async () => {
    const base = await start();
    expect((await client!.put(`${base}/new`, 'x')).code).toBe('4.05');
  });
});
