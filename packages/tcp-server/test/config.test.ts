import { createTestPki } from '@iotwire/tls';
import { describe, expect, it } from 'vitest';
import { statusOf, TcpServer, TcpServerError, TcpServerErrorCode } from '../src/index.js';
import { listen } from './helpers.js';

describe('config(string)', () => {
  it('sets and reads the toolkit settings', () => {
    const s = new TcpServer();
    expect(s.config('MaxConnections')).toBe('1000');
    s.config('MaxConnections=50');
    expect(s.maxConnections).toBe(50);
    s.config('TcpNoDelay=Yes');
    expect(s.tcpNoDelay).toBe(true);
    s.config('tcpnodelay=0');
    expect(s.config('TcpNoDelay')).toBe('false');
    s.config('AllowedClients=10.0.0.1, 10.0.0.2');
    expect(s.allowedClients).toBe('10.0.0.1,10.0.0.2');
    s.config('BlockedClients=192.168.1.1');
    expect(s.config('BlockedClients')).toBe('192.168.1.1');
    s.config('KeepAliveTime=5000');
    expect([s.keepAlive, s.keepAliveTime]).toEqual([true, 5000]);
    s.config('DefaultConnectionTimeout=7');
    expect(s.defaultConnectionTimeout).toBe(7);
    s.config('UseIPv6=2');
    expect(s.useIPv6).toBe(2);
    s.config('OutBufferSize=4096');
    expect(s.outBufferSize).toBe(4096);
    s.config('CodePage=28591');
    expect(s.textEncoding).toBe('latin1');
    expect(s.config('CodePage')).toBe('28591');
    s.config('SSLEnabledProtocols=12288');
    expect(s.tls.enabledProtocols).toBe(12288);
    expect(s.config('SSLEnabledProtocols')).toBe('12288');
    s.config('SSLEnabledCipherSuites=TLS_AES_128_GCM_SHA256');
    expect(s.tls.cipherSuites).toBe('TLS_AES_128_GCM_SHA256');
    s.config('TLS12SupportedGroups=ecdhe_secp256r1,x25519');
    expect(s.config('TLS13SupportedGroups')).toBe('ecdhe_secp256r1,x25519');
    s.config('OpenSSLCipherList=HIGH');
    expect(s.config('OpenSSLCipherList')).toBe('HIGH');
    s.config('SSLKeyLogFile=/tmp/k.log');
    expect(s.tls.keyLogFile).toBe('/tmp/k.log');
    s.config('SSLClientCACerts=-----BEGIN CERTIFICATE-----x');
    expect(s.tls.trustedCaCerts).toBe('-----BEGIN CERTIFICATE-----x');
    expect(s.config('CloseStreamAfterTransfer')).toBe('True');
  });

  it('refuses unknown, read-only and not-applicable settings with 10022', () => {
    const s = new TcpServer();
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as TcpServerError).code;
      }
      return undefined;
    };
    expect(code(() => s.config('NoSuchSetting=1'))).toBe(10022);
    expect(code(() => s.config('InBufferSize=1'))).toBe(10022);
    expect(() => s.config('KeepAliveInterval=1')).toThrow(/no equivalent in Node/);
    expect(code(() => s.config('TcpNoDelay=maybe'))).toBe(10022);
    expect(code(() => s.config('CodePage=437'))).toBe(10022);
    expect(code(() => s.config('SSLNegotiatedCipher[1]=x'))).toBe(10022);
    expect(code(() => s.config('Bogus[1]'))).toBe(10022);
    expect(code(() => s.config('SSLNegotiatedCipher[1]'))).toBe(126);
  });

  it('refuses MaxConnections while listening (108) through config too', async () => {
    const s = await listen();
    expect(() => s.config('MaxConnections=5')).toThrow(expect.objectContaining({ code: 108 }));
  });

  it('reads per-connection values of a plaintext connection as empty', async () => {
    const s = await listen({ sslCert: createTestPki().server });
    const { accept } = await import('./helpers.js');
    const { id } = await accept(s);
    expect(s.config(`SSLNegotiatedVersion[${id}]`)).toBe('');
    expect(s.config(`SSLNegotiatedCipherStrength[${id}]`)).toBe('0');
  });
});

describe('status and error codes', () => {
  it.each([
    ['ECONNRESET', 10054, 'Connection reset by peer'],
    ['EADDRINUSE', 10048, 'Address already in use'],
    ['EPIPE', 10058, 'Cannot send after socket shutdown'],
    ['ETIMEDOUT', 10060, 'Connection timed out'],
    ['EMFILE', 10024, 'Too many open files'],
    ['ENOTFOUND', 11001, 'Host not found'],
  ])('%s → %d', (errno, code, description) => {
    expect(statusOf(Object.assign(new Error('x'), { code: errno }))).toEqual({ code, description });
  });

  it('maps TLS errors to 276 and keeps our own numbered codes', () => {
    expect(statusOf(Object.assign(new Error('wrong version number'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' })).code).toBe(276);
    expect(statusOf(new TcpServerError(TcpServerErrorCode.NoBufferSpace, 'full'))).toEqual({ code: 10055, description: 'full' });
    expect(statusOf(Object.assign(new Error('odd'), { errno: -5 })).code).toBe(10005);
  });

  it('TcpServerError carries the code in its message and the connection id', () => {
    const e = new TcpServerError(TcpServerErrorCode.InvalidConnectionId, 'no connection "7"', { connectionId: '7' });
    expect(e).toBeInstanceOf(Error);
    expect([e.code, e.message, e.name, e.connectionId]).toEqual([126, '[126] no connection "7"', 'TcpServerError', '7']);
  });

  it('an error event without a listener is a process warning, not a crash', async () => {
    const s = await listen();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      s.on('connectionRequest', () => {
        throw new Error('handler bug');
      });
      const { Peer } = await import('./helpers.js');
      const p = await Peer.connect(s.localPort);
      await p.closed;
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 10));
      expect(warnings.some((w) => /handler bug/.test(w.message))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
