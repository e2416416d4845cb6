// A minimal MQTT 3.1.1 peer for the client suite, run in its own process:
// `node raw-peer.js <port>`; prints "raw-peer listening <port>". It answers CONNECT, SUBSCRIBE,
// PINGREQ and QoS 1 PUBLISH (PUBACK) at the least possible cost (acks of one socket read go
// out in one write), and on SUBSCRIBE to `bench/raw/<qos>/<count>` streams `count` pre-encoded
// 64-byte PUBLISH packets at that QoS as fast as the socket drains. Unlike a real broker it
// never becomes the bottleneck, so the rows it serves measure the clients themselves.
import { once } from 'node:events';
import net from 'node:net';
import { Decoder, encode, type Packet } from '@iotwire/mqtt-packet';

const PAYLOAD = Buffer.alloc(64, 0x61);
const CONNACK = Buffer.from([0x20, 0x02, 0x00, 0x00]);
const PINGRESP = Buffer.from([0xd0, 0x00]);

function ack(type: number, packetId: number): Buffer {
  return Buffer.from([type, 0x02, packetId >> 8, packetId & 0xff]);
}

async function stream(socket: net.Socket, topic: string, qos: 0 | 1, count: number): Promise<void> {
  // Pre-encode once per id window; a QoS 0 packet is the same bytes every time.
  const one = (i: number) =>
    encode({ type: 'publish', topic, payload: PAYLOAD, qos, retain: false, dup: false, ...(qos ? { packetId: (i % 65535) + 1 } : {}) }, 4);
  const batch = 1024;
  for (let sent = 0; sent < count && !socket.destroyed; ) {
    const parts: Buffer[] = [];
    for (let i = 0; i < batch && sent < count; i++, sent++) parts.push(one(sent));
    if (!socket.write(Buffer.concat(parts))) await once(socket, 'drain');
  }
}

const port = Number(process.argv[2] ?? 0);
const server = net.createServer({ noDelay: true }, (socket) => {
  const out: Buffer[] = [];
  const decoder = new Decoder(
    (p: Packet) => {
      switch (p.type) {
        case 'connect':
          out.push(CONNACK);
          break;
        case 'subscribe': {
          out.push(
            Buffer.from([0x90, 2 + p.subscriptions.length, p.packetId >> 8, p.packetId & 0xff, ...p.subscriptions.map((s) => s.qos)]),
          );
          const m = /^bench\/raw\/([01])\/(\d+)$/.exec(p.subscriptions[0]?.topicFilter ?? '');
          if (m) setImmediate(() => void stream(socket, m[0], Number(m[1]) as 0 | 1, Number(m[2])));
          break;
        }
        case 'publish':
          if (p.qos === 1) out.push(ack(0x40, p.packetId as number));
          break;
        case 'pingreq':
          out.push(PINGRESP);
          break;
        case 'disconnect':
          socket.end();
          break;
        default:
          break;
      }
    },
    { side: 'server' },
  );
  socket.on('data', (chunk: Buffer) => {
    try {
      decoder.push(chunk);
    } catch {
      socket.destroy();
      return;
    }
    if (out.length > 0) socket.write(out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out.splice(0)));
    out.length = 0;
  });
  socket.on('error', () => socket.destroy());
});
server.listen(port, '127.0.0.1', () => console.log(`raw-peer listening ${(server.address() as net.AddressInfo).port}`));
process.on('SIGTERM', () => process.exit(0));
