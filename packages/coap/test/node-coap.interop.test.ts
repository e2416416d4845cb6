// node-coap (npm `coap`) in both directions.
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoapClient, CoapServer, type Notification } from '../src/index.js';

// node-coap is CommonJS without ESM types we rely on; keep it untyped at the edge.
// biome-ignore lint/suspicious/noExplicitAny: third-party CJS module
const coap: any = createRequire(import.meta.url)('coap');

const big = Buffer.from(Array.from({ length: 2600 }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''));

// One agent on a socket we own: node-coap closes a socket it created as soon as no request is
// pending, which breaks its own eager deregistration ("Not running").
const agentSocket = createSocket('udp4');
const sharedAgent = new coap.Agent({ socket: agentSocket });

// biome-ignore lint/suspicious/noExplicitAny: node-coap message objects
function nodeRequest(params: Record<string, unknown>, body?: Buffer | string): Promise<any> {
  return new Promise((resolve, reject) => {
    const req = coap.request({ agent: sharedAgent, ...params });
    req.on('response', resolve);
    req.on('error', reject);
    req.on('timeout', () => reject(new Error('node-coap request timed out')));
    req.end(body);
  });
}

describe('node-coap client → iotwire server', () => {
  let server: CoapServer;
  let port: number;
  let last = Buffer.alloc(0);
  let n = 0;

  beforeAll(async () => {
    server = new CoapServer({ host: '127.0.0.1', port: 0 });
    server.resource('/hello', { get: (req) => ({ payload: `hello ${req.query.join('&')}`, contentFormat: 0 }) });
    server.resource('/big', { get: () => ({ payload: big }) });
    server.resource('/data', {
      put: (req) => {
        last = Buffer.from(req.payload);
        return { code: '2.04' };
      },
      get: () => ({ payload: last }),
    });
    server.resource('/obs', { observable: true, get: () => ({ payload: `n=${n}` }) });
    port = (await server.listen()).port;
  });

  afterAll(async () => {
    agentSocket.close();
    await server.close();
  });

  it('GET with a query', async () => {
    const res = await nodeRequest({ hostname: '127.0.0.1', port, pathname: '/hello', query: 'a=1&b=2' });
    expect(res.code).toBe('2.05');
    expect(res.payload.toString()).toBe('hello a=1&b=2');
  });

  it('GET of a block-wise body', async () => {
    const res = await nodeRequest({ hostname: '127.0.0.1', port, pathname: '/big' });
    expect(res.code).toBe('2.05');
    expect(Buffer.from(res.payload).equals(big)).toBe(true);
  });

  it('PUT then GET', async () => {
    const put = await nodeRequest({ hostname: '127.0.0.1', port, pathname: '/data', method: 'PUT' }, 'from node-coap');
    expect(put.code).toBe('2.04');
    const get = await nodeRequest({ hostname: '127.0.0.1', port, pathname: '/data' });
    expect(get.payload.toString()).toBe('from node-coap');
  });

  it('PUT of a body larger than one block (node-coap sends Block1 when asked to)', async () => {
    const body = Buffer.alloc(3000, 0x41);
    // node-coap segments only when the request carries a Block1 option (SZX 4: 256-byte blocks).
    const put = await nodeRequest(
      { hostname: '127.0.0.1', port, pathname: '/data', method: 'PUT', options: { Block1: Buffer.of(0x04) } },
      body,
    );
    expect(put.code).toBe('2.04');
    expect(last.equals(body)).toBe(true);
  });

  it('observe', async () => {
    const got: string[] = [];
    const res = await nodeRequest({ hostname: '127.0.0.1', port, pathname: '/obs', observe: true });
    res.on('data', (d: Buffer) => got.push(d.toString()));
    for (let i = 0; i < 3; i++) {
      await expect.poll(() => server.observerCount('/obs'), { timeout: 5000 }).toBe(1);
      n++;
      server.notify('/obs');
      await expect.poll(() => got.length, { timeout: 5000 }).toBeGreaterThanOrEqual(i + 2);
    }
    expect(got).toEqual(['n=0', 'n=1', 'n=2', 'n=3']);
    res.close(true); // eager: GET with Observe = 1
    await expect.poll(() => server.observerCount('/obs'), { timeout: 10_000 }).toBe(0);
  });

  it('observe, then a passive close: the next notification is reset and the observer removed', async () => {
    const res = await nodeRequest({ hostname: '127.0.0.1', port, pathname: '/obs', observe: true });
    await expect.poll(() => server.observerCount('/obs'), { timeout: 5000 }).toBe(1);
    res.close();
    n++;
    server.notify('/obs');
    await expect.poll(() => server.observerCount('/obs'), { timeout: 10_000 }).toBe(0);
  });
});

describe('iotwire client → node-coap server', () => {
  // biome-ignore lint/suspicious/noExplicitAny: node-coap server
  let server: any;
  let base: string;
  const client = new CoapClient({ bindAddress: '127.0.0.1', timeoutMs: 10_000 });
  let received = Buffer.alloc(0);

  beforeAll(async () => {
    server = coap.createServer({ type: 'udp4' });
    // biome-ignore lint/suspicious/noExplicitAny: node-coap messages
    server.on('request', (req: any, res: any) => {
      if (req.url.startsWith('/echo')) {
        received = Buffer.from(req.payload);
        res.code = '2.04';
        res.end(req.payload);
      } else if (req.url === '/big') res.end(big);
      else if (req.url === '/obs' && req.headers.Observe === 0) {
        let i = 0;
        res.write(`v${i}`);
        const t = setInterval(() => {
          i++;
          res.write(`v${i}`);
          if (i === 3) clearInterval(t);
        }, 50);
        res.on('finish', () => clearInterval(t));
      } else if (req.url === '/missing') {
        res.code = '4.04';
        res.end();
      } else res.end(`hi ${req.url}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `coap://127.0.0.1:${server._sock.address().port}`;
  });

  afterAll(async () => {
    await client.close();
    await new Promise<void>((r) => server.close(r));
  });

  it('GET', async () => {
    const r = await client.get(`${base}/x?y=1`);
    expect(r.text()).toBe('hi /x?y=1');
  });

  it('error codes resolve with ok = false', async () => {
    const r = await client.get(`${base}/missing`);
    expect(r.code).toBe('4.04');
    expect(r.ok).toBe(false);
  });

  it('POST echo', async () => {
    const r = await client.post(`${base}/echo`, 'ping');
    expect(r.code).toBe('2.04');
    expect(r.text()).toBe('ping');
  });

  it('Block2 from node-coap', async () => {
    const r = await client.get(`${base}/big`);
    expect(r.payload.equals(big)).toBe(true);
  });

  it('Block1 to node-coap', async () => {
    const body = Buffer.alloc(2000, 0x42);
    const r = await client.post(`${base}/echo`, body, { blockSize: 512 });
    expect(r.ok).toBe(true);
    expect(received.equals(body)).toBe(true);
  });

  it('observe', async () => {
    const seen: Notification[] = [];
    const obs = await client.observe(`${base}/obs`, (n) => {
      seen.push(n);
    });
    expect(obs.accepted).toBe(true);
    await expect.poll(() => seen.length, { timeout: 5000 }).toBe(4);
    expect(seen.map((n) => n.response.text())).toEqual(['v0', 'v1', 'v2', 'v3']);
    obs.stop();
  });
});
