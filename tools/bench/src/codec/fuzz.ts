#!/usr/bin/env node
// Long fuzz run of @iotwire/mqtt-packet's decoder:
//   node tools/bench/dist/codec/fuzz.js [--count=1000000] [--seed=1] [--stall=10000]
// Random bytes, and valid packets of every type and level mutated (bit flips, special bytes,
// insertions, deletions, truncation, forged Remaining Lengths, splices), each fed to a fresh
// streaming decoder in random fragments (random level, side, filter strictness, size limit) and
// to the one-shot decode(). Asserts: only MqttPacketError is ever thrown; every packet the
// strict decoder accepts re-encodes and decodes to the same packet; no input hangs (the run is
// in a worker; a watchdog kills it and prints the input index if it stops making progress).
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { Decoder, decode, encode, MqttPacketError, type Packet, type ProtocolVersion, type Side } from '@iotwire/mqtt-packet';

interface Config {
  count: number;
  seed: number;
}

interface Report {
  inputs: number;
  accepted: number;
  rejected: number;
  packets: number;
  reencoded: number;
  codes: Record<string, number>;
  failures: string[];
  maxInputMs: number;
  elapsedMs: number;
}

/** mulberry32: small, seeded, deterministic. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function fuzz({ count, seed }: Config, progress: (done: number) => void): Report {
  const rnd = prng(seed);
  const int = (n: number) => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const str = () => pick(['', 'a', 'a/b', 'sensors/+/t', '#', 'é/ü', '$SYS/x', 'x'.repeat(int(300)), '\u{1F600}', 'k']);
  const topic = () => pick(['a', 'a/b', 'sensors/t1', 'é/ü', '$SYS/x', '/', 'x'.repeat(1 + int(200))]);
  const filter = () => pick(['a/#', '+/b', '#', 'a/+/c', '$share/g/a/#', 'x']);
  const bytes = (n: number) => {
    const b = Buffer.alloc(int(n));
    for (let i = 0; i < b.length; i++) b[i] = int(256);
    return b;
  };
  const userProps = (): [string, string][] => Array.from({ length: int(3) }, () => [str(), str()] as [string, string]);
  const props = (kind: string): Record<string, unknown> | undefined => {
    if (rnd() < 0.4) return undefined;
    const p: Record<string, unknown> = { userProperties: userProps() };
    if (kind === 'publish') {
      if (rnd() < 0.5) p.contentType = str();
      if (rnd() < 0.5) p.messageExpiryInterval = int(0xffffffff);
      if (rnd() < 0.3) p.subscriptionIdentifiers = [1 + int(268_435_455), 1 + int(127)];
      if (rnd() < 0.3) p.topicAlias = 1 + int(65_535);
      if (rnd() < 0.3) p.correlationData = bytes(16);
      if (rnd() < 0.3) p.responseTopic = topic();
    } else if (kind === 'connect') {
      if (rnd() < 0.5) p.sessionExpiryInterval = int(0xffffffff);
      if (rnd() < 0.5) p.receiveMaximum = 1 + int(65_535);
      if (rnd() < 0.3) p.authenticationMethod = str();
    } else if (kind === 'connack') {
      if (rnd() < 0.5) p.maximumQoS = int(2);
      if (rnd() < 0.5) p.assignedClientIdentifier = str();
      if (rnd() < 0.5) p.topicAliasMaximum = int(65_536);
    } else if (kind !== 'subscribe' && kind !== 'unsubscribe') {
      if (rnd() < 0.5) p.reasonString = str();
    }
    return p;
  };
  const packet = (v: ProtocolVersion): Packet => {
    const qos = int(3) as 0 | 1 | 2;
    const id = 1 + int(65_535);
    switch (int(15)) {
      case 0:
        return {
          type: 'connect',
          protocolVersion: v,
          clean: true,
          keepAlive: int(65_536),
          clientId: `c${int(1000)}`,
          username: rnd() < 0.5 ? str() : undefined,
          password: rnd() < 0.3 ? bytes(20) : undefined,
          will:
            rnd() < 0.5
              ? { topic: topic(), payload: bytes(30), qos, retain: rnd() < 0.5, properties: v === 5 ? (props('will') as never) : undefined }
              : undefined,
          properties: props('connect') as never,
        };
      case 1:
        return {
          type: 'connack',
          sessionPresent: false,
          reasonCode: v === 5 ? pick([0, 0x80, 0x87, 0x9c]) : int(6),
          properties: props('connack') as never,
        };
      case 2:
      case 3:
        return {
          type: 'publish',
          topic: topic(),
          payload: bytes(rnd() < 0.05 ? 5000 : 100),
          qos,
          retain: rnd() < 0.5,
          dup: qos > 0 && rnd() < 0.5,
          packetId: qos ? id : undefined,
          properties: props('publish') as never,
        };
      case 4:
        return {
          type: pick(['puback', 'pubrec', 'pubrel', 'pubcomp'] as const),
          packetId: id,
          reasonCode: 0,
          properties: props('ack') as never,
        };
      case 5:
        return {
          type: 'subscribe',
          packetId: id,
          subscriptions: Array.from({ length: 1 + int(3) }, () => ({
            topicFilter: filter(),
            qos,
            retainAsPublished: rnd() < 0.5,
            retainHandling: int(3) as 0,
          })),
          properties: props('subscribe') as never,
        };
      case 6:
        return { type: 'suback', packetId: id, reasonCodes: [0, 1, 2, 0x80].slice(0, 1 + int(4)), properties: props('ack') as never };
      case 7:
        return { type: 'unsubscribe', packetId: id, topicFilters: [filter(), filter()], properties: props('unsubscribe') as never };
      case 8:
        return { type: 'unsuback', packetId: id, reasonCodes: [0, 0x11], properties: props('ack') as never };
      case 9:
        return { type: 'pingreq' };
      case 10:
        return { type: 'pingresp' };
      case 11:
        return { type: 'disconnect', reasonCode: pick([0, 4, 0x8e]), properties: props('disconnect') as never };
      default:
        return v === 5
          ? { type: 'auth', reasonCode: pick([0, 0x18, 0x19]), properties: { authenticationMethod: str() } }
          : { type: 'pingreq' };
    }
  };

  const corpus: Buffer[] = [];
  for (const v of [3, 4, 5] as const) {
    for (let i = 0; i < 1500; i++) {
      try {
        corpus.push(encode(packet(v), v));
      } catch (e) {
        if (!(e instanceof MqttPacketError)) throw e;
      }
    }
  }

  const SPECIAL = [0x00, 0x01, 0x02, 0x7f, 0x80, 0xff, 0x23, 0x2b, 0x2f, 0x24, 0xc0, 0xed, 0xf0];
  const mutate = (input: Buffer): Buffer => {
    let out = Buffer.from(input);
    const ops = 1 + int(4);
    for (let k = 0; k < ops; k++) {
      const at = int(Math.max(out.length, 1));
      switch (int(9)) {
        case 0:
          if (out.length) out[at] = (out[at] as number) ^ (1 << int(8));
          break;
        case 1:
          if (out.length) out[at] = pick(SPECIAL);
          break;
        case 2:
          if (out.length) out[at] = int(256);
          break;
        case 3:
          out = Buffer.concat([out.subarray(0, at), Buffer.from([int(256)]), out.subarray(at)]);
          break;
        case 4:
          out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
          break;
        case 5:
          out = out.subarray(0, at);
          break;
        case 6:
          if (out.length > 1) out[1] = (out[1] as number) + (int(2) ? 1 : -1);
          break;
        case 7:
          // Forged Remaining Length: claim far more than follows.
          if (out.length > 1) out = Buffer.concat([out.subarray(0, 1), Buffer.from([0xff, 0xff, 0xff, 0x7f]), out.subarray(2)]);
          break;
        default: {
          const from = int(Math.max(out.length, 1));
          out = Buffer.concat([out, out.subarray(from, from + int(8))]);
        }
      }
    }
    return out;
  };

  const report: Report = {
    inputs: 0,
    accepted: 0,
    rejected: 0,
    packets: 0,
    reencoded: 0,
    codes: {},
    failures: [],
    maxInputMs: 0,
    elapsedMs: 0,
  };
  const fail = (i: number, what: string, input: Buffer) => {
    if (report.failures.length < 20) report.failures.push(`input #${i} (${input.toString('hex').slice(0, 200)}): ${what}`);
  };
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    let input: Buffer;
    const kind = i % 4;
    if (kind === 0) {
      input = bytes(80);
      if (input.length) input[0] = (input[0] as number) & 0xf0;
    } else if (kind === 3) {
      input = mutate(Buffer.concat([pick(corpus), pick(corpus), pick(corpus)]));
    } else {
      input = mutate(pick(corpus));
    }
    const version = pick([3, 4, 4, 5, 5, 5, undefined] as const);
    const side = pick(['server', 'client', undefined, undefined, undefined] as const) as Side | undefined;
    const strict = rnd() < 0.8;
    const t0 = performance.now();
    const got: [Packet, ProtocolVersion][] = [];
    const d = new Decoder((p) => got.push([p, p.type === 'connect' ? p.protocolVersion : (d.protocolVersion ?? 4)]), {
      protocolVersion: version,
      side,
      strictTopicFilters: strict,
      maxPacketSize: rnd() < 0.2 ? 1 + int(200) : undefined,
    });
    try {
      let pos = 0;
      while (pos < input.length) {
        const n = rnd() < 0.3 ? 1 : 1 + int(input.length);
        d.push(input.subarray(pos, pos + n));
        pos += n;
      }
      report.accepted++;
    } catch (e) {
      if (e instanceof MqttPacketError) {
        report.rejected++;
        report.codes[e.code] = (report.codes[e.code] ?? 0) + 1;
      } else {
        fail(i, `decoder threw ${String(e)}`, input);
      }
    }
    try {
      decode(input, version ?? 4, { side });
    } catch (e) {
      if (!(e instanceof MqttPacketError)) fail(i, `decode() threw ${String(e)}`, input);
    }
    for (const [p, v] of got) {
      report.packets++;
      if (!strict) continue;
      try {
        const again = decode(encode(p, v), v);
        report.reencoded++;
        if (!isDeepStrictEqual(again, p)) fail(i, `re-encoded ${p.type} decodes differently`, input);
      } catch (e) {
        fail(i, `accepted ${p.type} does not re-encode: ${String(e)}`, input);
      }
    }
    const dt = performance.now() - t0;
    if (dt > report.maxInputMs) report.maxInputMs = dt;
    report.inputs++;
    if ((i & 0x3fff) === 0) progress(i);
  }
  report.elapsedMs = performance.now() - start;
  return report;
}

if (isMainThread) {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '1000000' },
      seed: { type: 'string', default: '1' },
      stall: { type: 'string', default: '10000' },
    },
    strict: false,
  });
  const config: Config = { count: Number(values.count), seed: Number(values.seed) };
  const stallMs = Number(values.stall);
  console.log(`fuzzing @iotwire/mqtt-packet: ${config.count.toLocaleString('en-US')} inputs, seed ${config.seed}`);
  const worker = new Worker(new URL(import.meta.url), { workerData: config });
  let lastIndex = 0;
  let lastProgress = Date.now();
  const watchdog = setInterval(() => {
    if (Date.now() - lastProgress > stallMs) {
      console.error(`HANG: no progress for ${stallMs} ms after input #${lastIndex} (seed ${config.seed}); terminating`);
      void worker.terminate();
      process.exitCode = 1;
      clearInterval(watchdog);
    }
  }, 500);
  worker.on('message', (m: { progress?: number; report?: Report }) => {
    lastProgress = Date.now();
    if (m.progress !== undefined) lastIndex = m.progress;
    if (m.report) {
      clearInterval(watchdog);
      const r = m.report;
      console.log(
        `inputs            ${r.inputs.toLocaleString('en-US')} in ${(r.elapsedMs / 1000).toFixed(1)} s (${Math.round((r.inputs / r.elapsedMs) * 1000).toLocaleString('en-US')}/s)`,
      );
      console.log(`accepted          ${r.accepted.toLocaleString('en-US')} (every fragment decoded or waiting for more bytes)`);
      console.log(`rejected          ${r.rejected.toLocaleString('en-US')} with MqttPacketError`);
      console.log(`packets decoded   ${r.packets.toLocaleString('en-US')}; re-encoded and compared ${r.reencoded.toLocaleString('en-US')}`);
      console.log(`slowest input     ${r.maxInputMs.toFixed(2)} ms`);
      console.log('rejections by code:');
      for (const [code, n] of Object.entries(r.codes).sort((a, b) => b[1] - a[1]))
        console.log(`  ${code.padEnd(34)} ${n.toLocaleString('en-US')}`);
      if (r.failures.length) {
        console.error(`FAILURES (${r.failures.length}):\n  ${r.failures.join('\n  ')}`);
        process.exitCode = 1;
      } else {
        console.log('no failures: only MqttPacketError was thrown, every accepted packet round-tripped, no hang');
      }
    }
  });
  worker.on('error', (e) => {
    clearInterval(watchdog);
    console.error('worker failed:', e);
    process.exitCode = 1;
  });
} else {
  const report = fuzz(workerData as Config, (done) => parentPort?.postMessage({ progress: done }));
  parentPort?.postMessage({ report });
}
