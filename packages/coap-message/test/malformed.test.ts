import { describe, expect, it } from 'vitest';
import { type CoapMessage, CoapMessageError, decode, encode, MessageType } from '../src/index.js';

// Each row: a datagram that RFC 7252 §3 / §4.1 calls a message format error, the stable code,
// and whether the header was readable (so a receiver can RST a malformed CON).
const MALFORMED: [string, string, string, boolean][] = [
  ['empty datagram', '', 'ERR_COAP_TRUNCATED', false],
  ['3-byte datagram', '400100', 'ERR_COAP_TRUNCATED', false],
  ['version 0', '00010001', 'ERR_COAP_VERSION', true],
  ['version 2', '80010001', 'ERR_COAP_VERSION', true],
  ['version 3', 'c0010001', 'ERR_COAP_VERSION', true],
  ['token length 9', '4901000101020304050607080900', 'ERR_COAP_TOKEN_LENGTH', true],
  ['token length 15', '4f010001', 'ERR_COAP_TOKEN_LENGTH', true],
  ['token longer than the datagram', '44010001aabb', 'ERR_COAP_TRUNCATED', true],
  ['Empty message with a token', '61000001aa', 'ERR_COAP_EMPTY_MESSAGE', true],
  ['Empty message with a payload byte', '60000001ff', 'ERR_COAP_EMPTY_MESSAGE', true],
  ['Empty CON with an option', '40000001b1', 'ERR_COAP_EMPTY_MESSAGE', true],
  ['payload marker and nothing after it', '40010001ff', 'ERR_COAP_EMPTY_PAYLOAD', true],
  ['option delta nibble 15 (not a marker)', '40010001f1', 'ERR_COAP_OPTION_NIBBLE', true],
  ['option length nibble 15', '40010001bf', 'ERR_COAP_OPTION_NIBBLE', true],
  ['option value past the end', '40010001b474', 'ERR_COAP_TRUNCATED', true],
  ['delta extension byte missing', '40010001d1', 'ERR_COAP_TRUNCATED', true],
  ['2-byte delta extension cut short', '40010001e100', 'ERR_COAP_TRUNCATED', true],
  ['length extension byte missing', '400100011d', 'ERR_COAP_TRUNCATED', true],
  ['2-byte length extension cut short', '400100011e00', 'ERR_COAP_TRUNCATED', true],
  ['option number beyond 65535', '40010001e0ff00e0ff00', 'ERR_COAP_OPTION', true],
];

describe('malformed datagrams', () => {
  it.each(MALFORMED)('%s → %s', (_name, hex, code, hasHeader) => {
    let err: unknown;
    try {
      decode(Buffer.from(hex, 'hex'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CoapMessageError);
    const e = err as CoapMessageError;
    expect(e.code).toBe(code);
    expect(e.errorNumber).toBe(code === 'ERR_COAP_OPTION' ? 701 : 703);
    if (hasHeader) {
      expect(e.header?.messageId).toBe(1);
    } else expect(e.header).toBeUndefined();
  });

  const base: CoapMessage = {
    type: MessageType.CON,
    code: 1,
    messageId: 1,
    token: new Uint8Array(0),
    options: [],
    payload: new Uint8Array(0),
  };
  it.each([
    ['type 4', { type: 4 as MessageType }, 'ERR_COAP_FIELD'],
    ['code 256', { code: 256 }, 'ERR_COAP_CODE'],
    ['message ID 65536', { messageId: 65536 }, 'ERR_COAP_FIELD'],
    ['message ID -1', { messageId: -1 }, 'ERR_COAP_FIELD'],
    ['9-byte token', { token: new Uint8Array(9) }, 'ERR_COAP_FIELD'],
    ['option number 0', { options: [{ number: 0, value: new Uint8Array(0) }] }, 'ERR_COAP_OPTION'],
    ['option number 65536', { options: [{ number: 65536, value: new Uint8Array(0) }] }, 'ERR_COAP_OPTION'],
    ['Empty message with a token', { code: 0, token: new Uint8Array(1) }, 'ERR_COAP_EMPTY_MESSAGE'],
    ['Empty message with a payload', { code: 0, payload: new Uint8Array(1) }, 'ERR_COAP_EMPTY_MESSAGE'],
  ] as [string, Partial<CoapMessage>, string][])('refuses to encode %s', (_name, patch, code) => {
    expect(() => encode({ ...base, ...patch })).toThrow(expect.objectContaining({ code }));
  });
});
