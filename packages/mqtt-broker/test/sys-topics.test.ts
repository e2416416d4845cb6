// $SYS/broker/... topics: Mosquitto's load-average arithmetic, which topics each round
// publishes (changed values only, uptime last), and the values seen by a real subscriber.
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BROKER_VERSION, type BrokerStats, LoadAverage, MqttBroker, SysTopics } from '../src/index.js';
import { startBroker } from './helpers/broker.js';

/** Mosquitto 2.0's calc_load, transcribed: i_mult = 60/elapsed; new = interval + exp*(cur - interval). */
function mosquittoLoad(current: number, delta: number, elapsed: number, window: number): number {
  const iMult = 60 / elapsed;
  const interval = delta * iMult;
  const exponent = Math.exp((-1 * elapsed) / window);
  return interval + exponent * (current - interval);
}

describe('LoadAverage', () => {
  it('is Mosquitto calc_load (1, 5 and 15 minute windows)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(60, 300, 900),
        fc.array(fc.tuple(fc.nat(1_000_000), fc.integer({ min: 1, max: 3600 })), { minLength: 1, maxLength: 30 }),
        (window, steps) => {
          const avg = new LoadAverage(window);
          let ref = 0;
          for (const [delta, elapsed] of steps) {
            ref = mosquittoLoad(ref, delta, elapsed, window);
            expect(avg.update(delta, elapsed)).toBeCloseTo(ref, 6);
          }
        },
      ),
    );
  });

  it('600 messages in 10 s: 1 min load 552.67 (3600/min damped by e^(-1/6))', () => {
    const one = new LoadAverage(60);
    expect(one.update(600, 10).toFixed(2)).toBe('552.67');
    const five = new LoadAverage(300);
    expect(five.update(600, 10).toFixed(2)).toBe((3600 * (1 - Math.exp(-10 / 300))).toFixed(2));
  });

  it('a steady rate converges to that rate per minute', () => {
    const avg = new LoadAverage(60);
    for (let i = 0; i < 200; i++) avg.update(50, 10); // 5/s = 300/min
    expect(avg.value).toBeCloseTo(300, 6);
  });
});

const clients: MqttClient[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const c of clients.splice(0)) await c.endAsync(true).catch(() => {});
});

/** A subscriber to $SYS/#; rounds() resolves with the topics of each round (ended by uptime). */
async function sysSubscriber(port: number) {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, protocolVersion: 5, clientId: 'sys-watch' });
  clients.push(c);
  const values = new Map<string, string>();
  let round: string[] = [];
  const waiters: ((r: string[]) => void)[] = [];
  const done: string[][] = [];
  c.on('message', (topic, payload) => {
    values.set(topic, payload.toString());
    round.push(topic);
    if (topic === '$SYS/broker/uptime') {
      done.push(round);
      round = [];
      waiters.shift()?.(done[done.length - 1] as string[]);
    }
  });
  await c.subscribeAsync('$SYS/#', { qos: 0 });
  return {
    client: c,
    values,
    /** Resolves with the next complete round (or one already received and not yet taken). */
    nextRound(): Promise<string[]> {
      const r = done.shift();
      if (r) return Promise.resolve(r);
      return new Promise((resolve) =>
        waiters.push((x) => {
          done.shift();
          resolve(x);
        }),
      );
    },
  };
}

describe('SysTopics', () => {
  it('publishes the Mosquitto tree, retained, with uptime last; later rounds only what changed', async () => {
    let now = Date.now();
    const { broker, port } = await startBroker();
    const sys = new SysTopics(broker, { interval: 0, now: () => now, heapUsed: () => 1000 });
    await sys.start();
    // Static topic first, retained.
    expect(broker.messages.get('$SYS/broker/version')?.payload.toString()).toBe(`iotwire version ${BROKER_VERSION}`);
    const w = await sysSubscriber(port);
    // Retained delivery of the version (a new subscriber gets it at once).
    await vi.waitFor(() => expect(w.values.get('$SYS/broker/version')).toBe(`iotwire version ${BROKER_VERSION}`));

    now += 10_000;
    await sys.update();
    const first = await w.nextRound();
    expect(first[first.length - 1]).toBe('$SYS/broker/uptime');
    for (const t of [
      'clients/total',
      'clients/maximum',
      'clients/disconnected',
      'clients/connected',
      'clients/active',
      'clients/inactive',
      'load/messages/received/1min',
      'load/publish/received/5min',
      'load/publish/sent/15min',
      'load/publish/dropped/1min',
      'load/bytes/received/1min',
      'load/bytes/sent/15min',
      'load/sockets/1min',
      'load/connections/5min',
      'messages/stored',
      'store/messages/count',
      'store/messages/bytes',
      'subscriptions/count',
      'shared_subscriptions/count',
      'retained messages/count',
      'heap/current',
      'heap/maximum',
      'messages/received',
      'publish/messages/received',
      'publish/messages/sent',
      'publish/messages/dropped',
      'bytes/received',
      'bytes/sent',
    ]) {
      expect(first, t).toContain(`$SYS/broker/${t}`);
    }
    expect(w.values.get('$SYS/broker/clients/connected')).toBe('1');
    expect(w.values.get('$SYS/broker/subscriptions/count')).toBe('1');
    expect(w.values.get('$SYS/broker/load/publish/received/1min')).toBe('0.00'); // initial publish
    expect(w.values.get('$SYS/broker/heap/current')).toBe('1000');
    expect(w.values.get('$SYS/broker/uptime')).toMatch(/^\d+ seconds$/);

    // Nothing changed but time (and our own $SYS traffic, which Mosquitto counts too).
    const sentBefore = broker.stats.messagesSent;
    now += 10_000;
    await sys.update();
    const second = await w.nextRound();
    expect(second).not.toContain('$SYS/broker/clients/connected');
    expect(second).not.toContain('$SYS/broker/subscriptions/count');
    expect(second).not.toContain('$SYS/broker/heap/current');
    expect(second).toContain('$SYS/broker/publish/messages/sent');
    expect(broker.stats.messagesSent).toBeGreaterThan(sentBefore);

    // A client publishes 600 messages: 10 s later the 1 min publish/received load is 552.67.
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, clientId: 'pub' });
    clients.push(pub);
    const received0 = broker.stats.messagesReceived;
    for (let i = 0; i < 600; i++) pub.publish('load/x', 'p', { qos: 0 });
    await pub.publishAsync('retained/a', 'r', { qos: 1, retain: true }); // in order: the 600 are in
    expect(broker.stats.messagesReceived - received0).toBe(601);
    now += 10_000;
    await sys.update();
    await w.nextRound();
    const expected = mosquittoLoad(0, 601, 10, 60).toFixed(2);
    expect(w.values.get('$SYS/broker/load/publish/received/1min')).toBe(expected);
    expect(sys.loads.get('$SYS/broker/load/publish/received/1min')?.toFixed(2)).toBe(expected);
    expect(w.values.get('$SYS/broker/clients/connected')).toBe('2');
    expect(w.values.get('$SYS/broker/clients/total')).toBe('2');
    // version + ~40 $SYS retained values + retained/a
    expect(Number(w.values.get('$SYS/broker/retained messages/count'))).toBe(broker.messages.size);
    expect(w.values.get('$SYS/broker/load/connections/1min')).toBe(mosquittoLoad(0, 1, 10, 60).toFixed(2));
    sys.stop();
  });

  it('counts persistent sessions of disconnected clients as disconnected', async () => {
    const { broker, port } = await startBroker();
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, clientId: 'keeper', clean: false });
    await c.subscribeAsync('k/#', { qos: 1 });
    await c.endAsync();
    await vi.waitFor(() => expect(broker.connections.size).toBe(0));
    const sys = new SysTopics(broker, { interval: 10 });
    await sys.start();
    sys.stop();
    const v = (t: string) => broker.messages.get(`$SYS/broker/${t}`)?.payload.toString();
    expect(v('clients/total')).toBe('1');
    expect(v('clients/connected')).toBe('0');
    expect(v('clients/disconnected')).toBe('1');
    expect(v('subscriptions/count')).toBe('1');
  });

  it('runs on its timer; changing the interval reschedules; stop() ends it', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const broker = new MqttBroker();
    let now = Date.now();
    const sys = new SysTopics(broker, { interval: 5, now: () => now });
    await sys.start();
    const uptime = () => broker.messages.get('$SYS/broker/uptime')?.payload.toString();
    expect(uptime()).toBe('0 seconds');
    now += 5000;
    await vi.advanceTimersByTimeAsync(5000);
    await vi.waitFor(() => expect(uptime()).toBe('5 seconds'));
    sys.interval = 60;
    now += 5000;
    await vi.advanceTimersByTimeAsync(5000);
    expect(uptime()).toBe('5 seconds');
    now += 55_000;
    await vi.advanceTimersByTimeAsync(55_000);
    await vi.waitFor(() => expect(uptime()).toBe('65 seconds'));
    sys.stop();
    now += 60_000;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(uptime()).toBe('65 seconds');
    expect(vi.getTimerCount()).toBe(0);
    await broker.close();
  });

  it('interval 0 publishes the version only; a bad interval is a RangeError', async () => {
    const broker = new MqttBroker();
    const sys = new SysTopics(broker, { interval: 0, version: 'test 1' });
    await sys.start();
    expect([...broker.messages.keys()]).toEqual(['$SYS/broker/version']);
    expect(broker.messages.get('$SYS/broker/version')?.payload.toString()).toBe('test 1');
    sys.stop();
    expect(() => new SysTopics(broker, { interval: -1 })).toThrow(RangeError);
    expect(() => new SysTopics(broker, { interval: 1.5 })).toThrow(/integer/);
  });

  it('prefix and retain: false (a cluster node): nothing retained, every value every round', async () => {
    const { broker, port } = await startBroker();
    let now = Date.now();
    const sys = new SysTopics(broker, { interval: 0, prefix: '$SYS/broker/node-a/', retain: false, now: () => now });
    expect(sys.prefix).toBe('$SYS/broker/node-a');
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, clientId: 'w' });
    clients.push(c);
    const seen: string[] = [];
    const round = () =>
      new Promise<void>((resolve) =>
        c.on('message', (topic) => {
          seen.push(topic);
          if (topic.endsWith('/uptime')) resolve();
        }),
      );
    await c.subscribeAsync('$SYS/#');
    await sys.start();
    now += 1000;
    let r = round();
    await sys.update();
    await r;
    const first = new Set(seen);
    seen.length = 0;
    c.removeAllListeners('message');
    r = round();
    now += 1000;
    await sys.update();
    await r;
    expect(new Set(seen)).toEqual(first); // unchanged values are sent again, the version too
    expect(seen.every((t) => t.startsWith('$SYS/broker/node-a/'))).toBe(true);
    expect(seen).toContain('$SYS/broker/node-a/version');
    expect(seen).toContain('$SYS/broker/node-a/load/publish/received/15min');
    expect([...broker.messages.keys()].filter((t) => t.startsWith('$SYS'))).toEqual([]);
    sys.stop();
    expect(() => new SysTopics(broker, { prefix: 'stats/broker' })).toThrow(/must start with \$SYS/);
    expect(() => new SysTopics(broker, { prefix: '$SYS/+' })).toThrow(/wildcards/);
  });

  it('a publish refused by a hook goes to onError, not a throw', async () => {
    const broker = new MqttBroker({ hooks: [{ authorizePublish: (a) => !a.message.topic.startsWith('$SYS/broker/heap') }] });
    const errors: Error[] = [];
    const sys = new SysTopics(broker, { interval: 10, onError: (e) => errors.push(e) });
    await sys.start();
    sys.stop();
    expect(errors.length).toBe(2);
    expect(broker.messages.has('$SYS/broker/uptime')).toBe(true);
  });

  it('reads counters from broker.stats (dropped messages feed publish/dropped)', async () => {
    const broker = new MqttBroker();
    let now = 0;
    const sys = new SysTopics(broker, { interval: 10, now: () => now });
    now = broker.stats.startedAt;
    await sys.start();
    (broker.stats as BrokerStats).messagesDropped += 120;
    now += 60_000;
    await sys.update();
    sys.stop();
    expect(broker.messages.get('$SYS/broker/publish/messages/dropped')?.payload.toString()).toBe('120');
    expect(broker.messages.get('$SYS/broker/load/publish/dropped/1min')?.payload.toString()).toBe(mosquittoLoad(0, 120, 60, 60).toFixed(2));
    expect(broker.messages.get('$SYS/broker/uptime')?.payload.toString()).toBe('60 seconds');
  });
});
