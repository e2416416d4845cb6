// Codec suite: @iotwire/mqtt-packet against npm mqtt-packet, side by side in one process.
// `pnpm bench codec [--duration=ms] [--rounds=n]`. Each row runs ours then theirs `rounds`
// times and keeps the best ops/s of each (throughput on a shared machine is noise-bound).
import { parseArgs } from 'node:util';
import { Decoder, encode, encodeInto, encodePublishFrames, type Packet, type PublishPacket, PublishTemplate } from '@iotwire/mqtt-packet';
import mqtt from 'mqtt-packet';
import { fmt, markdownTable, measureSync, ratio } from '../measure.js';
import { type Case, CONNECT, PUBLISH_1K, PUBLISH_16, PUBLISH_64K, PUBLISH_V5, SUBSCRIBE } from './cases.js';

interface Row {
  name: string;
  ours: () => void;
  theirs: () => void;
}

let sink: unknown;

function decodeRow(c: Case): Row {
  const bytes = encode(c.ours, c.version);
  const theirBytes = mqtt.generate(c.theirs as never, { protocolVersion: c.version });
  if (!bytes.equals(theirBytes)) throw new Error(`${c.name}: fixtures encode differently`);
  const ours = new Decoder(
    (p) => {
      sink = p;
    },
    { protocolVersion: c.version },
  );
  const parser = mqtt.parser({ protocolVersion: c.version });
  parser.on('packet', (p) => {
    sink = p;
  });
  return {
    name: `decode ${c.name}`,
    ours: () => ours.push(bytes),
    theirs: () => {
      parser.parse(bytes);
    },
  };
}

function encodeRow(c: Case): Row {
  return {
    name: `encode ${c.name}`,
    ours: () => {
      sink = encode(c.ours, c.version);
    },
    theirs: () => {
      sink = mqtt.generate(c.theirs as never, { protocolVersion: c.version });
    },
  };
}

/** Their zero-copy path: writeToStream into a stream that keeps the chunks (like a corked socket). */
function framesRow(c: Case): Row {
  const chunks: unknown[] = [];
  const stream = {
    write(chunk: unknown) {
      chunks.push(chunk);
      return true;
    },
  };
  return {
    name: `encode ${c.name}, header + payload frames (no payload copy)`,
    ours: () => {
      sink = encodePublishFrames(c.ours as PublishPacket, c.version);
    },
    theirs: () => {
      chunks.length = 0;
      mqtt.writeToStream(c.theirs as never, stream as never, { protocolVersion: c.version });
    },
  };
}

/**
 * One-Buffer encode without the allocation: `encodeInto` a buffer the caller reuses (a write
 * staging area, a file record). Theirs has no encode-into, so its side is `generate`.
 */
function encodeIntoRow(c: Case): Row {
  const target = Buffer.allocUnsafe(encode(c.ours, c.version).length);
  return {
    name: `encode ${c.name} into a reused buffer (encodeInto vs generate)`,
    ours: () => {
      sink = encodeInto(c.ours, c.version, target, 0);
    },
    theirs: () => {
      sink = mqtt.generate(c.theirs as never, { protocolVersion: c.version });
    },
  };
}

/** One delivery to one subscriber, the broker's per-receiver cost. */
function fanoutRows(): Row[] {
  const src = PUBLISH_1K.ours as PublishPacket;
  const tpl = new PublishTemplate(src);
  const theirs0 = { cmd: 'publish', topic: src.topic, payload: src.payload, qos: 0, retain: false, dup: false };
  const theirs1: Record<string, unknown> = {
    cmd: 'publish',
    topic: src.topic,
    payload: src.payload,
    qos: 1,
    retain: false,
    dup: false,
    messageId: 1,
  };
  const v5 = PUBLISH_V5.ours as PublishPacket;
  const tpl5 = new PublishTemplate(v5);
  const theirs5 = { ...PUBLISH_V5.theirs, properties: { ...(PUBLISH_V5.theirs.properties as object), subscriptionIdentifier: 1 } };
  let id = 0;
  return [
    {
      name: 'fan-out 1 KB, QoS 0, per receiver (template reuse)',
      ours: () => {
        sink = tpl.bytes(4, 0);
      },
      theirs: () => {
        sink = mqtt.generate(theirs0 as never);
      },
    },
    {
      name: 'fan-out 1 KB, QoS 1, per receiver (patched packet id)',
      ours: () => {
        id = id === 65_535 ? 1 : id + 1;
        sink = tpl.bytes(4, 1, id);
      },
      theirs: () => {
        id = id === 65_535 ? 1 : id + 1;
        theirs1.messageId = id;
        sink = mqtt.generate(theirs1 as never);
      },
    },
    {
      name: 'fan-out 5.0 + properties, QoS 1 + subscription id, per receiver',
      ours: () => {
        id = id === 65_535 ? 1 : id + 1;
        sink = tpl5.encode(5, { qos: 1, packetId: id, subscriptionIdentifiers: [id & 0xff || 1] });
      },
      theirs: () => {
        id = id === 65_535 ? 1 : id + 1;
        (theirs5.properties as Record<string, unknown>).subscriptionIdentifier = id & 0xff || 1;
        (theirs5 as Record<string, unknown>).messageId = id;
        sink = mqtt.generate(theirs5 as never, { protocolVersion: 5 });
      },
    },
    {
      name: 'fan-out 1 KB, QoS 0, 100 receivers incl. template build',
      ours: () => {
        const t = new PublishTemplate(src);
        for (let i = 0; i < 100; i++) sink = t.bytes(4, 0);
      },
      theirs: () => {
        for (let i = 0; i < 100; i++) sink = mqtt.generate(theirs0 as never);
      },
    },
  ];
}

export function rows(): Row[] {
  const cases = [PUBLISH_16, PUBLISH_1K, PUBLISH_64K, CONNECT, SUBSCRIBE, PUBLISH_V5];
  return [...cases.map(decodeRow), ...cases.map(encodeRow), framesRow(PUBLISH_64K), encodeIntoRow(PUBLISH_64K), ...fanoutRows()];
}

export async function run(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: { duration: { type: 'string', default: '300' }, rounds: { type: 'string', default: '3' }, filter: { type: 'string' } },
    allowPositionals: true,
    strict: false,
  });
  const durationMs = Number(values.duration);
  const rounds = Number(values.rounds);
  const filter = typeof values.filter === 'string' ? values.filter : undefined;
  const table: (string | number)[][] = [];
  console.log(`codec: @iotwire/mqtt-packet vs mqtt-packet@9 (node ${process.version}, ${durationMs} ms x ${rounds} rounds, best of)`);
  for (const row of rows()) {
    if (filter && !row.name.includes(filter)) continue;
    let ours = 0;
    let theirs = 0;
    for (let r = 0; r < rounds; r++) {
      ours = Math.max(ours, measureSync('ours', row.ours, { durationMs, warmupMs: 100, batch: 200 }).opsPerSec);
      theirs = Math.max(theirs, measureSync('theirs', row.theirs, { durationMs, warmupMs: 100, batch: 200 }).opsPerSec);
    }
    table.push([row.name, fmt(ours), fmt(theirs), `${ratio(ours, theirs)}x`]);
    console.log(`  ${row.name}: ${fmt(ours)} vs ${fmt(theirs)} ops/s (${ratio(ours, theirs)}x)`);
  }
  if (sink === 42) console.log('');
  console.log(`\n${markdownTable(['operation', '@iotwire ops/s', 'mqtt-packet ops/s', 'ours/theirs'], table)}`);
  if (!filter || 'encode PUBLISH 64 KB'.includes(filter)) {
    // The floor of any one-Buffer encoder: allocate the packet and copy the payload into it.
    const payload = (PUBLISH_64K.ours as PublishPacket).payload;
    const size = encode(PUBLISH_64K.ours, 4).length;
    let floor = 0;
    for (let r = 0; r < rounds; r++) {
      const m = measureSync(
        'floor',
        () => {
          const b = Buffer.allocUnsafe(size);
          b.set(payload, size - payload.length);
          sink = b;
        },
        { durationMs, warmupMs: 100, batch: 200 },
      );
      floor = Math.max(floor, m.opsPerSec);
    }
    console.log(`\nfloor for a one-Buffer 64 KB PUBLISH (allocate ${size} B + copy the payload, no MQTT): ${fmt(floor)} ops/s`);
  }
}

export type { Packet };
