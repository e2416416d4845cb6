// The CoAP load generator, run as its own process so it never shares an event loop with the
// server under test. Deliberately lean: raw connected dgram sockets, one preallocated datagram
// per outstanding request, no CoAP library. Each of `endpoints` sockets keeps `depth`
// confirmable GETs outstanding; a request unanswered after `retryMs` is re-sent under a new
// Message ID (counted) so a lost datagram cannot stall an endpoint.
//
//   node loadgen.js <port> <path> <endpoints> <depth> <warmupMs> <durationMs>
//
// Prints one JSON line: requests answered in the measured window, errors, retries and the
// generator's own CPU time.
import { createSocket, type Socket } from 'node:dgram';

export interface LoadResult {
  requests: number;
  elapsedMs: number;
  /** Answers that were not 2.05. */
  errors: number;
  /** Requests re-sent after `retryMs` without an answer. */
  retries: number;
  /** Answers to a request already given up on. */
  stale: number;
  cpuUserMs: number;
  cpuSystemMs: number;
}

interface Slot {
  buf: Buffer;
  mid: number;
  counter: number;
  sentAt: number;
}

const MAX_DEPTH = 8;

function request(path: string, token: number): Buffer {
  const p = Buffer.from(path, 'utf8');
  if (p.length > 12) throw new Error('keep the path under 13 bytes (one option byte)');
  const b = Buffer.alloc(4 + 4 + 1 + p.length);
  b[0] = 0x44; // ver 1, CON, TKL 4
  b[1] = 0x01; // GET
  b.writeUInt32BE(token >>> 0, 4);
  b[8] = 0xb0 | p.length; // Uri-Path
  p.copy(b, 9);
  return b;
}

async function main(): Promise<void> {
  const [portArg, path = 'time', endpointsArg = '64', depthArg = '1', warmupArg = '2000', durationArg = '20000'] = process.argv.slice(2);
  const port = Number(portArg);
  const endpoints = Number(endpointsArg);
  const depth = Math.min(MAX_DEPTH, Math.max(1, Number(depthArg)));
  const warmupMs = Number(warmupArg);
  const durationMs = Number(durationArg);
  const retryMs = 500;
  let counting = false;
  let requests = 0;
  let errors = 0;
  let retries = 0;
  let stale = 0;
  const sockets: Socket[] = [];
  const allSlots: [Socket, Slot][] = [];

  const send = (s: Socket, slot: Slot, index: number) => {
    slot.counter = (slot.counter + 1) & 0x1fff;
    slot.mid = (index << 13) | slot.counter;
    slot.buf[2] = slot.mid >> 8;
    slot.buf[3] = slot.mid & 0xff;
    slot.sentAt = Date.now();
    s.send(slot.buf);
  };

  await Promise.all(
    Array.from({ length: endpoints }, (_, e) => {
      const s = createSocket('udp4');
      sockets.push(s);
      const slots: Slot[] = Array.from({ length: depth }, (_, i) => ({
        buf: request(path, e * MAX_DEPTH + i + 1),
        mid: -1,
        counter: e * 97,
        sentAt: 0,
      }));
      for (const slot of slots) allSlots.push([s, slot]);
      s.on('message', (m) => {
        if (m.length < 4) return;
        const mid = ((m[2] as number) << 8) | (m[3] as number);
        const index = mid >> 13;
        const slot = slots[index];
        if (slot === undefined || slot.mid !== mid) {
          stale++;
          return;
        }
        if (counting) {
          requests++;
          if (m[1] !== 0x45) errors++;
        }
        send(s, slot, index);
      });
      s.on('error', () => {}); // ICMP errors while a server restarts: the retry timer covers them
      return new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => s.connect(port, '127.0.0.1', () => resolve())));
    }),
  );
  for (let e = 0; e < sockets.length; e++) {
    for (let i = 0; i < depth; i++) {
      const [s, slot] = allSlots[e * depth + i] as [Socket, Slot];
      send(s, slot, i);
    }
  }
  const retry = setInterval(() => {
    const limit = Date.now() - retryMs;
    for (const [s, slot] of allSlots) {
      if (slot.sentAt < limit) {
        if (counting) retries++;
        send(s, slot, slot.mid >> 13);
      }
    }
  }, 100);

  await new Promise((r) => setTimeout(r, warmupMs));
  counting = true;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, durationMs));
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  counting = false;
  clearInterval(retry);
  const result: LoadResult = { requests, elapsedMs, errors, retries, stale, cpuUserMs: cpu.user / 1000, cpuSystemMs: cpu.system / 1000 };
  process.stdout.write(`${JSON.stringify(result)}\n`);
  for (const s of sockets) s.close();
}

void main();
