// Load driver for the dtls suite, run in a worker thread so the server under test (ours in the
// main thread, or libcoap in its own process) gets a core of its own. Both servers are driven by
// the same client: @iotwire/dtls's DtlsClient.
import { parentPort, workerData } from 'node:worker_threads';
import { DtlsClient, type DtlsClientOptions } from '@iotwire/dtls';
import type { PeerAddress } from '@iotwire/udp';

export interface DriverJob {
  kind: 'handshake' | 'rtt';
  port: number;
  durationMs: number;
  warmupMs: number;
  concurrency: number;
  client: DtlsClientOptions;
}

export interface DriverResult {
  ops: number;
  elapsedMs: number;
  errors: number;
  firstError?: string;
  /** Flight retransmissions the clients needed (a slow or lossy server shows here). */
  retransmissions: number;
}

/** A confirmable CoAP GET for `/` (4-byte header + 2-byte token). */
function coapGet(mid: number, token: number): Buffer {
  return Buffer.from([0x42, 0x01, (mid >> 8) & 0xff, mid & 0xff, (token >> 8) & 0xff, token & 0xff]);
}

async function run(job: DriverJob): Promise<DriverResult> {
  const peer: PeerAddress = { address: '127.0.0.1', port: job.port, family: 'IPv4' };
  let counting = false;
  let stop = false;
  let ops = 0;
  let errors = 0;
  let firstError: string | undefined;
  const clients: DtlsClient[] = [];

  const handshakeLoop = async (client: DtlsClient) => {
    while (!stop) {
      try {
        client.forgetSession(peer); // always a full handshake
        await client.connect(peer);
        client.closeSession(peer);
        if (counting) ops++;
      } catch (err) {
        errors++;
        firstError ??= (err as Error).message;
      }
    }
  };

  const rttLoop = async (client: DtlsClient, index: number) => {
    await client.connect(peer);
    let mid = (index * 4096) & 0xffff;
    let waiting: ((d: Buffer) => void) | undefined;
    client.on('message', (d) => waiting?.(d));
    while (!stop) {
      mid = (mid + 1) & 0xffff;
      const expect = mid;
      const reply = new Promise<Buffer>((resolve) => {
        waiting = (d) => {
          if (d.length >= 4 && d.readUInt16BE(2) === expect) resolve(d);
        };
      });
      const timer = new Promise<undefined>((r) => setTimeout(r, 2000, undefined));
      await client.send(coapGet(mid, index), peer);
      const got = await Promise.race([reply, timer]);
      if (got === undefined) {
        errors++;
        firstError ??= 'CoAP response timeout';
      } else if (counting) ops++;
    }
  };

  const loops: Promise<void>[] = [];
  for (let i = 0; i < job.concurrency; i++) {
    const c = new DtlsClient({ host: '127.0.0.1', handshakeTimeoutMs: 10_000, ...job.client });
    clients.push(c);
    loops.push(job.kind === 'handshake' ? handshakeLoop(c) : rttLoop(c, i));
  }
  await new Promise((r) => setTimeout(r, job.warmupMs));
  counting = true;
  const start = performance.now();
  await new Promise((r) => setTimeout(r, job.durationMs));
  counting = false;
  const elapsedMs = performance.now() - start;
  stop = true;
  await Promise.race([Promise.allSettled(loops), new Promise((r) => setTimeout(r, 3000))]);
  const retransmissions = clients.reduce((n, c) => n + c.stats.retransmissions, 0);
  for (const c of clients) await c.close();
  return { ops, elapsedMs, errors, firstError, retransmissions };
}

if (parentPort) {
  const port = parentPort;
  run(workerData as DriverJob).then(
    (r) => port.postMessage(r),
    (err: Error) =>
      port.postMessage({ ops: 0, elapsedMs: 1, errors: 1, firstError: err.message, retransmissions: 0 } satisfies DriverResult),
  );
}
