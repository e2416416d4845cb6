import { describe, expect, it } from 'vitest';
import {
  ContentFormat,
  checkOptions,
  contentFormatOf,
  decodeUint,
  emptyOption,
  encodeUint,
  fromHex,
  getStringOptions,
  getUintOption,
  isCritical,
  isNoCacheKey,
  isUnsafe,
  mediaType,
  NoResponse,
  OPTION_DEFINITIONS,
  OptionNumber,
  optionName,
  optionNumberByName,
  stringOption,
  suppressesResponse,
  toHex,
  uintOption,
} from '../src/index.js';

describe('option registry (RFC 7252 §5.4.6, §5.10)', () => {
  it('derives Critical, Unsafe and NoCacheKey from the number', () => {
    // RFC 7252 Table 4: C = critical, U = unsafe, N = NoCacheKey.
    const table: [number, boolean, boolean, boolean][] = [
      [1, true, false, false],
      [3, true, true, false],
      [4, false, false, false],
      [5, true, false, false],
      [7, true, true, false],
      [8, false, false, false],
      [11, true, true, false],
      [12, false, false, false],
      [14, false, true, false],
      [15, true, true, false],
      [17, true, false, false],
      [20, false, false, false],
      [35, true, true, false],
      [39, true, true, false],
      [60, false, false, true],
      [28, false, false, true],
    ];
    for (const [n, c, u, nck] of table) expect([n, isCritical(n), isUnsafe(n), isNoCacheKey(n)]).toEqual([n, c, u, nck]);
  });

  it('knows names and numbers', () => {
    expect(optionName(OptionNumber.RequestTag)).toBe('Request-Tag');
    expect(optionName(9999)).toBe('Option9999');
    expect(optionNumberByName('uri-path')).toBe(11);
    expect(OPTION_DEFINITIONS.get(OptionNumber.Observe)?.format).toBe('uint');
  });

  it('encodes 0 as a zero-length uint and accepts leading zeros (§3.2)', () => {
    expect(encodeUint(0).length).toBe(0);
    expect(toHex(uintOption(12, ContentFormat.TextPlain).value)).toBe('');
    expect(toHex(encodeUint(1152))).toBe('0480');
    expect(decodeUint(Uint8Array.of(0, 0, 1))).toBe(1);
    expect(() => encodeUint(-1)).toThrow(expect.objectContaining({ code: 'ERR_COAP_OPTION' }));
  });

  it('reads typed values', () => {
    const msg = { options: [stringOption(11, 'a'), stringOption(11, 'b'), uintOption(12, 50)] };
    expect(getStringOptions(msg, 11)).toEqual(['a', 'b']);
    expect(getUintOption(msg, 12)).toBe(50);
    expect(getUintOption(msg, 17)).toBeUndefined();
  });

  it('converts hex', () => {
    expect(toHex(fromHex('0xCAFE'))).toBe('cafe');
    expect(() => fromHex('abc')).toThrow();
  });
});

describe('checkOptions (RFC 7252 §5.4.1)', () => {
  it('passes registered options through without copying', () => {
    const opts = [stringOption(11, 'a'), uintOption(12, 0)];
    const r = checkOptions(opts);
    expect(r).toEqual({ badCritical: undefined, options: opts });
    expect(r.options).toBe(opts);
  });

  it('reports an unknown critical option', () => {
    expect(checkOptions([stringOption(11, 'a'), { number: 2049, value: new Uint8Array(0) }]).badCritical).toBe(2049);
  });

  it('drops an unknown elective option and keeps the rest', () => {
    const r = checkOptions([stringOption(11, 'a'), { number: 2048, value: new Uint8Array(0) }]);
    expect(r.badCritical).toBeUndefined();
    expect(r.options.map((o) => o.number)).toEqual([11]);
  });

  it('treats a critical option of the wrong length as unrecognised (§5.4.3)', () => {
    expect(checkOptions([{ number: OptionNumber.Block2, value: new Uint8Array(4) }]).badCritical).toBe(23);
    expect(checkOptions([{ number: OptionNumber.UriHost, value: new Uint8Array(0) }]).badCritical).toBe(3);
  });

  it('treats a repeated non-repeatable critical option as unrecognised (§5.4.5)', () => {
    expect(checkOptions([emptyOption(5), emptyOption(5)]).badCritical).toBe(5);
    expect(checkOptions([uintOption(17, 0), uintOption(17, 50)]).badCritical).toBe(17);
  });

  it('drops a repeated non-repeatable elective option', () => {
    const r = checkOptions([uintOption(12, 0), uintOption(12, 50)]);
    expect(r.options).toHaveLength(1);
  });

  it('accepts extra numbers through a predicate', () => {
    expect(checkOptions([{ number: 2049, value: new Uint8Array(0) }], (n) => n === 2049).badCritical).toBeUndefined();
  });
});

describe('content formats and No-Response', () => {
  it('maps formats to media types', () => {
    expect(mediaType(40)).toBe('application/link-format');
    expect(contentFormatOf('application/json')).toBe(50);
    expect(contentFormatOf('text/plain')).toBe(0);
    expect(mediaType(9999)).toBeUndefined();
  });

  it('suppresses responses per RFC 7967 §2.1', () => {
    expect(suppressesResponse(NoResponse.Success, 0x45)).toBe(true);
    expect(suppressesResponse(NoResponse.Success, 0x84)).toBe(false);
    expect(suppressesResponse(NoResponse.ClientError | NoResponse.ServerError, 0x84)).toBe(true);
    expect(suppressesResponse(NoResponse.ServerError, 0xa0)).toBe(true);
    expect(suppressesResponse(0, 0x45)).toBe(false);
    expect(suppressesResponse(undefined, 0x45)).toBe(false);
  });
});
