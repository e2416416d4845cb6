import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CoapMessageError,
  codeClass,
  codeFromString,
  codeName,
  codeToString,
  isRequestCode,
  isResponseCode,
  isSignalingCode,
  Method,
  messageTypeName,
  methodName,
  normalizeResponseCode,
  ResponseCode,
  toCodeNumber,
} from '../src/index.js';

describe('CoAP codes (RFC 7252 §3, §12.1)', () => {
  it.each([
    ['0.00', 0],
    ['0.01', 1],
    ['2.05', 69],
    ['2.31', 95],
    ['4.04', 132],
    ['5.03', 163],
    ['7.31', 255],
  ])('%s is %i', (s, n) => {
    expect(codeFromString(s)).toBe(n);
    expect(codeToString(n)).toBe(s);
  });

  it('gives the class', () => {
    expect(codeClass(codeFromString('4.02'))).toBe(4);
  });

  it.each(['2.5', '8.00', '2.32', 'x', '', '2.051'])('rejects %j with 707', (s) => {
    expect(() => codeFromString(s)).toThrow(CoapMessageError);
    expect(() => codeFromString(s)).toThrow(expect.objectContaining({ errorNumber: 707 }));
  });

  it('round-trips every 8-bit code', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), (n) => codeFromString(codeToString(n)) === n));
  });

  it('names methods and responses', () => {
    expect(methodName(Method.iPATCH)).toBe('iPATCH');
    expect(methodName(9)).toBeUndefined();
    expect(codeName(ResponseCode.Continue)).toBe('Continue');
    expect(codeName(0)).toBe('Empty');
    expect(codeName(1)).toBe('GET');
    expect(toCodeNumber('2.05')).toBe(69);
    expect(() => toCodeNumber(300)).toThrow(CoapMessageError);
    expect(messageTypeName(3)).toBe('RST');
  });

  it('classifies codes', () => {
    expect([isRequestCode(0), isRequestCode(1), isRequestCode(31), isRequestCode(32)]).toEqual([false, true, true, false]);
    expect([isResponseCode(0x45), isResponseCode(0x84), isResponseCode(0x20), isResponseCode(0xe1)]).toEqual([true, true, false, false]);
    expect(isSignalingCode(0xe2)).toBe(true);
  });

  it('treats unknown 4.xx as 4.00 and 5.xx as 5.00 (§5.9)', () => {
    expect(normalizeResponseCode(codeFromString('4.31'))).toBe(ResponseCode.BadRequest);
    expect(normalizeResponseCode(codeFromString('5.31'))).toBe(ResponseCode.InternalServerError);
    expect(normalizeResponseCode(codeFromString('2.10'))).toBe(codeFromString('2.10'));
    expect(normalizeResponseCode(ResponseCode.NotFound)).toBe(ResponseCode.NotFound);
  });
});
