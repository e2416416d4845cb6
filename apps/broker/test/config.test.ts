import { describe, expect, it } from 'vitest';
import { DEFAULT_LISTENERS, listenerOptions, parseConfig } from '../src/index.js';

describe('broker config', () => {
  it('defaults to MQTT on 1883 and WebSocket on 8080 at /mqtt; -p replaces the TCP port', () => {
    expect(DEFAULT_LISTENERS).toEqual([
      { protocol: 'tcp', port: 1883 },
      { protocol: 'ws', port: 8080, path: '/mqtt' },
    ]);
    const l = listenerOptions({}, 1999);
    expect(l.map((x) => [x.protocol, x.port])).toEqual([
      ['tcp', 1999],
      ['ws', 8080],
    ]);
  });
  it('adds a TCP listener for -p when the file has none', () => {
    expect(listenerOptions({ listeners: [{ protocol: 'ws', port: 9001 }] }, 1884).map((x) => x.protocol)).toEqual(['tcp', 'ws']);
  });
  it.each([
    [[], /top level must be an object/],
    [{ nope: 1 }, /unknown key "nope"/],
    [{ listeners: [] }, /non-empty array/],
    [{ listeners: [{ protocol: 'tls', port: 8883 }] }, /needs certFile and keyFile, or pfxFile/],
    [{ listeners: [{ protocol: 'tcp', port: 70000 }] }, /port must be 0..65535/],
  ])('rejects %j', (doc, re) => {
    expect(() => parseConfig(doc)).toThrow(re);
  });
});
