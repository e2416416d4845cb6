import { describe, expect, it } from 'vitest';
import {
  blockOffset,
  blockOption,
  blockSize,
  CoapMessageError,
  decodeBlock,
  decodeBlockOption,
  encodeBlock,
  szxFromSize,
  toHex,
} from '../src/index.js';

describe('Block options (RFC 7959 §2.2)', () => {
  it('encodes NUM/M/SZX', () => {
    // libcoap's first Block1 0/M/64 is the single byte 0x0a (see vectors/messages.json).
    expect(toHex(blockOption(27, { num: 0, more: true, szx: 2 }).value)).toBe('0a');
    // 0/_/16 is the value 0, sent as a zero-length option.
    expect(toHex(blockOption(23, { num: 0, more: false, szx: 0 }).value)).toBe('');
    // RFC 7959 Figure 2: 2:… with 128-byte blocks → NUM 2, SZX 3.
    expect(encodeBlock({ num: 2, more: false, szx: 3 })).toBe(0x23);
    expect(toHex(blockOption(23, { num: 0xfffff, more: true, szx: 6 }).value)).toBe('fffffe');
  });

  it('decodes values of 0–3 bytes', () => {
    expect(decodeBlockOption(new Uint8Array(0))).toEqual({ num: 0, more: false, szx: 0 });
    expect(decodeBlockOption(Uint8Array.of(0x1e))).toEqual({ num: 1, more: true, szx: 6 });
    expect(decodeBlockOption(Uint8Array.of(0xff, 0xff, 0xfe))).toEqual({ num: 0xfffff, more: true, szx: 6 });
  });

  it('computes sizes and offsets', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map(blockSize)).toEqual([16, 32, 64, 128, 256, 512, 1024]);
    expect(szxFromSize(1024)).toBe(6);
    expect(blockOffset({ num: 3, more: true, szx: 2 })).toBe(192);
  });

  it('reserves SZX 7 for BERT on reliable transports', () => {
    expect(() => decodeBlock(7)).toThrow(CoapMessageError);
    expect(decodeBlock(0x17, { bert: true })).toEqual({ num: 1, more: false, szx: 7 });
    expect(blockSize(7)).toBe(1024);
  });

  it.each([
    () => szxFromSize(100),
    () => szxFromSize(2048),
    () => encodeBlock({ num: 0x100000, more: false, szx: 0 }),
    () => encodeBlock({ num: 0, more: false, szx: 7 }),
    () => decodeBlockOption(new Uint8Array(4)),
  ])('rejects invalid values with 702 (%#)', (fn) => {
    expect(fn).toThrow(expect.objectContaining({ code: 'ERR_COAP_BLOCK', errorNumber: 702 }));
  });
});
