// Load generator child process for the broker-prod suite (forked): raw MQTT 3.1.1 sockets,
// prebuilt packets, connections spread over the given ports (cluster nodes), clean or
// persistent sessions. Messages: {type:'setup', ...ProdSetup} → 'ready'; 'go' → 'result'; 'exit'.
import net from 'node:net';
import { puback, publishPacket, publishPacketIdOffset, Scanner, subscribePacket } from '../broker/wire.js';

export interface ProdSetup {
  role: 'pub' | 'sub';
  /** Connection i goes to ports[i % ports.length]. */
  ports: number[];
  n: number;
  topic: string;
  perConnectionTopic: boolean;
  qos: 0 | 1;
  /** CONNECT Clean Session. */
  clean: boolean;
  payloadSize: number;
  window: number;
  warmupMs: number;
  durationMs: number;
  clientPrefix: string;
}

export interface ProdResult {
  rate: number;
  cpu: number;
}

function str(s: string): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}
function connectPacket(clientId: string, clean: boolean): Buffer {
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, clean ? 0x02 : 0x00, 0, 0]), str(clientId)]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

type OnPacket = (first: number, buf: Buffer, body: number, end: number) => void;
interface Conn {
  socket: net.Socket;
  on(handler: OnPacket): void;
}

function connect(port: number, clientId: string, clean: boolean): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    socket.once('error', reject);
    let handler: OnPacket | null = null;
    let connacked = false;
    const sc = new Scanner((first, buf, body, end) => {
      if (!connacked && first === 0x20) {
        connacked = true;
        resolve({ socket, on: (h) => (handler = h) });
        return;
      }
      handler?.(first, buf, body, end);
    });
    socket.on('data', (d) => {
      socket.cork();
      sc.push(d);
      socket.uncork();
    });
    socket.on('connect', () => socket.write(connectPacket(clientId, clean)));
  });
}

async function openAll(s: ProdSetup): Promise<Conn[]> {
  const out: Conn[] = [];
  for (let i = 0; i < s.n; i += 100) {
    const part = await Promise.all(
      Array.from({ length: Math.min(100, s.n - i) }, (_, k) =>
        connect(s.ports[(i + k) % s.ports.length] as number, `${s.clientPrefix}-${i + k}`, s.clean),
      ),
    );
    out.push(...part);
  }
  return out;
}

const topicOf = (s: ProdSetup, i: number) => (s.perConnectionTopic ? `${s.topic}/${i}` : s.topic);
let counted = 0;
let running = false;

function window(s: ProdSetup): Promise<ProdResult> {
  return new Promise((resolve) => {
    setTimeout(() => {
      const c0 = counted;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      setTimeout(() => {
        const elapsed = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        running = false;
        resolve({ rate: ((counted - c0) / elapsed) * 1000, cpu: ((cpu.user + cpu.system) / 1000 / elapsed) * 100 });
      }, s.durationMs);
    }, s.warmupMs);
  });
}

async function setupSub(s: ProdSetup): Promise<() => Promise<ProdResult>> {
  const conns = await openAll(s);
  await Promise.all(
    conns.map(
      (c, i) =>
        new Promise<void>((resolve) => {
          c.on((first, buf, body) => {
            const type = first >> 4;
            if (type === 9) return resolve();
            if (type !== 3) return;
            counted++;
            if (((first >> 1) & 3) === 1) {
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

async function setupPub(s: ProdSetup): Promise<() => Promise<ProdResult>> {
  const conns = await openAll(s);
  const payload = Buffer.alloc(s.payloadSize, 0x61);
  return () => {
    running = true;
    conns.forEach((c, i) => {
      const topic = topicOf(s, i);
      if (s.qos === 0) {
        const one = publishPacket(topic, payload, 0);
        const burst = Buffer.concat(Array.from({ length: 64 }, () => one));
        const pump = () => {
          if (!running) return;
          counted += 64;
          if (c.socket.write(burst)) setImmediate(pump);
          else c.socket.once('drain', pump);
        };
        pump();
        return;
      }
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
      c.on((first) => {
        if (first >> 4 !== 4) return;
        counted++;
        if (running) c.socket.write(sendOne());
      });
      c.socket.write(Buffer.concat(Array.from({ length: s.window }, sendOne)));
    });
    return window(s);
  };
}

let go: (() => Promise<ProdResult>) | undefined;
process.on('message', async (m: { type: string } & Partial<ProdSetup>) => {
  try {
    if (m.type === 'setup') {
      const s = m as unknown as ProdSetup;
      go = s.role === 'sub' ? await setupSub(s) : await setupPub(s);
      process.send?.({ type: 'ready' });
    } else if (m.type === 'go') {
      process.send?.({ type: 'result', result: await (go as () => Promise<ProdResult>)() });
    } else if (m.type === 'exit') process.exit(0);
  } catch (err) {
    process.send?.({ type: 'error', message: (err as Error).message });
  }
});
process.on('disconnect', () => process.exit(0));
