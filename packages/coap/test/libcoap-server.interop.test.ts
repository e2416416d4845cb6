// Our client against libcoap's coap-server (Debian libcoap3-bin) and its demo resources.
import { type LibcoapPeer, startLibcoapServer } from '@iotwire/interop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoapClient, type Notification } from '../src/index.js';

let peer: LibcoapPeer;
let client: CoapClient;
let base: string;

beforeAll(async () => {
  peer = await startLibcoapServer({ args: ['-d', '10'] });
  base = `coap://127.0.0.1:${peer.port}`;
  client = new CoapClient({ bindAddress: '127.0.0.1', timeoutMs: 15_000 });
});

afterAll(async () => {
  await client?.close();
  await peer?.stop();
});

describe('iotwire client → libcoap coap-server', () => {
  it('GET /', async () => {
    const r = await client.get(`${base}/`);
    expect(r.code).toBe('2.05');
    expect(r.text()).toContain('libcoap');
    expect(r.maxAge).toBeGreaterThan(0);
  });

  it('GET /example_data reassembles Block2 (RFC 7959)', async () => {
    const r = await client.get(`${base}/example_data`);
    expect(r.code).toBe('2.05');
    expect(r.payload.length).toBeGreaterThan(1024);
    expect(r.text().startsWith('a123456789b123456789')).toBe(true);
  });

  it('GET /example_data with early Block2 negotiation at 64 bytes', async () => {
    const whole = await client.get(`${base}/example_data`);
    const r = await client.get(`${base}/example_data`, { blockSize: 64 });
    expect(r.payload.equals(whole.payload)).toBe(true);
  });

  it('discovers /.well-known/core', async () => {
    const links = await client.discover(base);
    const time = links.find((l) => l.href === '/time');
    expect(time?.attributes.obs).toBe(true);
    expect(time?.attributes.rt).toBe('ticks');
  });

  it('PUT creates, GET reads, PUT updates, DELETE removes (dynamic resources, -d)', async () => {
    const created = await client.put(`${base}/iotwire`, 'first', { contentFormat: 0 });
    expect(created.code).toBe('2.01');
    expect((await client.get(`${base}/iotwire`)).text()).toBe('first');
    expect((await client.put(`${base}/iotwire`, 'second')).code).toBe('2.04');
    expect((await client.get(`${base}/iotwire`)).text()).toBe('second');
    expect((await client.delete(`${base}/iotwire`)).code).toBe('2.02');
    expect((await client.get(`${base}/iotwire`)).code).toBe('4.04');
  });

  it('POST creates and answers Location-Path', async () => {
    const r = await client.post(`${base}/posted`, 'data');
    expect(r.code).toBe('2.01');
    expect(r.locationPath).toBe('posted');
    await client.delete(`${base}/posted`);
  });

  it('Block1: PUT of 3000 bytes in 64-byte blocks, then reads it back', async () => {
    const body = Buffer.from(Array.from({ length: 3000 }, (_, i) => String.fromCharCode(48 + (i % 10))).join(''));
    const r = await client.put(`${base}/bulk`, body, { blockSize: 64 });
    expect(r.code).toBe('2.01');
    const back = await client.get(`${base}/bulk`);
    expect(back.payload.equals(body)).toBe(true);
    await client.delete(`${base}/bulk`);
  });

  it('observes /time: notifications with increasing Observe values, then deregisters', async () => {
    const seen: Notification[] = [];
    const obs = await client.observe(`${base}/time`, (n) => {
      seen.push(n);
    });
    expect(obs.accepted).toBe(true);
    await expect.poll(() => seen.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    expect(seen.every((n) => n.isLatest)).toBe(true);
    expect(new Set(seen.map((n) => n.observe)).size).toBe(seen.length);
    await obs.cancel();
    expect(obs.endReason).toBe('cancelled');
    const count = seen.length;
    await new Promise((r) => setTimeout(r, 2500));
    expect(seen.length).toBe(count);
  });

  it('observes /example_data: the block-wise first notification arrives whole, then a PUT notifies', async () => {
    const seen: string[] = [];
    const obs = await client.observe(`${base}/example_data`, (n) => {
      seen.push(n.response.text());
    });
    expect(obs.accepted).toBe(true);
    await expect.poll(() => seen.length, { timeout: 10_000 }).toBe(1);
    expect(seen[0]?.length).toBeGreaterThan(1024);
    expect(seen[0]?.startsWith('a123456789b123456789')).toBe(true);
    expect((await client.put(`${base}/example_data`, 'replaced')).ok).toBe(true);
    await expect.poll(() => seen.at(-1), { timeout: 10_000 }).toBe('replaced');
    await obs.cancel();
  });

  it('stops observing from the handler (RST to a CON notification)', async () => {
    let n = 0;
    const obs = await client.observe(`${base}/time`, () => ++n < 2);
    await obs.ended;
    expect(obs.endReason).toBe('stopped');
  });

  it('separate response from /async (empty ACK first, RFC 7252 §5.2.2)', async () => {
    const r = await client.get(`${base}/async?1`);
    expect(r.code).toBe('2.05');
    expect(r.type).toBe('CON');
    expect(r.text()).toBe('done');
  });

  it('NON request', async () => {
    const r = await client.get(`${base}/`, { confirmable: false });
    expect(r.code).toBe('2.05');
    expect(r.type).toBe('NON');
  });

  it('CoAP ping', async () => {
    expect(await client.ping(base)).toBeGreaterThanOrEqual(0);
  });

  it('FETCH and iPATCH reach the server (4.05/4.04, not a protocol error)', async () => {
    const f = await client.fetch(`${base}/time`, '{}', { contentFormat: 50 });
    expect(['4.05', '4.04', '2.05']).toContain(f.code);
    const p = await client.ipatch(`${base}/nowhere`, 'x');
    expect(p.ok).toBe(false);
  });
});
