import { describe, expect, it } from 'vitest';
import { KeepAlive } from '../src/keep-alive.js';
import { ManualClock } from './helpers/manual-clock.js';

function setup(seconds = 10) {
  const clock = new ManualClock('queue');
  const events: string[] = [];
  const ka = new KeepAlive(clock, {
    sendPing: () => events.push(`ping@${clock.t}`),
    onTimeout: () => events.push(`timeout@${clock.t}`),
  });
  ka.start(seconds);
  return { clock, events, ka };
}

describe('KeepAlive', () => {
  it('pings after the interval of silence, and not while packets are being sent', () => {
    const { clock, events, ka } = setup(10);
    clock.advance(6000);
    ka.sent();
    clock.advance(6000); // 12 s total, only 6 s idle
    expect(events).toEqual([]);
    clock.advance(4000); // 10 s idle since the send at 6 s
    expect(events).toEqual(['ping@16000']);
  });

  it('receiving does not delay the PINGREQ (only sending resets idleness)', () => {
    const { clock, events, ka } = setup(10);
    clock.advance(5000);
    ka.received();
    clock.advance(5000);
    expect(events).toEqual(['ping@10000']);
  });

  it('declares the link dead when no PINGRESP arrives within the timeout', () => {
    const { clock, events } = setup(10);
    clock.advance(10_000);
    clock.advance(10_000);
    expect(events).toEqual(['ping@10000', 'timeout@20000']);
  });

  it('a PINGRESP keeps the link alive and the cycle continues', () => {
    const { clock, events, ka } = setup(10);
    clock.advance(10_000);
    clock.advance(100);
    ka.pong();
    clock.advance(10_000);
    expect(events).toEqual(['ping@10000', 'ping@20000']);
  });

  it('survives an event-loop stall: the late timer sees real elapsed time and pings once', () => {
    const { clock, events } = setup(10);
    clock.stall(35_000); // blocked far beyond the interval: no timer ran
    clock.fireDue();
    expect(events).toEqual(['ping@35000']); // one ping, not one per missed tick
  });

  it('a PINGRESP that arrived during a stall is read before the link is judged dead', () => {
    const { clock, events, ka } = setup(10);
    clock.advance(10_000); // ping at 10 s
    clock.stall(30_000); // stalled; meanwhile the PINGRESP sits in the socket buffer
    // The overdue timer fires first (timers before I/O after a stall)...
    clock.timers.sort((a, b) => a.at - b.at);
    const t = clock.timers.shift()!;
    t.fn();
    expect(events).toEqual(['ping@10000']); // ...but the verdict waits for pending I/O
    ka.pong(); // the buffered PINGRESP is processed
    clock.runIo();
    expect(events).toEqual(['ping@10000']);
    clock.advance(10_000);
    expect(events.filter((e) => e.startsWith('timeout'))).toEqual([]);
  });

  it('after a stall with no response at all, the timeout still fires', () => {
    const { clock, events } = setup(10);
    clock.advance(10_000);
    clock.stall(30_000);
    clock.fireDue();
    clock.runIo();
    expect(events).toEqual(['ping@10000', 'timeout@40000']);
  });

  it('any packet received after the PINGREQ proves the link alive', () => {
    const { clock, events, ka } = setup(10);
    clock.advance(10_000);
    clock.advance(500);
    ka.received();
    clock.advance(9500);
    expect(events).toEqual(['ping@10000', 'ping@20000']);
  });

  it('0 disables keep-alive; stop() cancels', () => {
    const a = setup(0);
    a.clock.advance(1_000_000);
    expect(a.events).toEqual([]);
    const b = setup(5);
    b.ka.stop();
    b.clock.advance(100_000);
    expect(b.events).toEqual([]);
    expect(b.clock.timers).toEqual([]);
  });

  it('honours a custom PINGRESP timeout', () => {
    const clock = new ManualClock('queue');
    const events: string[] = [];
    const ka = new KeepAlive(clock, { sendPing: () => events.push(`ping@${clock.t}`), onTimeout: () => events.push(`timeout@${clock.t}`) });
    ka.start(60, 2000);
    clock.advance(62_000);
    expect(events).toEqual(['ping@60000', 'timeout@62000']);
  });
});
