import { describe, expect, it } from 'vitest';
import { bypassesProxy, parseExceptions, proxyFromEnv, proxyFromUrl, resolveProxy, selectProxy } from '../src/proxy-config.js';

describe('resolveProxy', () => {
  it.each([
    [{ type: 'http', host: 'p' }, 80, true],
    [{ type: 'socks4', host: 'p' }, 1080, false],
    [{ type: 'socks4a', host: 'p' }, 1080, true],
    [{ type: 'socks5', host: 'p' }, 1080, true],
    [{ type: 'socks5', host: 'p', resolveRemotely: false, port: 9050 }, 9050, false],
  ] as const)('%o → port %d, remote resolution %s', (p, port, remote) => {
    expect(resolveProxy(p)).toMatchObject({ port, resolveRemotely: remote });
  });

  it.each([
    [{ type: 'ftp', host: 'p' }, /proxy.type/],
    [{ type: 'http', host: '' }, /proxy.host/],
    [{ type: 'http', host: 'p', port: 0 }, /port/],
    [{ type: 'http', host: 'p', port: 70_000 }, /port/],
  ])('rejects %o', (p, msg) => {
    expect(() => resolveProxy(p as never)).toThrow(msg);
    try {
      resolveProxy(p as never);
    } catch (e) {
      expect((e as { code: string }).code).toBe('ERR_INVALID_ARGUMENT');
    }
  });
});

describe('proxyFromUrl', () => {
  it.each([
    ['http://proxy:3128', { type: 'http', host: 'proxy', port: 3128 }],
    ['proxy.corp:8080', { type: 'http', host: 'proxy.corp', port: 8080 }],
    ['http://u%40x:p%3Aw@proxy', { type: 'http', host: 'proxy', port: 80, user: 'u@x', password: 'p:w' }],
    ['socks4://p', { type: 'socks4', port: 1080, resolveRemotely: false }],
    ['socks4a://p:1081', { type: 'socks4a', port: 1081, resolveRemotely: true }],
    ['socks5://a:b@p', { type: 'socks5', user: 'a', password: 'b', resolveRemotely: false }],
    ['socks5h://p', { type: 'socks5', resolveRemotely: true }],
    ['socks://p', { type: 'socks5', resolveRemotely: true }],
    ['SOCKS5H://P:1', { type: 'socks5', host: 'P', port: 1, resolveRemotely: true }],
    ['http://[::1]:3128', { type: 'http', host: '::1', port: 3128 }],
  ])('%s', (url, expected) => {
    expect(proxyFromUrl(url)).toMatchObject(expected);
  });

  it.each(['https://proxy', 'ftp://proxy', 'http://', '::::'])('rejects %s', (url) => {
    expect(() => proxyFromUrl(url)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

describe('exceptions (NO_PROXY / ProxyExceptionsList)', () => {
  const cases: [string | string[], string, number, boolean][] = [
    ['*', 'anything', 1883, true],
    ['example.com', 'example.com', 1883, true],
    ['example.com', 'broker.example.com', 1883, true],
    ['example.com', 'notexample.com', 1883, false],
    ['.example.com', 'example.com', 1883, true],
    ['.example.com', 'a.b.example.com', 1883, true],
    ['*.example.com', 'a.example.com', 1883, true],
    ['example.com:8883', 'example.com', 8883, true],
    ['example.com:8883', 'example.com', 1883, false],
    ['127.0.0.1', '127.0.0.1', 1, true],
    ['127.0.0.1', '127.0.0.10', 1, false],
    ['[::1]:1883', '::1', 1883, true],
    ['::1', '::1', 1883, true],
    ['EXAMPLE.com', 'Example.COM.', 1, true],
    ['a.com; b.com;c.com', 'c.com', 1, true],
    ['a.com, b.com  c.com', 'b.com', 1, true],
    [['a.com', 'b.com;c.com'], 'c.com', 1, true],
    ['', 'a.com', 1, false],
    [' ; , ', 'a.com', 1, false],
  ];
  it.each(cases)('%j vs %s:%d → %s', (list, host, port, expected) => {
    expect(bypassesProxy(parseExceptions(list), host, port)).toBe(expected);
  });
});

describe('proxyFromEnv (FirewallAutoDetect)', () => {
  it('picks http_proxy for mqtt/ws and https_proxy for mqtts/wss, then all_proxy', () => {
    const env = { http_proxy: 'http://h:1', HTTPS_PROXY: 'http://s:2', ALL_PROXY: 'socks5h://a:3' };
    expect(proxyFromEnv(env, 'mqtt', 'b', 1883)).toMatchObject({ host: 'h', port: 1 });
    expect(proxyFromEnv(env, 'ws', 'b', 80)).toMatchObject({ host: 'h' });
    expect(proxyFromEnv(env, 'mqtts', 'b', 8883)).toMatchObject({ host: 's', port: 2 });
    expect(proxyFromEnv(env, 'wss', 'b', 443)).toMatchObject({ host: 's' });
    expect(proxyFromEnv({ all_proxy: 'socks5h://a:3' }, 'mqtts', 'b', 8883)).toMatchObject({ type: 'socks5', host: 'a', port: 3 });
  });

  it('prefers the lower-case variable and ignores blank ones', () => {
    expect(proxyFromEnv({ http_proxy: 'http://lower:1', HTTP_PROXY: 'http://upper:2' }, 'mqtt', 'b', 1)).toMatchObject({ host: 'lower' });
    expect(proxyFromEnv({ http_proxy: '  ', ALL_PROXY: 'socks4://x' }, 'mqtt', 'b', 1)).toMatchObject({ type: 'socks4' });
    expect(proxyFromEnv({}, 'mqtt', 'b', 1)).toBeUndefined();
  });

  it('honours no_proxy / NO_PROXY', () => {
    const env = { http_proxy: 'http://h:1', NO_PROXY: 'localhost,.internal,broker:1883' };
    expect(proxyFromEnv(env, 'mqtt', 'localhost', 1883)).toBeUndefined();
    expect(proxyFromEnv(env, 'mqtt', 'x.internal', 1883)).toBeUndefined();
    expect(proxyFromEnv(env, 'mqtt', 'broker', 1883)).toBeUndefined();
    expect(proxyFromEnv(env, 'mqtt', 'broker', 8883)).toBeDefined();
    expect(proxyFromEnv({ ...env, no_proxy: '*' }, 'mqtt', 'anything', 1)).toBeUndefined();
  });

  it('reports a bad variable as a typed error', () => {
    expect(() => proxyFromEnv({ http_proxy: 'gopher://x' }, 'mqtt', 'b', 1)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

describe('selectProxy', () => {
  const t = { protocol: 'mqtt' as const, host: 'broker.example', port: 1883 };
  it('explicit object, URL, auto, none and exceptions', () => {
    expect(selectProxy(undefined, undefined, t, {})).toBeUndefined();
    expect(selectProxy({ type: 'http', host: 'p' }, undefined, t, {})).toMatchObject({ type: 'http', port: 80 });
    expect(selectProxy('socks4a://p', undefined, t, {})).toMatchObject({ type: 'socks4a' });
    expect(selectProxy('auto', undefined, t, { http_proxy: 'p:3' })).toMatchObject({ host: 'p', port: 3 });
    expect(selectProxy('auto', undefined, t, {})).toBeUndefined();
    expect(selectProxy({ type: 'http', host: 'p' }, 'other;broker.example', t, {})).toBeUndefined();
    expect(selectProxy('auto', ['.example'], t, { http_proxy: 'p:3' })).toBeUndefined();
  });
});
