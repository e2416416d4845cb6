import { createSocket } from 'node:dgram';
import type { DatagramEndpoint, PeerAddress } from '@iotwire/udp';
import { UdpEndpoint } from '@iotwire/udp';
import { describe, expect, it } from 'vitest';
import { DtlsClient, DtlsServer } from '../src/index.js';
import { echo, next, pair } from './helpers/pair.js';
import { hvrCookie, rawClientHello } from './helpers/raw.js';

const PSK = { identity: 'Client_identity', key: 'secretPSK' };
const serverPsk = { keys: { Client_identity: 'secretPSK' } };

describe('the DatagramEndpoint seam over DTLS', () => {
  it('server and client implement bind/address/send/message/close with listening and close events', async () => {
    const server = new DtlsServer({ host: '127.0.0.1', port: 0, psk: serverPsk });
    const asEndpoint: DatagramEndpoint = server; // type-level conformance
    const listening = next<[PeerAddress]>(server, 'listening');
    const addr = await asEndpoint.bind();
    expect((await listening)[0]).toEqual(addr);
    expect(server.address()).toEqual(addr);
    expect(server.pendingSendBytes).toBe(0);
    server.on('message', (d, p) => {
      server.send(Buffer.concat([Buffer.from('re:'), d]), p).catch(() => {});
    });
    const client = new DtlsClient({ host: '127.0.0.1', psk: PSK });
    const clientEndpoint: DatagramEndpoint = client; // type-level conformance
    const got = next<[Buffer, PeerAddress, { securityContext?: unknown }]>(client, 'message');
    await clientEndpoint.send(Buffer.from('ping'), addr);
    const [data, from, info] = await got;
    expect(data.toString()).toBe('re:ping');
    expect(from).toMatchObject({ address: '127.0.0.1', port: addr.port });
    expect(info.securityContext).toBeDefined();
    const closed = next(server, 'close');
    await client.close();
    await server.close();
    await closed;
    await server.close(); // idempotent
    await expect(server.send(Buffer.from('x'), from)).rejects.toMatchObject({ code: 'ERR_DTLS_CLOSED' });
    await expect(client.send(Buffer.from('x'), addr)).rejects.toMatchObject({ code: 'ERR_DTLS_CLOSED' });
  });

  it('the client wants IP addresses (sessions are keyed by the address replies come from)', async () => {
    const client = new DtlsClient({ psk: PSK });
    const peer = { address: 'localhost', port: 5684, family: 'IPv4' as const };
    await expect(client.send(Buffer.from('x'), peer)).rejects.toMatchObject({ code: 'ERR_DTLS_BAD_PEER' });
    await expect(client.connect(peer)).rejects.toMatchObject({ code: 'ERR_DTLS_BAD_PEER' });
    await client.close();
  });

  it('the server cannot send to a peer without a session', async () => {
    const server = new DtlsServer({ host: '127.0.0.1', port: 0, psk: serverPsk });
    await server.bind();
    await expect(server.send(Buffer.from('x'), { address: '127.0.0.1', port: 9, family: 'IPv4' })).rejects.toMatchObject({
      code: 'ERR_DTLS_NO_SESSION',
    });
    await server.close();
  });

  it('the client queues data during its handshake, in order, within maxQueuedBytes', async () => {
    const p = await pair({ psk: serverPsk }, { psk: PSK, maxQueuedBytes: 10 });
    const got: string[] = [];
    const three = new Promise<void>((r) =>
      p.client.on('message', (d) => {
        got.push(d.toString());
        if (got.length === 3) r();
      }),
    );
    const sends = [
      p.client.send(Buffer.from('a1'), p.addr),
      p.client.send(Buffer.from('b2'), p.addr),
      p.client.send(Buffer.from('c3'), p.addr),
    ];
    expect(p.client.pendingSendBytes).toBe(6);
    await expect(p.client.send(Buffer.alloc(5), p.addr)).rejects.toMatchObject({ code: 'ERR_DTLS_QUEUE_FULL' });
    await Promise.all(sends);
    await three;
    expect(got).toEqual(['a1', 'b2', 'c3']);
    expect(p.client.pendingSendBytes).toBe(0);
    await p.close();
  });

  it('trySend: no Promise, queued behind the handshake on the client, refused (and counted) without a session', async () => {
    const p = await pair({ psk: serverPsk }, { psk: PSK, maxQueuedBytes: 10 });
    const got: string[] = [];
    p.client.on('message', (d) => got.push(d.toString()));
    expect(p.client.trySend(Buffer.from('a1'), p.addr)).toBe(true); // starts the handshake
    expect(p.client.trySend(Buffer.from('b2'), p.addr)).toBe(true);
    expect(p.client.pendingSendBytes).toBe(4);
    expect(p.client.trySend(Buffer.alloc(7), p.addr)).toBe(false); // over maxQueuedBytes
    expect(p.client.trySend(Buffer.from('x'), { address: 'localhost', port: 1, family: 'IPv4' })).toBe(false); // not an IP
    await expect.poll(() => got).toEqual(['a1', 'b2']);
    expect(p.client.trySend(Buffer.from('c3'), p.addr)).toBe(true); // established: sent at once
    await expect.poll(() => got).toEqual(['a1', 'b2', 'c3']);
    expect(p.client.sendDrops).toBe(2);
    const stranger = { address: '127.0.0.1', port: 9, family: 'IPv4' as const };
    expect(p.server.trySend(Buffer.from('x'), stranger)).toBe(false);
    expect(p.server.sendDrops).toBe(1);
    await p.close();
    expect(p.client.trySend(Buffer.from('x'), p.addr)).toBe(false);
    expect(p.server.trySend(Buffer.from('x'), p.addr)).toBe(false);
  });

  it('queued sends reject when the handshake fails', async () => {
    const p = await pair({ psk: serverPsk }, { psk: { identity: 'stranger', key: 'x' } });
    const a = p.client.send(Buffer.from('a'), p.addr);
    const b = p.client.connect(p.addr);
    await expect(a).rejects.toMatchObject({ alert: 115 });
    await expect(b).rejects.toMatchObject({ alert: 115 });
    expect(p.client.sessionCount).toBe(0);
    await p.close();
  });

  it('one client holds sessions with several servers', async () => {
    const a = await pair({ psk: serverPsk }, { psk: PSK });
    const b = new DtlsServer({ host: '127.0.0.1', port: 0, psk: serverPsk });
    b.on('message', (d, p) => void b.send(Buffer.concat([d, Buffer.from('!')]), p));
    const bAddr = await b.bind();
    expect(await echo(a.client, a.addr, 'to a')).toBe('to a');
    expect(await echo(a.client, bAddr, 'to b')).toBe('to b!');
    expect(a.client.sessionCount).toBe(2);
    expect(a.client.securityContextOf(a.addr)).not.toBe(a.client.securityContextOf(bAddr));
    await b.close();
    await a.close();
  });

  it('works over IPv6 loopback', async () => {
    const p = await pair({ psk: serverPsk }, { psk: PSK }, '::1');
    expect(p.addr.family).toBe('IPv6');
    expect(await echo(p.client, p.addr, 'v6')).toBe('v6');
    await p.close();
  });

  it('runs over a caller-supplied endpoint and leaves it open on close', async () => {
    const udp = new UdpEndpoint({ host: '127.0.0.1' });
    const server = new DtlsServer({ endpoint: udp, psk: serverPsk });
    await server.bind();
    await server.close();
    expect(udp.address()).toBeDefined();
    await udp.close();
  });

  it('a real-socket ClientHello flood gets only HelloVerifyRequests and leaves the table empty', async () => {
    const server = new DtlsServer({ host: '127.0.0.1', port: 0, psk: serverPsk });
    const addr = await server.bind();
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const n = 300;
    let replies = 0;
    let wake: () => void = () => {};
    sock.on('message', (m) => {
      if (hvrCookie(m)) replies++;
      wake();
    });
    // Batches of 50: a synchronous burst of hundreds would overflow the kernel's receive buffer.
    for (let sent = 0; sent < n; sent += 50) {
      for (let i = sent; i < sent + 50; i++) sock.send(rawClientHello({ recordSeq: i }), addr.port, '127.0.0.1');
      while (replies < sent + 50) await new Promise<void>((r) => (wake = r));
    }
    expect(server.sessionCount).toBe(0);
    expect(server.stats.handshakes.helloVerifyRequests).toBe(n);
    sock.close();
    await server.close();
  });

  it('an error event with no listener does not kill the process', async () => {
    const server = new DtlsServer({ host: '127.0.0.1', port: 0, psk: serverPsk });
    await server.bind();
    const warned = new Promise<Error>((r) => process.once('warning', r));
    (server as unknown as { emitError(e: Error): void }).emitError(new Error('simulated transport failure'));
    expect((await warned).message).toContain('simulated transport failure');
    await server.close();
  });
});
