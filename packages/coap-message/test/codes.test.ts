import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CoapMessageError, codeClass, codeFromString, codeToString } from '../src/index.js';

describe('CoAP codes (RFC 7252 §3, §12.1)', () => {
  it.each([
    ['0.00', 0],
    ['0.01', 1],
    ['2.05', 69],
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

  it.each(['2.5', '8.00', '2.32', 'x', ''])('rejects %j', (s) => {
    expect(() => codeFromString(s)).toThrow(CoapMessageError);
  });

  it('round-trips every 8-bit code', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), (n) => codeFromString(codeToString(n)) === n));
  });
});
