import { describe, expect, it } from 'vitest';
import { Decoder, encode, MqttPacketError, type Packet, type PublishPacket } from '../src/index.js';

const pub = (topic: string, payload: string | Buffer, extra: Partial<PublishPacket> = {}): PublishPacket => ({
  type: 'publish',
  topic,
  payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
  qos: 0,
  retain: false,
  dup: false,
  ...extra,
});

/** Whether two views share any byte of memory. */
function overlaps(a: Uint8Array, b: Uint8Array): boolean {
  return a.buffer === b.buffer && a.byteOffset < b.byteOffset + b.length && b.byteOffset < a.byteOffset + a.length;
}

function collect(options: ConstructorParameters<typeof Decoder>[1] = { protocolVersion: 4 }) {
  const got: Packet[] = [];
  const decoder = new Decoder((p) => got.push(p), options);
  return { got, decoder };
}

describe('Decoder', () => {
  it('delivers many packets from one chunk, in order, through one callback', () => {
    const packets: Packet[] = [
      pub('a', 'x'),
      { type: 'pingreq' },
      pub('b/c', 'yy', { qos: 1, packetId: 3 }),
      { type: 'puback', packetId: 3 },
    ];
    const { got, decoder } = collect();
    decoder.push(Buffer.concat(packets.map((p) => encode(p, 4))));
    expect(got).toEqual(packets);
  });

  it('returns payloads as views into the chunk when a packet is contiguous (no copy)', () => {
    const { got, decoder } = collect();
    const chunk = Buffer.concat([encode(pub('t', 'hello'), 4), encode(pub('u', 'world'), 4)]);
    decoder.push(chunk);
    for (const p of got as PublishPacket[]) {
      expect(p.payload.buffer).toBe(chunk.buffer);
      expect(p.payload.byteOffset).toBeGreaterThanOrEqual(chunk.byteOffset);
      expect(p.payload.byteOffset + p.payload.length).toBeLessThanOrEqual(chunk.byteOffset + chunk.length);
    }
    expect((got[1] as PublishPacket).payload.toString()).toBe('world');
  });

  it('copies a packet split across chunks once, into memory the packet then owns', () => {
    const { got, decoder } = collect();
    const a = encode(pub('t', 'A'.repeat(100)), 4);
    const b = encode(pub('t', 'B'.repeat(100)), 4);
    const first = Buffer.from(a.subarray(0, 50));
    decoder.push(first);
    expect(got).toHaveLength(0);
    expect(decoder.bufferedBytes).toBe(50);
    const rest = Buffer.concat([a.subarray(50), b.subarray(0, 60)]);
    decoder.push(rest);
    expect(got).toHaveLength(1);
    const p0 = got[0] as PublishPacket;
    expect(overlaps(p0.payload, first)).toBe(false);
    expect(overlaps(p0.payload, rest)).toBe(false);
    decoder.push(b.subarray(60));
    expect(got).toHaveLength(2);
    // The first packet's bytes were not reused for the second one.
    expect(p0.payload.toString()).toBe('A'.repeat(100));
    expect((got[1] as PublishPacket).payload.toString()).toBe('B'.repeat(100));
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('decodes in place when only the fixed header was split', () => {
    const { got, decoder } = collect();
    const big = encode(pub('t', Buffer.alloc(300, 7)), 4); // two-byte Remaining Length
    decoder.push(big.subarray(0, 2));
    const body = Buffer.from(big.subarray(2));
    decoder.push(body);
    expect(overlaps((got[0] as PublishPacket).payload, body)).toBe(true);
  });

  it('reassembles a large packet arriving in small pieces', () => {
    const { got, decoder } = collect();
    const payload = Buffer.alloc(200_000);
    for (let i = 0; i < payload.length; i++) payload[i] = i & 0xff;
    const bytes = encode(pub('big', payload), 4);
    for (let i = 0; i < bytes.length; i += 777) decoder.push(bytes.subarray(i, i + 777));
    expect(got).toHaveLength(1);
    expect(Buffer.compare((got[0] as PublishPacket).payload as Buffer, payload)).toBe(0);
  });

  it('enforces maxPacketSize at the fixed header, counting the header, before buffering any body byte', () => {
    const ok = encode(pub('t', Buffer.alloc(95)), 4); // 2 + 3 + 95 = 100 bytes
    expect(ok.length).toBe(100);
    const { got, decoder } = collect({ protocolVersion: 4, maxPacketSize: 100 });
    decoder.push(ok);
    expect(got).toHaveLength(1);
    const tooBig = encode(pub('t', Buffer.alloc(96)), 4);
    const { decoder: d2 } = collect({ protocolVersion: 4, maxPacketSize: 100 });
    expect(() => d2.push(tooBig.subarray(0, 2))).toThrow(expect.objectContaining({ code: 'ERR_PACKET_TOO_LARGE', reasonCode: 0x95 }));
    expect(d2.bufferedBytes).toBe(0);
  });

  it('does not allocate for a forged Remaining Length: memory follows the bytes actually received', () => {
    const { decoder } = collect({ protocolVersion: 4 });
    // Claims 268,435,455 bytes; sends 64.
    const header = Buffer.from([0x30, 0xff, 0xff, 0xff, 0x7f]);
    const before = process.memoryUsage().arrayBuffers;
    decoder.push(Buffer.concat([header, Buffer.alloc(64)]));
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(decoder.bufferedBytes).toBe(69);
    expect(grown).toBeLessThan(8 * 1024 * 1024);
  });

  it('a server decoder learns the level from CONNECT and decodes the rest of the chunk with it', () => {
    const { got, decoder } = collect({ side: 'server' });
    expect(decoder.protocolVersion).toBeUndefined();
    const connect: Packet = { type: 'connect', protocolVersion: 5, clean: true, keepAlive: 0, clientId: 'c' };
    const p5 = pub('t', 'x', { properties: { contentType: 'text/plain' } });
    decoder.push(Buffer.concat([encode(connect, 5), encode(p5, 5)]));
    expect(decoder.protocolVersion).toBe(5);
    expect(got).toEqual([connect, p5]);
  });

  it('decodes the first CONNECT of any level, whatever level was preset', () => {
    for (const v of [3, 4, 5] as const) {
      const { got, decoder } = collect({ protocolVersion: 5, side: 'server' });
      const c: Packet = { type: 'connect', protocolVersion: v, clean: true, keepAlive: 30, clientId: 'id' };
      decoder.push(encode(c, v));
      expect(got).toEqual([c]);
      expect(decoder.protocolVersion).toBe(v);
    }
  });

  it('can be switched to another level by assignment (client after CONNECT)', () => {
    const { got, decoder } = collect({ protocolVersion: 4, side: 'client' });
    decoder.push(Buffer.from([0x20, 0x02, 0x00, 0x00]));
    decoder.protocolVersion = 5;
    decoder.push(Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]));
    expect(got).toEqual([
      { type: 'connack', sessionPresent: false, reasonCode: 0 },
      { type: 'connack', sessionPresent: false, reasonCode: 0 },
    ]);
  });

  it('pause() holds later packets, including bytes pushed meanwhile, until resume()', () => {
    const got: Packet[] = [];
    const decoder = new Decoder(
      (p) => {
        got.push(p);
        if (p.type === 'connect') decoder.pause();
      },
      { side: 'server' },
    );
    const connect = encode({ type: 'connect', protocolVersion: 4, clean: true, keepAlive: 0, clientId: 'c' }, 4);
    const a = encode(pub('a', '1'), 4);
    const b = encode(pub('b', '2'), 4);
    decoder.push(Buffer.concat([connect, a, b.subarray(0, 3)]));
    expect(got.map((p) => p.type)).toEqual(['connect']);
    expect(decoder.isPaused).toBe(true);
    decoder.push(b.subarray(3));
    expect(got).toHaveLength(1);
    expect(decoder.bufferedBytes).toBe(a.length + b.length);
    decoder.resume();
    expect(got.map((p) => (p.type === 'publish' ? p.topic : p.type))).toEqual(['connect', 'a', 'b']);
    expect(decoder.bufferedBytes).toBe(0);
  });

  it('pause() then resume() within the handler continues synchronously', () => {
    const got: Packet[] = [];
    const decoder = new Decoder(
      (p) => {
        got.push(p);
        decoder.pause();
        decoder.resume();
      },
      { protocolVersion: 4 },
    );
    decoder.push(Buffer.concat([encode(pub('a', '1'), 4), encode(pub('b', '2'), 4)]));
    expect(got).toHaveLength(2);
  });

  it('keeps the rest of the chunk when the handler throws, and is not failed by it', () => {
    let calls = 0;
    const got: Packet[] = [];
    const decoder = new Decoder(
      (p) => {
        calls++;
        if (calls === 1) throw new Error('handler bug');
        got.push(p);
      },
      { protocolVersion: 4 },
    );
    const chunk = Buffer.concat([encode(pub('a', '1'), 4), encode(pub('b', '2'), 4), encode(pub('c', '3'), 4).subarray(0, 4)]);
    expect(() => decoder.push(chunk)).toThrow('handler bug');
    expect(decoder.error).toBeUndefined();
    decoder.push(encode(pub('c', '3'), 4).subarray(4));
    expect(got.map((p) => (p as PublishPacket).topic)).toEqual(['b', 'c']);
  });

  it('queues bytes pushed from inside the handler after the current chunk', () => {
    const got: string[] = [];
    const later = encode(pub('later', ''), 4);
    const decoder = new Decoder(
      (p) => {
        got.push((p as PublishPacket).topic);
        if (got.length === 1) decoder.push(later);
      },
      { protocolVersion: 4 },
    );
    decoder.push(Buffer.concat([encode(pub('first', ''), 4), encode(pub('second', ''), 4)]));
    expect(got).toEqual(['first', 'second', 'later']);
  });

  it('delivers packets before the bad one, then fails; reset() makes it usable again', () => {
    const { got, decoder } = collect();
    const bad = Buffer.from([0x36, 0x00]);
    expect(() => decoder.push(Buffer.concat([encode(pub('ok', ''), 4), bad]))).toThrow(MqttPacketError);
    expect(got).toHaveLength(1);
    expect(() => decoder.push(encode(pub('ok', ''), 4))).toThrow(MqttPacketError);
    decoder.reset(4);
    decoder.push(encode(pub('again', ''), 4));
    expect(got).toHaveLength(2);
  });

  it('a handler throwing its own MqttPacketError does not fail the decoder', () => {
    let first = true;
    const decoder = new Decoder(
      () => {
        if (first) {
          first = false;
          throw new MqttPacketError('ERR_INVALID_ARGUMENT', 0x80, 'from the application');
        }
      },
      { protocolVersion: 4 },
    );
    expect(() => decoder.push(encode(pub('a', ''), 4))).toThrow('from the application');
    expect(decoder.error).toBeUndefined();
    decoder.push(encode(pub('b', ''), 4));
  });

  it('ignores empty chunks', () => {
    const { got, decoder } = collect();
    decoder.push(Buffer.alloc(0));
    expect(got).toHaveLength(0);
    expect(decoder.bufferedBytes).toBe(0);
  });
});
