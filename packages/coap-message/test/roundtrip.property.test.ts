import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CoapMessage,
  type CoapTcpMessage,
  decode,
  decodeBlock,
  decodeTcpFrame,
  decodeUint,
  decodeWs,
  encode,
  encodeBlock,
  encodeTcp,
  encodeUint,
  encodeWs,
  formatUri,
  joinPath,
  MessageType,
  parseUri,
  splitPath,
} from '../src/index.js';

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const option = fc.record({ number: fc.integer({ min: 1, max: 65535 }), value: bytes(300) });
// Decoded options come back sorted (stable), so sort the generated ones the same way.
const options = fc.array(option, { maxLength: 12 }).map((os) => [...os].sort((a, b) => a.number - b.number));

const message: fc.Arbitrary<CoapMessage> = fc
  .record({
    type: fc.constantFrom(MessageType.CON, MessageType.NON, MessageType.ACK, MessageType.RST),
    code: fc.integer({ min: 1, max: 255 }),
    messageId: fc.integer({ min: 0, max: 0xffff }),
    token: bytes(8),
    options,
    payload: bytes(1500),
  })
  .map((m) => m as CoapMessage);

const plain = (m: Pick<CoapMessage, 'token' | 'options' | 'payload'>) => ({
  token: Buffer.from(m.token).toString('hex'),
  options: m.options.map((o) => [o.number, Buffer.from(o.value).toString('hex')]),
  payload: Buffer.from(m.payload).toString('hex'),
});

describe('property round trips', () => {
  it('decode(encode(m)) = m for every valid UDP message', () => {
    fc.assert(
      fc.property(message, (m) => {
        const d = decode(encode(m));
        expect({ type: d.type, code: d.code, messageId: d.messageId, ...plain(d) }).toEqual({
          type: m.type,
          code: m.code,
          messageId: m.messageId,
          ...plain(m),
        });
      }),
      { numRuns: 500 },
    );
  });

  it('encode(decode(b)) = b for every encoding', () => {
    fc.assert(
      fc.property(message, (m) => {
        const b = encode(m);
        expect(encode(decode(b)).equals(b)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  const tcpMessage: fc.Arbitrary<CoapTcpMessage> = fc.record({
    code: fc.integer({ min: 1, max: 255 }),
    token: bytes(8),
    options,
    payload: bytes(70_000),
  });

  it('TCP framing round-trips, including every extended-length size, and needs every byte', () => {
    fc.assert(
      fc.property(tcpMessage, (m) => {
        const b = encodeTcp(m);
        const r = decodeTcpFrame(b);
        expect(r?.length).toBe(b.length);
        expect({ code: r?.message.code, ...plain(r!.message) }).toEqual({ code: m.code, ...plain(m) });
        expect(decodeTcpFrame(b.subarray(0, b.length - 1))).toBeUndefined();
      }),
      { numRuns: 60 },
    );
  });

  it('WebSocket framing round-trips', () => {
    fc.assert(
      fc.property(tcpMessage, (m) => {
        const d = decodeWs(encodeWs(m));
        expect({ code: d.code, ...plain(d) }).toEqual({ code: m.code, ...plain(m) });
      }),
      { numRuns: 60 },
    );
  });

  it('uint option values use the fewest bytes and round-trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 48 - 1 }), (n) => {
        const b = encodeUint(n);
        expect(decodeUint(b)).toBe(n);
        if (b.length > 0) expect(b[0]).not.toBe(0);
      }),
    );
  });

  it('Block values round-trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xfffff }), fc.boolean(), fc.integer({ min: 0, max: 6 }), (num, more, szx) => {
        expect(decodeBlock(encodeBlock({ num, more, szx }))).toEqual({ num, more, szx });
      }),
    );
  });

  const segment = fc.string({ unit: 'grapheme', maxLength: 12 });
  it('URIs round-trip through formatUri/parseUri', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('coap', 'coaps', 'coap+tcp'),
        fc.oneof(fc.constant('example.net'), fc.constant('127.0.0.1'), fc.constant('2001:db8::1')),
        fc.integer({ min: 1, max: 65535 }),
        fc.array(segment, { maxLength: 5 }),
        fc.array(segment, { maxLength: 4 }),
        (scheme, host, port, path, query) => {
          // The empty path and the path with one empty segment are the same resource (§6.4 step 8).
          const p = path.length === 1 && path[0] === '' ? [] : path;
          const u = parseUri(formatUri({ scheme: scheme as 'coap', host, port, path: p, query }));
          expect(u).toMatchObject({ host, port, path: p, query: query.length === 1 && query[0] === '' ? [] : query });
        },
      ),
    );
  });

  it('joinPath/splitPath are inverse for any segments', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 6 }), { maxLength: 5 }), (segs) => {
        const s = segs.length === 1 && segs[0] === '' ? [] : segs;
        expect(splitPath(joinPath(s))).toEqual(s);
      }),
    );
  });
});
