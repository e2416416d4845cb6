import { describe, expect, it } from 'vitest';
import { CoapMessageError, type CoapOption, optionsToUri, parseUri, stringOption, toHex, uriToOptions } from '../src/index.js';

const opt = (number: number, s: string): CoapOption => stringOption(number, s);

describe('parseUri (RFC 7252 §6)', () => {
  it('applies the default ports 5683 and 5684', () => {
    expect(parseUri('coap://myserver/test')).toEqual({
      scheme: 'coap',
      host: 'myserver',
      port: 5683,
      hostIsIp: false,
      path: ['test'],
      query: [],
    });
    expect(parseUri('coaps://myserver/test').port).toBe(5684);
    expect(parseUri('coap+tcp://h/').port).toBe(5683);
    expect(parseUri('coaps+tcp://h/').port).toBe(5684);
  });

  it('treats coap://myserver/test and coap://myserver:5683/test as the same resource', () => {
    expect(parseUri('coap://myserver/test')).toEqual(parseUri('coap://myserver:5683/test'));
  });

  it('parses bracketed IPv6 literals, percent-encoding and queries', () => {
    expect(parseUri('coap://[2001:DB8::2:1]:61616/a%20b/%E3%81%93?x=1&y&&z%26')).toEqual({
      scheme: 'coap',
      host: '2001:db8::2:1',
      port: 61616,
      hostIsIp: true,
      path: ['a b', 'こ'],
      query: ['x=1', 'y', '', 'z&'],
    });
  });

  it('lower-cases the scheme and registered names', () => {
    expect(parseUri('CoAP://Example.NET').host).toBe('example.net');
  });

  it('keeps empty segments (§6.4 step 8)', () => {
    expect(parseUri('coap://h/a//b/').path).toEqual(['a', '', 'b', '']);
    expect(parseUri('coap://h').path).toEqual([]);
    expect(parseUri('coap://h/').path).toEqual([]);
  });

  it.each([
    ['http://h/', 'another scheme'],
    ['/relative', 'a relative reference'],
    ['coap://h/#frag', 'a fragment'],
    ['coap://user@h/', 'userinfo'],
    ['coap:///path', 'an empty host'],
    ['coap://h:70000/', 'a port above 65535'],
    ['coap://h:12a/', 'a non-numeric port'],
    ['coap://[::1/', 'an unterminated IPv6 literal'],
    ['coap://h/%zz', 'malformed percent-encoding'],
    ['coap://h/%ff', 'percent-encoded invalid UTF-8'],
  ])('rejects %s (%s) with 700', (uri) => {
    let err: unknown;
    try {
      parseUri(uri);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CoapMessageError);
    expect((err as CoapMessageError).code).toBe('ERR_COAP_URI');
    expect((err as CoapMessageError).errorNumber).toBe(700);
  });
});

describe('uriToOptions (RFC 7252 §6.4)', () => {
  it('omits Uri-Host for IP literals and sends it lower-cased for names', () => {
    expect(uriToOptions(parseUri('coap://127.0.0.1/a')).map((o) => o.number)).toEqual([11]);
    expect(uriToOptions(parseUri('coap://[::1]/a')).map((o) => o.number)).toEqual([11]);
    const o = uriToOptions(parseUri('coap://Example.net/.well-known/core?rt=x'));
    expect(o.map((x) => [x.number, Buffer.from(x.value).toString()])).toEqual([
      [3, 'example.net'],
      [11, '.well-known'],
      [11, 'core'],
      [15, 'rt=x'],
    ]);
  });

  it('adds Uri-Port only when it differs from the destination port', () => {
    expect(uriToOptions(parseUri('coap://127.0.0.1:5683/'), 5683)).toEqual([]);
    const o = uriToOptions(parseUri('coap://127.0.0.1:61616/'), 5683);
    expect(o.map((x) => [x.number, toHex(x.value)])).toEqual([[7, 'f0b0']]);
  });
});

describe('optionsToUri: RFC 7252 Appendix B examples', () => {
  it('Example 1: no options', () => {
    expect(optionsToUri([], { scheme: 'coap', host: '2001:db8::2:1', port: 5683 })).toBe('coap://[2001:db8::2:1]/');
  });
  it('Example 2: Uri-Host', () => {
    expect(optionsToUri([opt(3, 'example.net')], { scheme: 'coap', host: '2001:db8::2:1', port: 5683 })).toBe('coap://example.net/');
  });
  it('Example 3: Uri-Host and two Uri-Path', () => {
    expect(
      optionsToUri([opt(3, 'example.net'), opt(11, '.well-known'), opt(11, 'core')], { scheme: 'coap', host: '2001:db8::2:1', port: 5683 }),
    ).toBe('coap://example.net/.well-known/core');
  });
  it('Example 4: a non-ASCII segment is percent-encoded', () => {
    expect(optionsToUri([opt(3, 'xn--18j4d.example'), opt(11, 'こんにちは')], { scheme: 'coap', host: '2001:db8::2:1', port: 5683 })).toBe(
      'coap://xn--18j4d.example/%E3%81%93%E3%82%93%E3%81%AB%E3%81%A1%E3%81%AF',
    );
  });
  it('Example 5: empty segments, slashes and reserved characters', () => {
    const options = [opt(11, ''), opt(11, '/'), opt(11, ''), opt(11, ''), opt(15, '//'), opt(15, '?&')];
    expect(optionsToUri(options, { scheme: 'coap', host: '198.51.100.1', port: 61616 })).toBe(
      'coap://198.51.100.1:61616//%2F//?%2F%2F&?%26',
    );
  });
  it('uses Uri-Port when present', () => {
    expect(optionsToUri([{ number: 7, value: Uint8Array.of(0x16, 0x34) }], { scheme: 'coap', host: '10.0.0.1', port: 5683 })).toBe(
      'coap://10.0.0.1:5684/',
    );
  });
});
