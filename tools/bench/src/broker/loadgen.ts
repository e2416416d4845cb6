// Load generator child process (forked by the broker suite). One process per role so the
// publishers and the subscribers each get their own event loop; every role reports its own
// CPU use over the measured window so a saturated generator is visible in the results.
//
// Messages from the parent: {type:'setup', ...Setup} → 'ready'; {type:'go'} → 'result'; {type:'exit'}.
import net from 'node:net';
import { connectPacket, puback, publishPacket, publishPacketIdOffset, Scanner, subscribePacket } from './wire.js';

export interface Setup {
  role: 'pub' | 'sub' | 'latency' | 'idle';
  port: number;
  /** When set, connection i goes to ports[i % ports.length] (cluster nodes); else `port`. */
  ports?: number[];
  /** CONNECT Clean Session (default true; false for persistent sessions). */
  clean?: boolean;
  /** Connections of this role. */
  n: number;
  /** Topic for connection i: `${topic}` or `${topic}/${i}` when perConnectionTopic. */
  topic: string;
  perConnectionTopic: boolean;
  qos: 0 | 1;
  payloadSize: number;
  /** QoS 1 publishers: messages in flight per connection. */
  window: number;
  warmupMs: number;
  durationMs: number;
  /** latency role: messages per second. */
  rate: number;
  clientPrefix: string;
  /** Write the replies to one received chunk in one write (default) or one write per reply. */
  batch: boolean;
}

export interface Result {
  /** Packets counted per second (received PUBLISH for subs, PUBACK for QoS 1 pubs, sent for QoS 0 pubs). */
  rate: number;
  /** CPU use of this process over the window, percent of one core. */
  cpu: number;
  p50?: number;
  p99?: number;
  samples?: number;
}

function send(msg: unknown): void {
  process.send?.(msg);
}

function connect(
  port: number,
  clientId: string,
  batch: boolean,
  clean: boolean,
): Promise<{ socket: net.Socket; scanner: (on: (first: number, buf: Buffer, body: number, end: number) => void) => void }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    socket.once('error', reject);
    let handler: ((first: number, buf: Buffer, body: number, end: number) => void) | null = null;
    let connacked = false;
    const sc = new Scanner((first, buf, body, end) => {
      if (!connacked && first === 0x20) {
        connacked = true;
        resolve({ socket, scanner: (on) => (handler = on) });
        return;
      }
      handler?.(first, buf, body, end);
    });
    // Replies to one chunk (PUBACKs, next QoS 1 PUBLISH) leave in one write.
    socket.on('data', (d) => {
      if (!batch) return sc.push(d);
      socket.cork();
      sc.push(d);
      socket.uncork();
    });
    socket.on('connect', () => socket.write(connectPacket(clientId, 0, clean)));
  });
}

async function openAll(
  s: Setup,
): Promise<{ socket: net.Socket; scanner: (on: (first: number, buf: Buffer, body: number, end: number) => void) => void }[]> {
  const out = [];
  const batch = 200;
  for (let i = 0; i < s.n; i += batch) {
    const part = await Promise.all(
      Array.from({ length: Math.min(batch, s.n - i) }, (_, k) =>
        connect(s.ports?.[(i + k) % s.ports.length] ?? s.port, `${s.clientPrefix}-${i + k}`, s.batch, s.clean ?? true),
      ),
    );
    out.push(...part);
  }
  return out;
}

const topicOf = (s: Setup, i: number) => (s.perConnectionTopic ? `${s.topic}/${i}` : s.topic);

let counted = 0;
let running = false;

function window(s: Setup, extra?: () => Partial<Result>): Promise<Result> {
  return new Promise((resolve) => {
    setTimeout(() => {
      const c0 = counted;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      setTimeout(() => {
        const elapsed = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        const rate = ((counted - c0) / elapsed) * 1000;
        running = false;
        resolve({ rate, cpu: ((cpu.user + cpu.system) / 1000 / elapsed) * 100, ...(extra ? extra() : {}) });
      }, s.durationMs);
    }, s.warmupMs);
  });
}

async function setupSub(s: Setup): Promise<() => Promise<Result>> {
  const conns = await openAll(s);
  await Promise.all(
    conns.map(
      (c, i) =>
        new Promise<void>((resolve) => {
          c.scanner((first, buf, body) => {
            const type = first >> 4;
            if (type === 9) {
              resolve();
              return;
            }
            if (type !== 3) return;
            counted++;
            if (((first >> 1) & 3) === 1) {
              // QoS 1: acknowledge (packet id follows the topic).
              const tl = ((buf[body] as number) << 8) | (buf[body + 1] as number);
              const at = body + 2 + tl;
              c.socket.write(puback(((buf[at] as number) << 8) | (buf[at + 1] as number)));
            }
          });
          c.socket.write(subscribePacket(1, topicOf(s, i), s.qos));
        }),
    ),
  );
  return () => window(s);
}

async function setupPub(s: Setup): Promise<() => Promise<Result>> {
  const conns = await openAll(s);
  const payload = Buffer.alloc(s.payloadSize, 0x61);
  return () => {
    running = true;
    conns.forEach((c, i) => {
      const topic = topicOf(s, i);
      if (s.qos === 0) {
        // Blast: 64 messages per write, respecting socket back-pressure.
        const one = publishPacket(topic, payload, 0);
        const burst = Buffer.concat(Array.from({ length: 64 }, () => one));
        const pump = () => {
          if (!running) return;
          counted += 64;
          if (c.socket.write(burst)) setImmediate(pump);
          else c.socket.once('drain', pump);
        };
        pump();
      } else {
        const tpl = publishPacket(topic, payload, 1, 1);
        const at = publishPacketIdOffset(tpl);
        let next = 0;
        const sendOne = () => {
          next = (next % 65535) + 1;
          const b = Buffer.from(tpl);
          b[at] = next >> 8;
          b[at + 1] = next & 0xff;
          return b;
        };
        c.scanner((first) => {
          if (first >> 4 !== 4) return;
          counted++;
          if (running) c.socket.write(sendOne());
        });
        const first: Buffer[] = [];
        for (let k = 0; k < s.window; k++) first.push(sendOne());
        c.socket.write(Buffer.concat(first));
      }
    });
    return window(s);
  };
}

async function setupLatency(s: Setup): Promise<() => Promise<Result>> {
  const [sub] = await openAll({ ...s, n: 1, clientPrefix: `${s.clientPrefix}-sub` });
  const [pub] = await openAll({ ...s, n: 1, clientPrefix: `${s.clientPrefix}-pub` });
  const samples: number[] = [];
  let measuring = false;
  await new Promise<void>((resolve) => {
    sub!.scanner((first, buf, body, end) => {
      if (first >> 4 === 9) return resolve();
      if (first >> 4 !== 3) return;
      counted++;
      if (!measuring) return;
      // Payload starts with the send time (ns, monotonic, float64).
      const tl = ((buf[body] as number) << 8) | (buf[body + 1] as number);
      const sent = buf.readDoubleLE(body + 2 + tl);
      void end;
      samples.push(Number(process.hrtime.bigint()) - sent);
    });
    sub!.socket.write(subscribePacket(1, s.topic, 0));
  });
  const payload = Buffer.alloc(s.payloadSize, 0x61);
  const tpl = publishPacket(s.topic, payload, 0);
  const payloadAt = tpl.length - s.payloadSize;
  return () => {
    running = true;
    const start = performance.now();
    let sentCount = 0;
    // Every millisecond, send what is due at `rate`, one write per message (no batching).
    const timer = setInterval(() => {
      if (!running) return clearInterval(timer);
      const due = Math.floor(((performance.now() - start) / 1000) * s.rate);
      while (sentCount < due) {
        const b = Buffer.from(tpl);
        b.writeDoubleLE(Number(process.hrtime.bigint()), payloadAt);
        pub!.socket.write(b);
        sentCount++;
      }
    }, 1);
    setTimeout(() => (measuring = true), s.warmupMs);
    return window(s, () => {
      const sorted = Float64Array.from(samples).sort();
      const q = (p: number) =>
        sorted.length ? (sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number) / 1e6 : Number.NaN;
      return { p50: q(0.5), p99: q(0.99), samples: sorted.length };
    });
  };
}

async function setupIdle(s: Setup): Promise<() => Promise<Result>> {
  await openAll(s);
  return async () => ({ rate: 0, cpu: 0 });
}

let go: (() => Promise<Result>) | undefined;
process.on('message', async (m: { type: string } & Partial<Setup>) => {
  try {
    if (m.type === 'setup') {
      const s = m as unknown as Setup;
      go =
        s.role === 'sub'
          ? await setupSub(s)
          : s.role === 'pub'
            ? await setupPub(s)
            : s.role === 'latency'
              ? await setupLatency(s)
              : await setupIdle(s);
      send({ type: 'ready' });
    } else if (m.type === 'go') {
      const r = await (go as () => Promise<Result>)();
      send({ type: 'result', result: r });
    } else if (m.type === 'exit') {
      process.exit(0);
    }
  } catch (err) {
    send({ type: 'error', message: (err as Error).message });
  }
});
process.on('disconnect', () => process.exit(0));
