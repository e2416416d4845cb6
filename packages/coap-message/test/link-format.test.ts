import { describe, expect, it } from 'vitest';
import { CoapMessageError, filterLinks, formatLinks, parseLinks } from '../src/index.js';

// RFC 6690 §5 examples and the document libcoap's coap-server returns for /.well-known/core.
const LIBCOAP =
  '</>;title="General Info";ct=0,</time>;if="clock";rt="ticks";title="Internal Clock";ct=0;obs,</async>;ct=0,</example_data>;title="Example Data";ct=0;obs';

describe('link-format (RFC 6690)', () => {
  it('parses the RFC 6690 §5 example', () => {
    expect(parseLinks('</sensors/temp>;if="sensor",</sensors/light>;if="sensor"')).toEqual([
      { href: '/sensors/temp', attributes: { if: 'sensor' } },
      { href: '/sensors/light', attributes: { if: 'sensor' } },
    ]);
  });

  it('parses and re-serialises libcoap’s discovery document byte for byte', () => {
    const links = parseLinks(LIBCOAP);
    expect(links).toHaveLength(4);
    expect(links[1]).toEqual({ href: '/time', attributes: { if: 'clock', rt: 'ticks', title: 'Internal Clock', ct: 0, obs: true } });
    expect(formatLinks(links)).toBe(LIBCOAP);
  });

  it('handles commas and escaped quotes inside quoted values, and repeated attributes', () => {
    const text = '</a>;title="x, \\"y\\"";rt=a;rt=b';
    const links = parseLinks(text);
    expect(links).toEqual([{ href: '/a', attributes: { title: 'x, "y"', rt: ['a', 'b'] } }]);
    expect(parseLinks(formatLinks(links))).toEqual(links);
  });

  it('filters by attribute, href and prefix (RFC 6690 §4.1)', () => {
    const links = parseLinks(LIBCOAP);
    expect(filterLinks(links, 'rt=ticks').map((l) => l.href)).toEqual(['/time']);
    expect(filterLinks(links, 'href=/ex*').map((l) => l.href)).toEqual(['/example_data']);
    expect(filterLinks(links, 'title=Ex*').map((l) => l.href)).toEqual(['/example_data']);
    expect(filterLinks(links, 'ct=0')).toHaveLength(4);
    expect(filterLinks(links, 'obs')).toHaveLength(2);
    expect(filterLinks(links, undefined)).toHaveLength(4);
    expect(filterLinks(links, 'rt=nope')).toHaveLength(0);
  });

  it('returns no links for empty text', () => {
    expect(parseLinks('')).toEqual([]);
  });

  it.each(['/a', '</a', '</a>;', '</a>;t="x', '</a>x', '</a>;=1'])('rejects %j', (t) => {
    expect(() => parseLinks(t)).toThrow(CoapMessageError);
  });
});
