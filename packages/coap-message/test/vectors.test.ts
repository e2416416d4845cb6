import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type CoapMessage, decode, encode, encodedLength, encodeInto, MessageType, toHex } from '../src/index.js';

interface Vector {
  name: string;
  hex: string;
  type: number;
  code: number;
  messageId: number;
  token: string;
  options: [number, string][];
  payload: string;
}

const { vectors } = JSON.parse(readFileSync(new URL('./vectors/messages.json', import.meta.url), 'utf8')) as { vectors: Vector[] };

function toMessage(v: Vector): CoapMessage {
  return {
    type: v.type as MessageType,
    code: v.code,
    messageId: v.messageId,
    token: Buffer.from(v.token, 'hex'),
    options: v.options.map(([number, hex]) => ({ number, value: Buffer.from(hex, 'hex') })),
    payload: Buffer.from(v.payload, 'hex'),
  };
}

describe('byte-exact vectors (RFC 7252 Appendix A, libcoap captures)', () => {
  it.each(vectors.map((v) => [v.name, v] as const))('decodes %s', (_name, v) => {
    const m = decode(Buffer.from(v.hex, 'hex'));
    expect(m.type).toBe(v.type);
    expect(m.code).toBe(v.code);
    expect(m.messageId).toBe(v.messageId);
    expect(toHex(m.token)).toBe(v.token);
    expect(m.options.map((o) => [o.number, toHex(o.value)])).toEqual(v.options);
    expect(toHex(m.payload)).toBe(v.payload);
  });

  it.each(vectors.map((v) => [v.name, v] as const))('encodes %s', (_name, v) => {
    const msg = toMessage(v);
    expect(encode(msg).toString('hex')).toBe(v.hex);
    expect(encodedLength(msg)).toBe(v.hex.length / 2);
    const target = Buffer.alloc(v.hex.length / 2 + 3, 0xaa);
    expect(encodeInto(msg, target, 3)).toBe(v.hex.length / 2);
    expect(target.subarray(3).toString('hex')).toBe(v.hex);
  });

  it('sorts options by number and keeps the order of repeated ones (§3.1)', () => {
    const msg: CoapMessage = {
      type: MessageType.CON,
      code: 1,
      messageId: 1,
      token: new Uint8Array(0),
      options: [
        { number: 15, value: Buffer.from('q') },
        { number: 11, value: Buffer.from('a') },
        { number: 11, value: Buffer.from('b') },
        { number: 3, value: Buffer.from('h') },
      ],
      payload: new Uint8Array(0),
    };
    expect(encode(msg).toString('hex')).toBe('40010001' + '3168' + '8161' + '0162' + '4171');
  });

  it('uses the 2-byte extended delta and length forms (nibble 14)', () => {
    const long = Buffer.alloc(300, 0x61);
    const msg: CoapMessage = {
      type: MessageType.NON,
      code: 2,
      messageId: 0xabcd,
      token: Buffer.from('0102030405060708', 'hex'),
      options: [
        { number: 11, value: long },
        { number: 2011, value: Buffer.of(1) },
      ],
      payload: Buffer.from('x'),
    };
    const hex = encode(msg).toString('hex');
    // 11 = delta 11 with length 300 → 0xbe, length extension 300 − 269 = 31 → 0x001f.
    // 2011 − 11 = 2000 → delta nibble 14, extension 2000 − 269 = 1731 → 0x06c3; length 1.
    expect(hex).toBe(`5802abcd0102030405060708be001f${long.toString('hex')}e106c301ff78`);
    const back = decode(Buffer.from(hex, 'hex'));
    expect(back.options.map((o) => o.number)).toEqual([11, 2011]);
    expect(back.options[0]?.value.length).toBe(300);
  });

  it('accepts a plain Uint8Array and returns views into it', () => {
    const bytes = new Uint8Array(Buffer.from('61457d3520ff32322e352043', 'hex'));
    const m = decode(bytes);
    expect(Buffer.from(m.payload).toString()).toBe('22.5 C');
    expect(m.payload.buffer).toBe(bytes.buffer);
  });
});
