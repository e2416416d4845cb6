import { decode, encode, MessageType, OptionNumber, toHex, uintOption } from '@iotwire/coap-message';
import { afterEach, describe, expect, it } from 'vitest';
import type { ObserverInfo, UnregisterReason } from '../src/index.js';
import { pair, rawSocket } from './helpers.js';

type Pair = Awaited<ReturnType<typeof pair>>;
let p: Pair | undefined;
let raw: Awaited<ReturnType<typeof rawSocket>> | undefined;
afterEach(async () => {
  raw?.close();
  raw = undefined;
  await p?.close();
  p = undefined;
});

const observeGet = (mid: number, token: Buffer, value: number, path = 'obs') =>
  encode({
    type: MessageType.CON,
    code: 1,
    messageId: mid,
    token,
    options: [uintOption(OptionNumber.Observe, value), { number: 11, value: Buffer.from(path) }],
    payload: Buffer.alloc(0),
  });
const observeOf = (m: ReturnType<typeof decode>) => {
  const o = m.options.find((x) => x.number === OptionNumber.Observe);
  return o === undefined ? undefined : o.value.reduce((a, b) => a * 256 + b, 0);
};

async function observed(opts: Parameters<typeof pair>[0] = {}) {
  // Default timers: a retransmitted notification arriving before our ACK would shift the
  // sequence the tests read. The time-out test shortens them itself.
  p = await pair(opts);
  let state = 0;
  p.server.resource('/obs', { observable: true, get: () => ({ payload: `s${state}` }) });
  const events: string[] = [];
  const infos: ObserverInfo[] = [];
  p.server.on('register', (i) => {
    events.push(`register ${i.path}`);
    infos.push(i);
  });
  p.server.on('unregistered', (i, r: UnregisterReason) => events.push(`unregistered ${i.path} ${r}`));
  raw = await rawSocket();
  return { events, infos, bump: () => state++ };
}

describe('CoapServer: observe (RFC 7641)', () => {
  it('registers, notifies with increasing Observe values and the same token, deregisters with Observe = 1', async () => {
    const { events, infos, bump } = await observed();
    raw!.send(observeGet(1, Buffer.of(0xab, 0xcd), 0), p!.port);
    const first = decode(await raw!.next());
    expect([first.type, first.code, first.payload.toString()]).toEqual([MessageType.ACK, 0x45, 's0']);
    const v0 = observeOf(first) as number;
    expect(infos[0]?.uri).toBe(`coap://127.0.0.1:${p!.port}/obs`);
    expect(toHex(infos[0]!.token)).toBe('abcd');
    bump();
    expect(p!.server.notify('/obs')).toBe(1);
    const n1 = decode(await raw!.next());
    expect([n1.type, toHex(n1.token), n1.payload.toString(), observeOf(n1)]).toEqual([MessageType.CON, 'abcd', 's1', (v0 + 1) & 0xffffff]);
    raw!.send(Buffer.from([0x60, 0, n1.messageId >> 8, n1.messageId & 255]), p!.port); // ACK it
    raw!.send(observeGet(2, Buffer.of(0xab, 0xcd), 1), p!.port);
    const dereg = decode(await raw!.next());
    expect(observeOf(dereg)).toBeUndefined();
    expect(dereg.code).toBe(0x45);
    expect(events).toEqual(['register /obs', 'unregistered /obs deregistered']);
    expect(p!.server.notify('/obs')).toBe(0);
  });

  it('replaces a registration with the same endpoint and token instead of adding one', async () => {
    const { events } = await observed();
    raw!.send(observeGet(1, Buffer.of(1), 0), p!.port);
    await raw!.next();
    raw!.send(observeGet(2, Buffer.of(1), 0), p!.port);
    await raw!.next();
    expect(p!.server.observerCount('/obs')).toBe(1);
    expect(events).toEqual(['register /obs']);
    raw!.send(observeGet(3, Buffer.of(2), 0), p!.port);
    await raw!.next();
    expect(p!.server.observerCount('/obs')).toBe(2);
  });

  it('removes an observer that answers a notification with RST', async () => {
    const { events } = await observed();
    raw!.send(observeGet(1, Buffer.of(1), 0), p!.port);
    await raw!.next();
    p!.server.notify('/obs');
    const n = decode(await raw!.next());
    raw!.send(Buffer.from([0x70, 0, n.messageId >> 8, n.messageId & 255]), p!.port);
    await expect.poll(() => events.length).toBe(2);
    expect(events[1]).toBe('unregistered /obs reset');
  });

  it('removes an observer whose CON notification is never acknowledged', async () => {
    const { events } = await observed({ transmission: { ackTimeout: 0.05, maxRetransmit: 1 } });
    raw!.send(observeGet(1, Buffer.of(1), 0), p!.port);
    await raw!.next();
    p!.server.notify('/obs');
    await expect.poll(() => events.length, { timeout: 5000 }).toBe(2);
    expect(events[1]).toBe('unregistered /obs timeout');
  });

  it('ends observations with a non-2.xx notification that carries no Observe option', async () => {
    const { events } = await observed();
    raw!.send(observeGet(1, Buffer.of(1), 0), p!.port);
    await raw!.next();
    expect(p!.server.notify('/obs', { code: '4.04' })).toBe(1);
    const n = decode(await raw!.next());
    expect([n.code, observeOf(n)]).toEqual([0x84, undefined]);
    expect(events).toEqual(['register /obs', 'unregistered /obs error-response']);
  });

  it('sends NON notifications with a CON every fifth in NON mode (RFC 7641 §4.5)', async () => {
    await observed({ confirmable: false, notifyConEvery: 5 });
    raw!.send(observeGet(1, Buffer.of(1), 0), p!.port);
    await raw!.next();
    const types: number[] = [];
    for (let i = 0; i < 10; i++) {
      p!.server.notify('/obs');
      const n = decode(await raw!.next());
      types.push(n.type);
      if (n.type === MessageType.CON) raw!.send(Buffer.from([0x60, 0, n.messageId >> 8, n.messageId & 255]), p!.port);
    }
    expect(types).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 1, 0]);
  });

  it('declines registrations on non-observable resources: a plain response without Observe', async () => {
    p = await pair();
    p.server.resource('/plain', { get: () => ({ payload: 'p' }) });
    raw = await rawSocket();
    raw.send(observeGet(1, Buffer.of(1), 0, 'plain'), p.port);
    const m = decode(await raw.next());
    expect([m.code, observeOf(m)]).toEqual([0x45, undefined]);
    expect(p.server.observerCount('/plain')).toBe(0);
  });

  it('lets acceptObserver decide (seed Register/Accept), also asynchronously', async () => {
    p = await pair({ acceptObserver: async (req) => req.query.includes('ok') });
    p.server.handler = (req) => ({ payload: req.path });
    const seen: string[] = [];
    const yes = await p.client.observe(`${p.base}/any?ok`, (n) => {
      seen.push(n.response.text());
    });
    const no = await p.client.observe(`${p.base}/any?no`, () => {});
    expect([yes.accepted, no.accepted]).toEqual([true, false]);
    expect(p.server.observerCount('/any')).toBe(1);
    p.server.notify('/any', { payload: 'pushed' });
    await expect.poll(() => seen).toEqual(['/any', 'pushed']);
    await yes.cancel();
  });

  it('caps the number of observers (maxObservers)', async () => {
    await observed({ maxObservers: 2 });
    for (let t = 1; t <= 3; t++) {
      raw!.send(observeGet(t, Buffer.of(t), 0), p!.port);
      const m = decode(await raw!.next());
      expect(observeOf(m) !== undefined).toBe(t <= 2);
    }
    expect(p!.server.stats.observers).toBe(2);
  });

  it('keeps at most one CON notification in flight per observer (§4.5.2)', async () => {
    await observed({ transmission: { ackTimeout: 1, maxRetransmit: 4 } });
    raw!.send(observeGet(1, Buffer.of(1), 0), p!.port);
    await raw!.next();
    p!.server.notify('/obs');
    p!.server.notify('/obs');
    const a = decode(await raw!.next());
    const b = decode(await raw!.next());
    // The second replaced the first: acknowledging it ends retransmission of both.
    raw!.send(Buffer.from([0x60, 0, b.messageId >> 8, b.messageId & 255]), p!.port);
    // The first retransmission would come 1–1.5 s after the first notification.
    await expect(raw!.next(1800)).rejects.toThrow('no datagram');
    expect(a.messageId).not.toBe(b.messageId);
    expect(p!.server.stats.retransmissions).toBe(0);
    expect(p!.server.observerCount('/obs')).toBe(1);
  });

  it('drops observers of a removed resource with 4.04', async () => {
    const { events } = await observed();
    raw!.send(observeGet(1, Buffer.of(1), 0), p!.port);
    await raw!.next();
    expect(p!.server.removeResource('/obs')).toBe(true);
    const n = decode(await raw!.next());
    expect(n.code).toBe(0x84);
    expect(events.at(-1)).toBe('unregistered /obs error-response');
  });
});
