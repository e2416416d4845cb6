import {
  blockOption,
  decode,
  decodeBlockOption,
  encode,
  MessageType,
  OptionNumber,
  opaqueOption,
  toHex,
  uintOption,
} from '@iotwire/coap-message';
import { afterEach, describe, expect, it } from 'vitest';
import { pair, rawSocket } from './helpers.js';

type Pair = Awaited<ReturnType<typeof pair>>;
let p: Pair | undefined;
let raw: Awaited<ReturnType<typeof rawSocket>> | undefined;
afterEach(async () => {
  raw?.close();
  raw = undefined;
  await p?.close();
  p = undefined;
});

const body = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => String.fromCharCode(97 + (i % 26))).join(''));
const opt = (m: ReturnType<typeof decode>, n: number) => m.options.find((o) => o.number === n);
const uint = (m: ReturnType<typeof decode>, n: number) => opt(m, n)?.value.reduce((a, b) => a * 256 + b, 0);

function msg(
  mid: number,
  code: number,
  path: string,
  extra: { number: number; value: Uint8Array }[],
  payload = Buffer.alloc(0),
  token = Buffer.of(mid & 255),
) {
  return encode({
    type: MessageType.CON,
    code,
    messageId: mid,
    token,
    options: [{ number: 11, value: Buffer.from(path) }, ...extra],
    payload,
  });
}

describe('CoapServer: Block2 (RFC 7959 §2.4)', () => {
  it('slices a large body into blocks with ETag and Size2, serving later blocks from its cache', async () => {
    p = await pair();
    const data = body(2500);
    let calls = 0;
    p.server.resource('/big', {
      get: () => {
        calls++;
        return { payload: data, contentFormat: 0 };
      },
    });
    raw = await rawSocket();
    raw.send(msg(1, 1, 'big', []), p.port);
    const b0 = decode(await raw.next());
    expect(decodeBlockOption(opt(b0, OptionNumber.Block2)!.value)).toEqual({ num: 0, more: true, szx: 6 });
    expect(uint(b0, OptionNumber.Size2)).toBe(2500);
    const etag = toHex(opt(b0, OptionNumber.ETag)!.value);
    expect(etag).toHaveLength(8);
    const parts = [b0.payload];
    for (let n = 1; n <= 2; n++) {
      raw.send(msg(1 + n, 1, 'big', [blockOption(23, { num: n, more: false, szx: 6 })]), p.port);
      const b = decode(await raw.next());
      expect(decodeBlockOption(opt(b, OptionNumber.Block2)!.value)).toEqual({ num: n, more: n < 2, szx: 6 });
      expect(toHex(opt(b, OptionNumber.ETag)!.value)).toBe(etag);
      expect(uint(b, OptionNumber.ContentFormat)).toBe(0);
      parts.push(b.payload);
    }
    expect(Buffer.concat(parts).equals(data)).toBe(true);
    expect(calls).toBe(1);
    raw.send(msg(9, 1, 'big', [blockOption(23, { num: 3, more: false, szx: 6 })]), p.port);
    expect(decode(await raw.next()).code).toBe(0x82); // past the end: 4.02
  });

  it('honours a smaller block size asked for early (and re-renders when nothing is cached)', async () => {
    p = await pair();
    const data = body(200);
    p.server.resource('/b', { get: () => ({ payload: data }) });
    raw = await rawSocket();
    raw.send(msg(1, 1, 'b', [blockOption(23, { num: 2, more: false, szx: 2 })]), p.port);
    const m = decode(await raw.next());
    expect(decodeBlockOption(opt(m, OptionNumber.Block2)!.value)).toEqual({ num: 2, more: true, szx: 2 });
    expect(m.payload.equals(data.subarray(128, 192))).toBe(true);
  });

  it('is reassembled by our client at any block size', async () => {
    p = await pair({ blockSize: 32 });
    const data = body(5000);
    p.server.resource('/big', { get: () => ({ payload: data }) });
    expect((await p.client.get(`${p.base}/big`)).payload.equals(data)).toBe(true);
    expect((await p.client.get(`${p.base}/big`, { blockSize: 16 })).payload.equals(data)).toBe(true);
  });

  it('rejects a Block2 option with the reserved SZX 7 with 4.00', async () => {
    p = await pair();
    p.server.resource('/b', { get: () => ({ payload: 'x' }) });
    raw = await rawSocket();
    raw.send(msg(1, 1, 'b', [{ number: 23, value: Uint8Array.of(0x07) }]), p.port);
    expect(decode(await raw.next()).code).toBe(0x80);
  });
});

describe('CoapServer: Block1 (RFC 7959 §2.3, RFC 9175)', () => {
  it('acknowledges each block with 2.31 Continue and the handler sees the whole body once', async () => {
    p = await pair();
    const bodies: Buffer[] = [];
    p.server.resource('/up', {
      put: (req) => {
        bodies.push(req.payload);
        return { code: '2.04' };
      },
    });
    raw = await rawSocket();
    const data = body(150);
    const blocks = [data.subarray(0, 64), data.subarray(64, 128), data.subarray(128)];
    for (let n = 0; n < 3; n++) {
      const extra = [blockOption(27, { num: n, more: n < 2, szx: 2 })];
      if (n === 0) extra.push(uintOption(OptionNumber.Size1, 150));
      raw.send(msg(10 + n, 3, 'up', extra, blocks[n]), p.port);
      const r = decode(await raw.next());
      expect(r.code).toBe(n < 2 ? 0x5f : 0x44);
      expect(decodeBlockOption(opt(r, OptionNumber.Block1)!.value)).toEqual({ num: n, more: n < 2, szx: 2 });
    }
    expect(bodies).toHaveLength(1);
    expect(bodies[0]?.equals(data)).toBe(true);
  });

  it('keeps concurrent uploads to one resource apart by Request-Tag, with a fresh token per block', async () => {
    p = await pair();
    const bodies: string[] = [];
    p.server.resource('/up', {
      post: (req) => {
        bodies.push(req.text());
        return { code: '2.04' };
      },
    });
    raw = await rawSocket();
    const a = Buffer.alloc(32, 0x41);
    const b = Buffer.alloc(32, 0x42);
    let mid = 100;
    const send = async (tag: number, n: number, more: boolean, chunk: Uint8Array) => {
      raw!.send(
        msg(
          mid++,
          2,
          'up',
          [blockOption(27, { num: n, more, szx: 0 }), opaqueOption(OptionNumber.RequestTag, Uint8Array.of(tag))],
          Buffer.from(chunk.subarray(0, 16)),
          Buffer.of(mid & 255, tag),
        ),
        p!.port,
      );
      return decode(await raw!.next()).code;
    };
    expect(await send(1, 0, true, a)).toBe(0x5f);
    expect(await send(2, 0, true, b)).toBe(0x5f);
    expect(await send(1, 1, false, a)).toBe(0x44);
    expect(await send(2, 1, false, b)).toBe(0x44);
    expect(bodies).toEqual(['A'.repeat(32), 'B'.repeat(32)]);
  });

  it('answers 4.08 to a block without its predecessors and to a gap', async () => {
    p = await pair();
    p.server.resource('/up', { put: () => ({}) });
    raw = await rawSocket();
    raw.send(msg(1, 3, 'up', [blockOption(27, { num: 1, more: true, szx: 0 })], Buffer.alloc(16)), p.port);
    expect(decode(await raw.next()).code).toBe(0x88);
    raw.send(msg(2, 3, 'up', [blockOption(27, { num: 0, more: true, szx: 0 })], Buffer.alloc(16)), p.port);
    expect(decode(await raw.next()).code).toBe(0x5f);
    raw.send(msg(3, 3, 'up', [blockOption(27, { num: 2, more: false, szx: 0 })], Buffer.alloc(16)), p.port);
    expect(decode(await raw.next()).code).toBe(0x88);
  });

  it('answers 4.13 with Size1 when the announced or received body exceeds maxBodySize', async () => {
    p = await pair({ maxBodySize: 100 });
    p.server.resource('/up', { put: () => ({}) });
    raw = await rawSocket();
    raw.send(
      msg(1, 3, 'up', [blockOption(27, { num: 0, more: true, szx: 0 }), uintOption(OptionNumber.Size1, 5000)], Buffer.alloc(16)),
      p.port,
    );
    const r = decode(await raw.next());
    expect([r.code, uint(r, OptionNumber.Size1)]).toEqual([0x8d, 100]);
    for (let n = 0; n < 7; n++) raw.send(msg(10 + n, 3, 'up', [blockOption(27, { num: n, more: true, szx: 0 })], Buffer.alloc(16)), p.port);
    const codes: number[] = [];
    for (let n = 0; n < 7; n++) codes.push(decode(await raw.next()).code);
    expect(codes).toEqual([0x5f, 0x5f, 0x5f, 0x5f, 0x5f, 0x5f, 0x8d]);
    expect(p.server.stats.blockTransfers).toBe(0);
  });

  it('asks a client for smaller blocks and our client adapts (RFC 7959 §2.3 Figure 6)', async () => {
    p = await pair({ blockSize: 64 });
    let got = Buffer.alloc(0);
    p.server.resource('/up', {
      put: (req) => {
        got = Buffer.from(req.payload);
        return { code: '2.04' };
      },
    });
    const data = body(3000);
    const r = await p.client.put(`${p.base}/up`, data, { blockSize: 1024 });
    expect(r.code).toBe('2.04');
    expect(got.equals(data)).toBe(true);
  });

  it('bounds concurrent transfers: the oldest is evicted to make room', async () => {
    p = await pair({ maxBlockTransfers: 2 });
    p.server.resource('/up', { put: () => ({}) });
    raw = await rawSocket();
    for (let t = 1; t <= 3; t++) {
      raw.send(
        msg(
          t,
          3,
          'up',
          [blockOption(27, { num: 0, more: true, szx: 0 }), opaqueOption(OptionNumber.RequestTag, Uint8Array.of(t))],
          Buffer.alloc(16),
        ),
        p.port,
      );
      expect(decode(await raw.next()).code).toBe(0x5f);
    }
    // The oldest was evicted to make room; its next block is now unknown.
    raw.send(
      msg(
        10,
        3,
        'up',
        [blockOption(27, { num: 1, more: false, szx: 0 }), opaqueOption(OptionNumber.RequestTag, Uint8Array.of(1))],
        Buffer.alloc(16),
      ),
      p.port,
    );
    expect(decode(await raw.next()).code).toBe(0x88);
    expect(p.server.stats.blockTransfers).toBeLessThanOrEqual(2);
  });
});
