import { describe, expect, it } from 'vitest';
import { Completion } from '../src/completion.js';
import { TypedEmitter } from '../src/emitter.js';
import type { MqttClientError } from '../src/errors.js';
import { BoundedQueue, resolveQueueOptions } from '../src/outbound-queue.js';
import { PacketIdAllocator } from '../src/packet-ids.js';
import { ConnectionStateMachine } from '../src/state.js';
import { parseUrl, targetFor } from '../src/url.js';

describe('PacketIdAllocator', () => {
  it('allocates round-robin, skips ids in use, never 0', () => {
    const a = new PacketIdAllocator();
    expect(a.allocate()).toBe(1);
    expect(a.allocate()).toBe(2);
    a.release(1);
    expect(a.allocate()).toBe(3); // not the just-freed 1
    expect(a.reserve(4)).toBe(true);
    expect(a.reserve(4)).toBe(false);
    expect(a.allocate()).toBe(5);
    expect(a.size).toBe(4);
  });

  it('wraps at 65535 and throws ERR_PACKET_IDS_EXHAUSTED (501) when all are used', () => {
    const a = new PacketIdAllocator();
    for (let i = 0; i < 65_535; i++) a.allocate();
    expect(a.size).toBe(65_535);
    try {
      a.allocate();
      expect.unreachable();
    } catch (e) {
      expect((e as MqttClientError).code).toBe('ERR_PACKET_IDS_EXHAUSTED');
      expect((e as MqttClientError).errorCode).toBe(501);
    }
    a.release(77);
    expect(a.allocate()).toBe(77);
  });
});

describe('BoundedQueue', () => {
  const size = (s: string) => s.length;
  it('bounds count and bytes; reject-new throws ERR_QUEUE_FULL', () => {
    const q = new BoundedQueue<string>(resolveQueueOptions({ maxMessages: 2, maxBytes: 10 }), size);
    q.push('abcd');
    q.push('efgh');
    expect(() => q.push('x')).toThrow(expect.objectContaining({ code: 'ERR_QUEUE_FULL' }));
    expect(q.length).toBe(2);
    expect(q.bytes).toBe(8);
    expect(q.shift()).toBe('abcd');
    expect(() => q.push('0123456')).toThrow(expect.objectContaining({ code: 'ERR_QUEUE_FULL' })); // 4 + 7 > 10
    q.push('012345');
    expect(q.toArray()).toEqual(['efgh', '012345']);
  });

  it('drop-oldest evicts from the front and returns what it dropped', () => {
    const q = new BoundedQueue<string>(resolveQueueOptions({ maxMessages: 3, maxBytes: 100, overflow: 'drop-oldest' }), size);
    for (const s of ['a', 'b', 'c']) q.push(s);
    expect(q.push('d')).toEqual(['a']);
    expect(q.toArray()).toEqual(['b', 'c', 'd']);
    const big = new BoundedQueue<string>(resolveQueueOptions({ maxMessages: 10, maxBytes: 5, overflow: 'drop-oldest' }), size);
    big.push('ab');
    big.push('cd');
    expect(big.push('efg')).toEqual(['ab']);
    expect(big.toArray()).toEqual(['cd', 'efg']);
    expect(() => big.push('123456')).toThrow(expect.objectContaining({ code: 'ERR_QUEUE_FULL' })); // larger than the whole queue
  });

  it('stays consistent over many pushes and shifts (compaction)', () => {
    const q = new BoundedQueue<number>(resolveQueueOptions({ maxMessages: 5000, maxBytes: 1e9 }), () => 1);
    let next = 0;
    let expectNext = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 3000; i++) q.push(next++);
      for (let i = 0; i < 3000; i++) expect(q.shift()).toBe(expectNext++);
    }
    expect(q.length).toBe(0);
    expect(q.bytes).toBe(0);
  });

  it('defaults: 1000 messages, 16 MiB, QoS 0 not queued, reject-new', () => {
    expect(resolveQueueOptions()).toEqual({ maxMessages: 1000, maxBytes: 16 * 1024 * 1024, queueQoS0: false, overflow: 'reject-new' });
  });
});

describe('Completion', () => {
  it('allocates no promise until observed, and works with await', async () => {
    const c = new Completion<number>();
    expect(c.observed).toBe(false);
    c.resolve(5);
    expect(c.observed).toBe(false);
    expect(await c).toBe(5);
    const d = new Completion<number>();
    setTimeout(() => d.resolve(7), 1);
    expect(await d).toBe(7);
  });

  it('reports a rejection nobody observed, and not one that was awaited', async () => {
    const seen: unknown[] = [];
    const c = new Completion<number>((e) => seen.push(e));
    c.reject(new Error('x'));
    expect(seen).toHaveLength(0); // judged after the current macrotask: `await` attaches late
    await new Promise((r) => setTimeout(r, 5));
    expect(seen).toHaveLength(1);
    const d = new Completion<number>((e) => seen.push(e));
    const p = d.catch((e) => (e as Error).message);
    d.reject(new Error('y'));
    expect(await p).toBe('y');
    const e = new Completion<number>((x) => seen.push(x));
    e.reject(new Error('z'));
    await expect(e).rejects.toThrow('z'); // awaited right after the synchronous rejection
    await new Promise((r) => setTimeout(r, 5));
    expect(seen).toHaveLength(1);
  });
});

describe('TypedEmitter', () => {
  interface Ev {
    a: (n: number) => void;
    error: (e: Error) => void;
  }
  it('routes listener exceptions to error, and an unheard error becomes a warning', async () => {
    const e = new TypedEmitter<Ev>();
    const errors: Error[] = [];
    e.on('a', () => {
      throw new Error('boom');
    });
    e.on('error', (x) => errors.push(x));
    e.emit('a', 1);
    expect(errors.map((x) => x.message)).toEqual(['boom']);
    const lonely = new TypedEmitter<Ev>();
    const warned = new Promise<Error>((r) => process.once('warning', r));
    expect(lonely.emit('error', new Error('nobody listens'))).toBe(false);
    expect((await warned).message).toMatch(/nobody listens/);
  });

  it('once, off, has, listenerCount', () => {
    const e = new TypedEmitter<Ev>();
    const seen: number[] = [];
    const l = (n: number) => seen.push(n);
    e.once('a', l);
    expect(e.has('a')).toBe(true);
    e.emit('a', 1);
    e.emit('a', 2);
    expect(seen).toEqual([1]);
    expect(e.has('a')).toBe(false);
    e.on('a', l);
    e.off('a', l);
    expect(e.listenerCount('a')).toBe(0);
  });
});

describe('ConnectionStateMachine', () => {
  it('allows legal moves and refuses illegal ones', () => {
    const seen: string[] = [];
    const m = new ConnectionStateMachine((f, t) => seen.push(`${f}>${t}`));
    m.move('connecting');
    m.move('connected');
    m.move('reconnecting');
    m.move('connecting');
    m.move('connected');
    m.move('disconnecting');
    expect(() => m.move('connected')).toThrow(/illegal/);
    m.move('disconnected');
    expect(seen).toHaveLength(7);
    expect(() => m.move('connected')).toThrow(/illegal/);
  });
});

describe('URLs', () => {
  it('parses schemes with default ports and the WebSocket path', () => {
    expect(parseUrl('mqtt://h')).toMatchObject({ protocol: 'mqtt', host: 'h', port: 1883 });
    expect(parseUrl('mqtts://h')).toMatchObject({ protocol: 'mqtts', port: 8883 });
    expect(parseUrl('ws://h')).toMatchObject({ protocol: 'ws', port: 80, path: '/mqtt' });
    expect(parseUrl('wss://h:9001/custom?x=1')).toMatchObject({ protocol: 'wss', port: 9001, path: '/custom?x=1' });
    expect(parseUrl('mqtt://u%40x:p%3Aw@[::1]:1999')).toMatchObject({ host: '::1', port: 1999, username: 'u@x', password: 'p:w' });
    expect(parseUrl('tcp://h')).toMatchObject({ protocol: 'mqtt' });
    expect(parseUrl('tls://h')).toMatchObject({ protocol: 'mqtts' });
  });

  it('rejects bad URLs with ERR_INVALID_URL (153)', () => {
    for (const u of ['http://h', 'nonsense', 'mqtt://0.0.0.0']) {
      try {
        parseUrl(u);
        expect.unreachable(u);
      } catch (e) {
        expect((e as MqttClientError).code).toBe('ERR_INVALID_URL');
        expect((e as MqttClientError).errorCode).toBe(153);
      }
    }
  });

  it('host/port targets: scheme in the host, TLS default port, port range', () => {
    expect(targetFor('ws://h', 8080, false, undefined)).toMatchObject({ protocol: 'ws', host: 'h', port: 8080 });
    expect(targetFor('ws://h:81', 8080, false, undefined)).toMatchObject({ port: 81 });
    expect(targetFor('h', undefined, true, undefined)).toMatchObject({ protocol: 'mqtts', port: 8883 });
    expect(() => targetFor('h', 0, false, undefined)).toThrow(/invalid port/);
    expect(() => targetFor('0.0.0.0', 1883, false, undefined)).toThrow();
  });
});
