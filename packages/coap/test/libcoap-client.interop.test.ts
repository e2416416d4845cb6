// libcoap's coap-client (Debian libcoap3-bin) against our server.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoapServer, type ObserverInfo } from '../src/index.js';
import { coapClient } from './libcoap-tools.js';

let server: CoapServer;
let base: string;
const store = new Map<string, { body: Buffer; ct: number | undefined }>();
const registered: ObserverInfo[] = [];
const unregistered: string[] = [];
let tick = 0;
let ticker: NodeJS.Timeout;
const big = Buffer.from(Array.from({ length: 3000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''));
const dir = mkdtempSync(join(tmpdir(), 'coap-interop-'));

beforeAll(async () => {
  server = new CoapServer({ host: '127.0.0.1', port: 0 });
  server.resource('/', { get: () => ({ payload: 'iotwire test server\n' }), attributes: { title: 'General Info', ct: 0 } });
  server.resource('/big', { get: () => ({ payload: big, contentFormat: 0 }), attributes: { title: 'Big' } });
  server.resource('/counter', {
    observable: true,
    get: () => ({ payload: `tick ${tick}`, maxAge: 1 }),
    attributes: { rt: 'ticks', ct: 0 },
  });
  server.on('register', (o) => registered.push(o));
  server.on('unregistered', (o, reason) => unregistered.push(`${o.path}:${reason}`));
  server.resource('/echo', {
    post: (req) => ({ code: '2.04', payload: req.payload, contentFormat: req.contentFormat }),
  });
  // Anything else: PUT creates/updates, GET reads, DELETE removes (like libcoap's -d).
  const dynamic = (req: import('../src/index.js').IncomingRequest) => {
    const entry = store.get(req.path);
    switch (req.method) {
      case 'PUT':
        store.set(req.path, { body: Buffer.from(req.payload), ct: req.contentFormat });
        return { code: entry ? '2.04' : '2.01' } as const;
      case 'POST':
        store.set(req.path, { body: Buffer.from(req.payload), ct: req.contentFormat });
        return { code: '2.01', locationPath: req.path } as const;
      case 'GET':
        return entry ? { payload: entry.body, contentFormat: entry.ct } : { code: '4.04' };
      case 'DELETE':
        store.delete(req.path);
        return { code: '2.02' } as const;
      default:
        return { code: '4.05' } as const;
    }
  };
  server.resource('/store', { get: dynamic, put: dynamic, post: dynamic, delete: dynamic });
  const addr = await server.listen();
  base = `coap://127.0.0.1:${addr.port}`;
  ticker = setInterval(() => {
    tick++;
    server.notify('/counter');
  }, 300);
});

afterAll(async () => {
  clearInterval(ticker);
  await server.close();
});

describe('libcoap coap-client → iotwire server', () => {
  it('GET', async () => {
    const r = await coapClient(['-B', '5', `${base}/`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('iotwire test server');
  });

  it('PUT then GET then DELETE then GET (4.04)', async () => {
    expect((await coapClient(['-B', '5', '-m', 'put', '-e', 'hello libcoap', `${base}/store`])).code).toBe(0);
    expect((await coapClient(['-B', '5', `${base}/store`])).stdout).toContain('hello libcoap');
    expect((await coapClient(['-B', '5', '-m', 'delete', `${base}/store`])).code).toBe(0);
    const gone = await coapClient(['-B', '5', '-v', '6', `${base}/store`]);
    expect(gone.stdout + gone.stderr).toMatch(/4\.04/);
  });

  it('POST with Content-Format, echoed back', async () => {
    const r = await coapClient(['-B', '5', '-v', '6', '-m', 'post', '-t', '50', '-e', '{"a":1}', `${base}/echo`]);
    expect(r.code).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/2\.04/);
    expect(r.stdout).toContain('{"a":1}');
  });

  it('discovers /.well-known/core', async () => {
    const r = await coapClient(['-B', '5', `${base}/.well-known/core`]);
    expect(r.stdout).toContain('</counter>;rt="ticks";ct=0;obs');
    expect(r.stdout).toContain('</>;title="General Info";ct=0');
    const filtered = await coapClient(['-B', '5', `${base}/.well-known/core?rt=ticks`]);
    expect(filtered.stdout.trim()).toBe('</counter>;rt="ticks";ct=0;obs');
  });

  it('Block2: fetches a 3000-byte body in 64-byte blocks', async () => {
    const r = await coapClient(['-B', '5', '-b', '64', `${base}/big`]);
    expect(r.code).toBe(0);
    expect(r.stdout.replace(/\n$/, '')).toBe(big.toString());
  });

  it('Block2: fetches it with the default (1024) block size', async () => {
    const r = await coapClient(['-B', '5', `${base}/big`]);
    expect(r.stdout.replace(/\n$/, '')).toBe(big.toString());
  });

  it('Block1: PUT of 2500 bytes in 64-byte blocks, each with a fresh token and Request-Tag (RFC 9175)', async () => {
    const body = Buffer.from(Array.from({ length: 2500 }, (_, i) => String.fromCharCode(65 + (i % 26))).join(''));
    const file = join(dir, 'body.txt');
    writeFileSync(file, body);
    const put = await coapClient(['-B', '5', '-v', '7', '-m', 'put', '-b', '64', '-f', file, `${base}/store`]);
    expect(put.code).toBe(0);
    expect(put.stdout + put.stderr).toMatch(/Request-Tag/);
    expect(put.stdout + put.stderr).toMatch(/2\.31/);
    expect(store.get('/store')?.body.equals(body)).toBe(true);
    const get = await coapClient(['-B', '5', `${base}/store`]);
    expect(get.stdout.replace(/\n$/, '')).toBe(body.toString());
  });

  it('Block1: POST with the default block size', async () => {
    const body = Buffer.alloc(1500, 0x7a);
    const file = join(dir, 'post.txt');
    writeFileSync(file, body);
    const r = await coapClient(['-B', '5', '-m', 'post', '-f', file, `${base}/store`]);
    expect(r.code).toBe(0);
    expect(store.get('/store')?.body.length).toBe(1500);
  });

  it('observe: receives notifications and the server sees the registration end', async () => {
    const before = registered.length;
    const r = await coapClient(['-B', '5', '-s', '2', `${base}/counter`], { timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    const ticks = r.stdout.match(/tick \d+/g) ?? [];
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect(registered.length).toBe(before + 1);
    // libcoap ends an observation with a deregistering GET or an RST to the next notification.
    await expect.poll(() => unregistered.filter((u) => u.startsWith('/counter')).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
  });

  it('NON requests get NON responses', async () => {
    const r = await coapClient(['-B', '5', '-N', '-v', '6', `${base}/`]);
    expect(r.stdout + r.stderr).toMatch(/t:NON c:2\.05/);
  });

  it('an unknown critical option gets 4.02', async () => {
    const r = await coapClient(['-B', '5', '-v', '6', '-O', '2049,0x01', `${base}/`]);
    expect(r.stdout + r.stderr).toMatch(/4\.02/);
  });
});
