// Lean MQTT 3.1.1 wire helpers for the load generator: prebuilt packets and a header scanner
// that counts packets without decoding them (the generator must not be the bottleneck).

function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

function packet(first: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([first, ...varint(body.length)]), body]);
}

export function connectPacket(clientId: string, keepAlive = 0, clean = true): Buffer {
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, clean ? 0x02 : 0x00, keepAlive >> 8, keepAlive & 0xff]), str(clientId)]);
  return packet(0x10, body);
}

export function subscribePacket(packetId: number, filter: string, qos: number): Buffer {
  return packet(0x82, Buffer.concat([Buffer.from([packetId >> 8, packetId & 0xff]), str(filter), Buffer.from([qos])]));
}

export function publishPacket(topic: string, payload: Buffer, qos: number, packetId = 0): Buffer {
  const parts = [str(topic)];
  if (qos > 0) parts.push(Buffer.from([packetId >> 8, packetId & 0xff]));
  parts.push(payload);
  return packet(0x30 | (qos << 1), Buffer.concat(parts));
}

/** Offset of the packet id inside a QoS 1 PUBLISH built by {@link publishPacket}. */
export function publishPacketIdOffset(pkt: Buffer): number {
  let i = 1;
  while ((pkt[i] as number) & 0x80) i++;
  i++;
  const topicLen = ((pkt[i] as number) << 8) | (pkt[i + 1] as number);
  return i + 2 + topicLen;
}

export function puback(packetId: number): Buffer {
  return Buffer.from([0x40, 0x02, packetId >> 8, packetId & 0xff]);
}

/** Calls `on(type, buf, bodyStart, end)` for each complete packet; keeps partial ones. */
export class Scanner {
  #carry: Buffer | null = null;
  constructor(private readonly on: (first: number, buf: Buffer, body: number, end: number) => void) {}
  push(chunk: Buffer): void {
    let buf = chunk;
    if (this.#carry !== null) {
      buf = Buffer.concat([this.#carry, chunk]);
      this.#carry = null;
    }
    const len = buf.length;
    let pos = 0;
    while (pos < len) {
      if (pos + 2 > len) break;
      let rl = 0;
      let mul = 1;
      let i = pos + 1;
      let complete = false;
      for (; i < len && i < pos + 5; i++) {
        const b = buf[i] as number;
        rl += (b & 0x7f) * mul;
        mul *= 128;
        if (b < 0x80) {
          complete = true;
          break;
        }
      }
      if (!complete) break;
      const body = i + 1;
      const end = body + rl;
      if (end > len) break;
      this.on(buf[pos] as number, buf, body, end);
      pos = end;
    }
    if (pos < len) this.#carry = buf.subarray(pos);
  }
}
