import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { peerKey, UdpEndpoint, UdpError } from '../src/index.js';

const open: UdpEndpoint[] = [];
function endpoint(opts: ConstructorParameters<typeof UdpEndpoint>[0] = {}) {
  const e = new UdpEndpoint({ host: '127.0.0.1', ...opts });
  open.push(e);
  return e;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((e) => e.close()));
});

describe('UdpEndpoint', () => {
  it('exchanges datagrams over IPv4 loopback with peer addressing', async () => {
    const a = endpoint();
    const b = endpoint();
    const aAddr = await a.bind();
    const bAddr = await b.bind();
    const got = once(b, 'message');
    await a.send(Buffer.from('ping'), bAddr);
    const [data, peer] = (await got) as [Buffer, { port: number; address: string }];
    expect(data.toString()).toBe('ping');
    expect(peer.port).toBe(aAddr.port);
    expect(peer.address).toBe('127.0.0.1');
    expect(a.datagramsOut).toBe(1);
    expect(b.datagramsIn).toBe(1);
    expect(a.pendingSendBytes).toBe(0);
  });

  it('works over IPv6 loopback', async () => {
    const a = endpoint({ host: '::1' });
    const b = endpoint({ host: '::1' });
    await a.bind();
    const bAddr = await b.bind();
    expect(bAddr.family).toBe('IPv6');
    const got = once(b, 'message');
    await a.send(Buffer.from([1, 2, 3]), bAddr);
    const [data, peer] = (await got) as [Buffer, { family: string }];
    expect([...data]).toEqual([1, 2, 3]);
    expect(peer.family).toBe('IPv6');
  });

  it('rejects sends before bind, after close, and over the size limit with typed errors', async () => {
    const a = endpoint({ maxDatagramSize: 10 });
    const target = { address: '127.0.0.1', port: 9, family: 'IPv4' as const };
    await expect(a.send(Buffer.alloc(1), target)).rejects.toMatchObject({ code: 'ERR_UDP_NOT_BOUND' });
    await a.bind();
    await expect(a.send(Buffer.alloc(11), target)).rejects.toMatchObject({ code: 'ERR_UDP_DATAGRAM_TOO_LARGE' });
    await a.close();
    const err = await a.send(Buffer.alloc(1), target).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UdpError);
    expect(err).toMatchObject({ code: 'ERR_UDP_CLOSED' });
  });

  it('bounds the bytes pending in sends', async () => {
    const a = endpoint({ maxPendingSendBytes: 1000 });
    const b = endpoint();
    await a.bind();
    const bAddr = await b.bind();
    const sends = [a.send(Buffer.alloc(600), bAddr), a.send(Buffer.alloc(600), bAddr)];
    const results = await Promise.allSettled(sends);
    expect(results[0]?.status).toBe('fulfilled');
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: 'ERR_UDP_BACKPRESSURE' } });
  });

  it('trySend delivers without a Promise and counts what it refuses', async () => {
    const a = endpoint({ maxDatagramSize: 100 });
    const b = endpoint();
    const target = { address: '127.0.0.1', port: 9, family: 'IPv4' as const };
    expect(a.trySend(Buffer.alloc(1), target)).toBe(false); // not bound yet
    await a.bind();
    const bAddr = await b.bind();
    const got: string[] = [];
    b.on('message', (d) => got.push(d.toString()));
    for (let i = 0; i < 5; i++) expect(a.trySend(Buffer.from(`m${i}`), bAddr)).toBe(true);
    expect(a.trySend(Buffer.alloc(101), bAddr)).toBe(false); // too large
    await expect.poll(() => got.length).toBe(5);
    expect(got).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    expect(a.datagramsOut).toBe(5);
    await a.close();
    expect(a.trySend(Buffer.alloc(1), bAddr)).toBe(false); // closed
    expect(a.sendDrops).toBe(3);
  });

  it('trySend and send refuse while the socket send queue is over the limit', async () => {
    // A kernel that stops accepting datagrams shows up as bytes in dgram's send queue.
    const socket = createSocket({ type: 'udp4' });
    let queued = 0;
    socket.getSendQueueSize = () => queued;
    const a = endpoint({ socket, maxPendingSendBytes: 1000 });
    await a.bind();
    const target = { address: '127.0.0.1', port: 9, family: 'IPv4' as const };
    queued = 950;
    expect(a.pendingSendBytes).toBe(950);
    expect(a.trySend(Buffer.alloc(100), target)).toBe(false);
    await expect(a.send(Buffer.alloc(100), target)).rejects.toMatchObject({ code: 'ERR_UDP_BACKPRESSURE' });
    expect(a.trySend(Buffer.alloc(50), target)).toBe(true);
    queued = 0;
    expect(a.trySend(Buffer.alloc(100), target)).toBe(true);
    expect(a.sendDrops).toBe(1);
  });

  it('reports an asynchronous send failure of trySend through the error event', async () => {
    const a = endpoint();
    await a.bind();
    const err = once(a, 'error');
    // An unresolvable host name fails in dgram's lookup, after trySend returned.
    expect(a.trySend(Buffer.alloc(1), { address: 'no-such-host.invalid', port: 9, family: 'IPv4' })).toBe(true);
    const [e] = (await err) as [NodeJS.ErrnoException];
    expect(e.code).toMatch(/ENOTFOUND|EAI_AGAIN|EAI_FAIL/);
  }, 30_000);

  it('reports a bind conflict as a typed error', async () => {
    const a = endpoint();
    const { port } = await a.bind();
    const b = endpoint({ port });
    await expect(b.bind()).rejects.toMatchObject({ code: 'ERR_UDP_BIND' });
  });

  it('formats peer keys for IPv4 and IPv6', () => {
    expect(peerKey({ address: '127.0.0.1', port: 5683 })).toBe('127.0.0.1:5683');
    expect(peerKey({ address: '::1', port: 5683 })).toBe('[::1]:5683');
  });
});
