// MaxTransferRate: the token bucket and the throttled byte stream, on a fake clock.
import { encode } from '@iotwire/mqtt-packet';
import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../src/token-bucket.js';
import { ThrottledStream, throttle } from '../src/transport/throttled.js';
import type { ByteStream, StreamHandlers } from '../src/transport/types.js';
import { ManualClock } from './helpers/manual-clock.js';

/** An inner transport recording what was written and when; `blocked` simulates back-pressure. */
class RecordingStream implements ByteStream {
  writes: { at: number; bytes: Buffer }[] = [];
  blocked = false;
  ended = false;
  destroyed = false;
  handlers: StreamHandlers | undefined;
  readonly localAddress = '127.0.0.1';
  readonly localPort = 1;
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 2;
  readonly tls = undefined;
  constructor(private readonly clock: ManualClock) {}
  get needDrain(): boolean {
    return this.blocked;
  }
  start(h: StreamHandlers): void {
    this.handlers = h;
  }
  write(data: Uint8Array): boolean {
    this.writes.push({ at: this.clock.t, bytes: Buffer.from(data) });
    return !this.blocked;
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  get all(): Buffer {
    return Buffer.concat(this.writes.map((w) => w.bytes));
  }
  sentBy(t: number): number {
    return this.writes.filter((w) => w.at <= t).reduce((n, w) => n + w.bytes.length, 0);
  }
}

function setup(rate: number, burst?: number) {
  const clock = new ManualClock();
  const inner = new RecordingStream(clock);
  const s = new ThrottledStream(inner, rate, clock, burst);
  const events = { drains: 0, closed: 0, data: [] as Buffer[] };
  s.start({
    data: (c) => events.data.push(c),
    drain: () => events.drains++,
    close: () => events.closed++,
  });
  return { clock, inner, s, events };
}

const publish = (topic: string, size: number, fill = 0x61) =>
  Buffer.from(encode({ type: 'publish', topic, payload: Buffer.alloc(size, fill), qos: 0, retain: false, dup: false }, 4));
const PINGREQ = Buffer.from([0xc0, 0x00]);

describe('TokenBucket', () => {
  it('starts full, refills at the rate, caps at the burst', () => {
    const clock = new ManualClock();
    const b = new TokenBucket(1000, 100, clock);
    expect(b.available()).toBe(100);
    b.take(100);
    expect(b.available()).toBe(0);
    clock.advance(50);
    expect(b.available()).toBe(50);
    clock.advance(10_000);
    expect(b.available()).toBe(100);
  });

  it('overdraws into debt and reports the delay to pay it back', () => {
    const clock = new ManualClock();
    const b = new TokenBucket(1000, 100, clock);
    b.take(600); // 500 bytes of debt
    expect(b.available()).toBe(0);
    expect(b.delayFor(1)).toBe(501);
    expect(b.delayFor(10_000)).toBe(600); // capped at the burst
    clock.advance(600);
    expect(b.available()).toBe(100);
    expect(b.delayFor(50)).toBe(0);
  });

  it('validates its parameters and has a sane default burst', () => {
    const clock = new ManualClock();
    expect(() => new TokenBucket(0, 10, clock)).toThrow(RangeError);
    expect(() => new TokenBucket(Number.POSITIVE_INFINITY, 10, clock)).toThrow(RangeError);
    expect(() => new TokenBucket(10, 0, clock)).toThrow(RangeError);
    expect(TokenBucket.defaultBurst(100)).toBe(64);
    expect(TokenBucket.defaultBurst(100_000)).toBe(10_000);
  });
});

describe('ThrottledStream', () => {
  it('delays bytes to the rate and never drops or reorders them', () => {
    const { clock, inner, s } = setup(1000, 100);
    const packets = [publish('a', 500, 0x61), publish('b', 700, 0x62), publish('c', 10, 0x63)];
    for (const p of packets) s.write(p);
    expect(inner.sentBy(0)).toBe(100); // the burst
    for (let t = 100; t <= 3000; t += 100) {
      clock.advance(100);
      // Never ahead of burst + rate * elapsed.
      expect(inner.sentBy(clock.t)).toBeLessThanOrEqual(100 + clock.t);
    }
    expect(inner.all.equals(Buffer.concat(packets))).toBe(true);
    expect(s.queuedBytes).toBe(0);
    const total = Buffer.concat(packets).length;
    // It took about total/rate seconds: within one burst of the ideal.
    const last = inner.writes.at(-1)?.at ?? 0;
    expect(last).toBeGreaterThanOrEqual(total - 100 - 1);
    expect(last).toBeLessThanOrEqual(total + 100);
  });

  it('passes bytes through at once while under the rate', () => {
    const { inner, s } = setup(100_000);
    const p = publish('t', 20);
    expect(s.write(p)).toBe(true);
    expect(inner.all.equals(p)).toBe(true);
  });

  it('reports back-pressure above its high-water mark and drains later', () => {
    const { clock, s, events } = setup(10_000, 1000);
    let ok = true;
    for (let i = 0; i < 100 && ok; i++) ok = s.write(publish('x', 1000));
    expect(ok).toBe(false);
    expect(s.needDrain).toBe(true);
    expect(events.drains).toBe(0);
    clock.advance(20_000);
    expect(s.needDrain).toBe(false);
    expect(events.drains).toBe(1);
  });

  it("respects the inner transport's back-pressure", () => {
    const { clock, inner, s } = setup(1_000_000);
    inner.blocked = true;
    s.write(publish('a', 10));
    s.write(publish('b', 10));
    expect(inner.writes).toHaveLength(1); // stopped after the write that reported false
    clock.advance(1000);
    expect(inner.writes).toHaveLength(1);
    inner.blocked = false;
    inner.handlers?.drain();
    expect(inner.all.equals(Buffer.concat([publish('a', 10), publish('b', 10)]))).toBe(true);
  });

  it('sends PINGREQ at the next packet boundary, ahead of the backlog, without waiting for tokens', () => {
    const { clock, inner, s } = setup(1000, 100);
    const big = publish('big', 5000, 0x42);
    const next = publish('next', 3000, 0x43);
    s.write(big);
    s.write(next);
    clock.advance(1000); // part of `big` is out
    s.writeUrgent(PINGREQ);
    // The PINGREQ must not cut `big` in two: it waits for big's last byte, not for `next`.
    const sentBefore = inner.sentBy(clock.t);
    expect(sentBefore).toBeLessThan(big.length);
    clock.advance(big.length - sentBefore + 200);
    const all = inner.all;
    expect(all.subarray(0, big.length).equals(big)).toBe(true);
    expect(all.subarray(big.length, big.length + 2).equals(PINGREQ)).toBe(true);
    clock.advance(10_000);
    expect(inner.all.equals(Buffer.concat([big, PINGREQ, next]))).toBe(true);
  });

  it('sends PINGREQ at once at a boundary even with the bucket empty', () => {
    const { inner, s } = setup(1000, 100);
    s.write(publish('t', 50)); // 55 bytes: out at once
    s.write(publish('t', 200)); // mostly queued
    const before = inner.writes.length;
    // Mid-packet: nothing yet.
    s.writeUrgent(PINGREQ);
    expect(inner.writes.length).toBe(before);
    const idle = setup(1000, 100);
    idle.s.write(publish('t', 95)); // exactly empties the bucket, ends at a boundary
    idle.s.writeUrgent(PINGREQ);
    expect(idle.inner.writes.at(-1)?.bytes.equals(PINGREQ)).toBe(true);
  });

  it('follows the framing across pieces split inside the fixed header', () => {
    // Burst 1: every byte is its own piece, including the varint of a 200-byte packet.
    const { clock, inner, s } = setup(1000, 1);
    const p1 = publish('t', 200);
    const p2 = publish('u', 5);
    s.write(p1);
    s.write(p2);
    clock.advance(2);
    s.writeUrgent(PINGREQ); // inside p1's header
    clock.advance(1000);
    const all = inner.all;
    expect(all.subarray(0, p1.length).equals(p1)).toBe(true);
    expect(all.subarray(p1.length, p1.length + 2).equals(PINGREQ)).toBe(true);
    expect(all.subarray(p1.length + 2).equals(p2)).toBe(true);
  });

  it('end() flushes the queue first; destroy() drops it', () => {
    const { clock, inner, s } = setup(1000, 100);
    s.write(publish('t', 300));
    s.end();
    expect(inner.ended).toBe(false);
    expect(s.write(publish('late', 1))).toBe(false);
    clock.advance(1000);
    expect(inner.ended).toBe(true);
    expect(inner.all.equals(publish('t', 300))).toBe(true);

    const d = setup(1000, 100);
    d.s.write(publish('t', 300));
    d.s.destroy();
    expect(d.inner.destroyed).toBe(true);
    d.clock.advance(10_000);
    expect(d.inner.sentBy(d.clock.t)).toBe(100);
    expect(d.clock.timers).toHaveLength(0);
  });

  it('passes inbound data and close through; stops pacing after close', () => {
    const { clock, inner, s, events } = setup(1000, 100);
    inner.handlers?.data(Buffer.from([1, 2]));
    expect(events.data).toHaveLength(1);
    s.write(publish('t', 300));
    inner.handlers?.close();
    expect(events.closed).toBe(1);
    clock.advance(10_000);
    expect(inner.sentBy(clock.t)).toBe(100);
  });

  it('throttle() wraps only when a rate is set', () => {
    const clock = new ManualClock();
    const inner = new RecordingStream(clock);
    expect(throttle(inner, undefined, clock)).toBe(inner);
    expect(throttle(inner, 0, clock)).toBe(inner);
    expect(throttle(inner, 10, clock)).toBeInstanceOf(ThrottledStream);
  });
});
