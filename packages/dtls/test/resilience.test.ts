import type { PeerAddress } from '@iotwire/udp';
import { describe, expect, it } from 'vitest';
import { DtlsClient, type DtlsClientOptions, type DtlsError, DtlsServer, type DtlsServerOptions } from '../src/index.js';
import { next } from './helpers/pair.js';
import { firstRecord, PipeNetwork } from './helpers/pipe.js';
import { makePki } from './helpers/pki.js';
import { hvrCookie, prng, rawClientHello, splitRecords } from './helpers/raw.js';
import { ManualTimers } from './helpers/timers.js';

const PSK = { identity: 'Client_identity', key: 'secretPSK' };
const serverPsk = { keys: { Client_identity: 'secretPSK' } };
const fast = { retransmit: { initialMs: 40, maxMs: 400, maxRetransmissions: 8 } };

async function network(serverOptions: DtlsServerOptions = { psk: serverPsk }, clientOptions: DtlsClientOptions = { psk: PSK }) {
  const net = new PipeNetwork();
  const sEp = net.endpoint(5684);
  const server = new DtlsServer({ endpoint: sEp, ...fast, ...serverOptions });
  const received: string[] = [];
  server.on('message', (d, p) => {
    received.push(d.toString());
    server.send(d, p).catch(() => {});
  });
  await server.bind();
  const cEp = net.endpoint(40001);
  const client = new DtlsClient({ endpoint: cEp, ...fast, ...clientOptions });
  return { net, server, client, addr: sEp.addr, clientAddr: cEp.addr, received };
}

async function roundTrip(client: DtlsClient, to: PeerAddress, text: string): Promise<string> {
  const got = next<[Buffer]>(client, 'message');
  await client.send(Buffer.from(text), to);
  return (await got)[0].toString();
}

/** Lets pending setImmediate deliveries run. */
const settle = () => new Promise((r) => setTimeout(r, 30));

describe('bad records on an established session are dropped silently and counted', () => {
  async function established() {
    const env = await network();
    const captured: Buffer[] = [];
    env.net.filter = (d, from) => {
      if (from.port === env.clientAddr.port && d[0] === 23) captured.push(Buffer.from(d));
      return [d];
    };
    expect(await roundTrip(env.client, env.addr, 'one')).toBe('one');
    return { ...env, record: captured[0]! };
  }

  /** A copy with a sequence number not seen yet (so the replay check passes and decryption is tried). */
  const fresh = (r: Buffer) => Object.assign(Buffer.from(r), { 9: r[9]! ^ 0x10 });
  const cases: [string, (r: Buffer) => Buffer, keyof DtlsServer['stats']['dropped']][] = [
    ['forged (ciphertext bit flip)', (r) => Object.assign(fresh(r), { [r.length - 3]: r[r.length - 3]! ^ 1 }), 'badMac'],
    ['forged (header sequence changed: AAD mismatch)', (r) => fresh(r), 'badMac'],
    [
      'forged (too short to hold nonce and tag)',
      (r) => Buffer.concat([fresh(r).subarray(0, 11), Buffer.from([0, 4]), Buffer.alloc(4)]),
      'badMac',
    ],
    ['replayed', (r) => Buffer.from(r), 'replayed'],
    ['truncated', (r) => r.subarray(0, r.length - 4), 'truncated'],
    ['out of epoch (epoch 2)', (r) => Object.assign(Buffer.from(r), { 4: 2 }), 'badEpoch'],
    ['plaintext in epoch 0', (r) => Object.assign(Buffer.from(r), { 4: 0 }), 'badEpoch'],
    ['bad version', (r) => Object.assign(Buffer.from(r), { 2: 0xfc }), 'malformed'],
    ['unknown content type', (r) => Object.assign(Buffer.from(r), { 0: 99 }), 'malformed'],
  ];
  for (const [name, mutate, counter] of cases) {
    it(name, async () => {
      const { net, server, client, addr, clientAddr, record, received } = await established();
      const before = { ...server.stats.dropped };
      net.inject(mutate(record), clientAddr, addr);
      await settle();
      expect(server.stats.dropped[counter]).toBe(before[counter] + 1);
      expect(received).toEqual(['one']);
      // Nothing else was affected: the session carries on.
      expect(await roundTrip(client, addr, 'two')).toBe('two');
      expect(server.sessionCount).toBe(1);
      await client.close();
      await server.close();
    });
  }

  it('unauthenticated epoch-0 alerts cannot tear down an established session', async () => {
    const { net, server, client, addr, clientAddr } = await established();
    const fatal = Buffer.from([21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 99, 0, 2, 2, 40]);
    net.inject(fatal, clientAddr, addr);
    await settle();
    expect(server.stats.alertsReceived).toBe(0);
    expect(await roundTrip(client, addr, 'still here')).toBe('still here');
    await client.close();
    await server.close();
  });

  it('garbage from the session peer or from strangers is dropped', async () => {
    const { net, server, client, addr, clientAddr } = await established();
    const r = prng(7);
    for (let i = 0; i < 200; i++) {
      const junk = Buffer.from(Array.from({ length: Math.floor(r() * 80) }, () => Math.floor(r() * 256)));
      net.inject(junk, clientAddr, addr);
      net.inject(junk, { address: '10.9.9.9', port: 1000 + i, family: 'IPv4' }, addr);
    }
    await settle();
    const d = server.stats.dropped;
    expect(d.malformed + d.truncated + d.badEpoch + d.replayed + d.badMac + d.unexpected).toBeGreaterThan(0);
    expect(d.noSession).toBeGreaterThan(0);
    expect(server.sessionCount).toBe(1);
    expect(await roundTrip(client, addr, 'ok')).toBe('ok');
    await client.close();
    await server.close();
  });

  it('application data larger than one record is refused locally', async () => {
    const { server, client, addr } = await established();
    await expect(client.send(Buffer.alloc(16385), addr)).rejects.toMatchObject({ code: 'ERR_DTLS_MESSAGE_TOO_LARGE' });
    await client.close();
    await server.close();
  });
});

describe('lossy, duplicating and reordering networks', () => {
  it('recovers a lost ServerHello flight by retransmission', async () => {
    const { net, server, client, addr } = await network();
    let dropped = 0;
    net.filter = (d) => (firstRecord(d).handshakeType === 2 && dropped++ === 0 ? [] : [d]);
    expect(await roundTrip(client, addr, 'x')).toBe('x');
    expect(dropped).toBeGreaterThan(1);
    expect(client.stats.retransmissions + server.stats.retransmissions).toBeGreaterThan(0);
    await client.close();
    await server.close();
  });

  it('a lost final server flight is resent when the client retransmits (no timer on the last flight)', async () => {
    const { net, server, client, addr } = await network();
    let dropped = 0;
    net.filter = (d, from) => (from.port === 5684 && d[0] === 20 && dropped++ === 0 ? [] : [d]);
    expect(await roundTrip(client, addr, 'y')).toBe('y');
    expect(dropped).toBeGreaterThanOrEqual(2); // the original and at least one resend
    expect(server.stats.retransmissions).toBeGreaterThan(0);
    await client.close();
    await server.close();
  });

  it('a lost final client flight of a resumed handshake is recovered by the server timer', async () => {
    const { net, server, client, addr } = await network();
    await client.connect(addr);
    client.closeSession(addr);
    await settle();
    let dropped = 0;
    net.filter = (d, from) => (from.port === 40001 && d[0] === 20 && dropped++ === 0 ? [] : [d]);
    const serverSession = next(server, 'session');
    expect((await client.connect(addr)).resumed).toBe(true);
    await serverSession;
    expect(dropped).toBeGreaterThanOrEqual(2); // the original and at least one resend
    expect(await roundTrip(client, addr, 'z')).toBe('z');
    await client.close();
    await server.close();
  });

  it('survives every datagram duplicated; duplicate application records count as replays', async () => {
    const { net, server, client, addr, received } = await network();
    net.filter = (d) => [d, Buffer.from(d)];
    expect(await roundTrip(client, addr, 'dup')).toBe('dup');
    await settle();
    expect(received).toEqual(['dup']);
    expect(server.stats.dropped.replayed).toBeGreaterThan(0);
    await client.close();
    await server.close();
  });

  it('survives records split apart and delivered in reverse (Finished before ChangeCipherSpec)', async () => {
    const pki = makePki();
    const { net, server, client, addr } = await network(
      { cert: pki.pem(pki.serverCert), key: pki.pem(pki.serverKey), requestClientCert: true, clientCa: pki.pem(pki.caCert) },
      { ca: pki.pem(pki.caCert), cert: pki.pem(pki.clientCert), key: pki.pem(pki.clientKey) },
    );
    net.filter = (d) => splitRecords(d).reverse();
    expect(await roundTrip(client, addr, 'reordered')).toBe('reordered');
    await client.close();
    await server.close();
  });

  it('completes a fragmented certificate handshake through 25% random loss', async () => {
    const pki = makePki();
    const rand = prng(42);
    const { net, server, client, addr } = await network(
      {
        cert: pki.pem(pki.serverIntCert) + pki.pem(pki.intCert),
        key: pki.pem(pki.serverKey),
        mtu: 200,
        retransmit: { initialMs: 20, maxMs: 160, maxRetransmissions: 30 },
      },
      { ca: pki.pem(pki.caCert), mtu: 200, retransmit: { initialMs: 20, maxMs: 160, maxRetransmissions: 30 } },
    );
    let handshaking = true;
    net.filter = (d) => (handshaking && rand() < 0.25 ? [] : [d]);
    await client.connect(addr);
    handshaking = false;
    expect(await roundTrip(client, addr, 'lossy')).toBe('lossy');
    await client.close();
    await server.close();
  }, 30_000);
});

describe('server state and limits', () => {
  it('a ClientHello flood without valid cookies allocates no session state', async () => {
    const net = new PipeNetwork();
    const ep = net.endpoint(5684);
    const server = new DtlsServer({ endpoint: ep, psk: serverPsk });
    await server.bind();
    const replies: Buffer[] = [];
    net.filter = (d, from) => {
      if (from.port === 5684) replies.push(d);
      return [];
    };
    for (let i = 0; i < 500; i++) {
      const from = { address: `10.1.${i >> 8}.${i & 255}`, port: 2000 + i, family: 'IPv4' as const };
      net.inject(rawClientHello({ recordSeq: i }), from, ep.addr);
      net.inject(rawClientHello({ cookie: Buffer.alloc(32, i & 255), messageSeq: 1, recordSeq: i + 1 }), from, ep.addr); // forged cookie
    }
    await settle();
    await settle();
    expect(server.sessionCount).toBe(0);
    expect(server.stats.handshakes.helloVerifyRequests).toBe(1000);
    expect(server.stats.handshakes.started).toBe(0);
    // Every reply is a HelloVerifyRequest no larger than the hello (no amplification), echoing the record sequence.
    expect(replies.every((r) => hvrCookie(r)?.length === 32 && r.length <= rawClientHello().length)).toBe(true);
    await server.close();
  });

  it('a peer that stalls after the cookie exchange is retransmitted to, then timed out and forgotten', async () => {
    const timers = new ManualTimers();
    const net = new PipeNetwork();
    const ep = net.endpoint(5684);
    const server = new DtlsServer({
      endpoint: ep,
      psk: serverPsk,
      timers,
      retransmit: { initialMs: 1000, maxRetransmissions: 3 },
      handshakeTimeoutMs: 60_000,
    });
    await server.bind();
    const me = { address: '10.0.0.9', port: 3333, family: 'IPv4' as const };
    const toMe: Buffer[] = [];
    net.filter = (d) => {
      toMe.push(d);
      return [];
    };
    const random = Buffer.alloc(32, 9);
    net.inject(rawClientHello({ random }), me, ep.addr);
    await settle();
    const cookie = hvrCookie(toMe[0]!)!;
    net.inject(rawClientHello({ random, cookie, recordSeq: 1, messageSeq: 1 }), me, ep.addr);
    await settle();
    expect(server.sessionCount).toBe(1);
    const flights = toMe.length;
    const failed = next<[DtlsError]>(server, 'handshakeError');
    timers.advance(1000 + 2000 + 4000); // three retransmissions
    expect(toMe.length).toBe(flights + 3);
    timers.advance(8000); // give up
    expect((await failed)[0]).toMatchObject({ code: 'ERR_DTLS_HANDSHAKE_TIMEOUT' });
    expect(server.sessionCount).toBe(0);
    expect(server.stats.handshakes.timedOut).toBe(1);
    await server.close();
  });

  it('the overall handshake timeout applies even while flights are answered slowly', async () => {
    const timers = new ManualTimers();
    const net = new PipeNetwork();
    const ep = net.endpoint(5684);
    const server = new DtlsServer({
      endpoint: ep,
      psk: serverPsk,
      timers,
      retransmit: { initialMs: 1000, maxRetransmissions: 100 },
      handshakeTimeoutMs: 5000,
    });
    await server.bind();
    const me = { address: '10.0.0.9', port: 3333, family: 'IPv4' as const };
    const toMe: Buffer[] = [];
    net.filter = (d) => {
      toMe.push(d);
      return [];
    };
    const random = Buffer.alloc(32, 3);
    net.inject(rawClientHello({ random }), me, ep.addr);
    await settle();
    net.inject(rawClientHello({ random, cookie: hvrCookie(toMe[0]!)!, recordSeq: 1, messageSeq: 1 }), me, ep.addr);
    await settle();
    const failed = next<[DtlsError]>(server, 'handshakeError');
    timers.advance(5001);
    expect((await failed)[0].code).toBe('ERR_DTLS_HANDSHAKE_TIMEOUT');
    expect(server.sessionCount).toBe(0);
    await server.close();
  });

  it('bounds the session table, evicting the least recently active session', async () => {
    const net = new PipeNetwork();
    const ep = net.endpoint(5684);
    const server = new DtlsServer({ endpoint: ep, psk: serverPsk, maxSessions: 2 });
    await server.bind();
    const closes: string[] = [];
    server.on('sessionClose', (p, reason) => closes.push(`${p.port}:${reason}`));
    const clients: DtlsClient[] = [];
    for (let i = 0; i < 4; i++) {
      const c = new DtlsClient({ endpoint: net.endpoint(41000 + i), psk: PSK });
      clients.push(c);
      await c.connect(ep.addr);
      expect(server.sessionCount).toBeLessThanOrEqual(2);
    }
    expect(closes).toEqual(['41000:evicted', '41001:evicted']);
    for (const c of clients) await c.close();
    await server.close();
  });

  it('closes idle sessions (idleTimeoutMs)', async () => {
    const timers = new ManualTimers();
    const { server, client, addr } = await network({ psk: serverPsk, timers, idleTimeoutMs: 10_000 });
    await client.connect(addr);
    await settle();
    const closed = next<[PeerAddress, string]>(server, 'sessionClose');
    timers.advance(5_000);
    expect(server.sessionCount).toBe(1);
    timers.advance(20_000);
    expect((await closed)[1]).toBe('idle');
    expect(server.sessionCount).toBe(0);
    await client.close();
    await server.close();
  });

  it('a new association from a known address replaces the old session once its cookie is verified (RFC 6347 §4.2.8)', async () => {
    const { net, server, client, addr } = await network();
    const first = await client.connect(addr);
    // The device reboots: same address and port, new client state, no close_notify.
    const rebooted = new DtlsClient({ endpoint: net.endpoint(40001), psk: PSK });
    const replaced = next<[PeerAddress, string]>(server, 'sessionClose');
    const second = await rebooted.connect(addr);
    expect((await replaced)[1]).toBe('replaced');
    expect(server.sessionCount).toBe(1);
    expect(second.securityContext).not.toBe(first.securityContext);
    expect(await roundTrip(rebooted, addr, 'after reboot')).toBe('after reboot');
    await rebooted.close();
    await client.close();
    await server.close();
  });

  it('a retransmitted ClientHello of a completed handshake does not replace the session', async () => {
    const { net, server, client, addr, clientAddr } = await network();
    const hellos: Buffer[] = [];
    net.filter = (d, from) => {
      if (from.port === clientAddr.port && firstRecord(d).handshakeType === 1) hellos.push(d);
      return [d];
    };
    await client.connect(addr);
    net.inject(hellos.at(-1)!, clientAddr, addr); // the hello with the cookie, late
    await settle();
    expect(server.stats.handshakes.started).toBe(1);
    expect(await roundTrip(client, addr, 'same')).toBe('same');
    await client.close();
    await server.close();
  });
});
