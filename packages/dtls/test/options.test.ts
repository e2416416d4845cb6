import { describe, expect, it } from 'vitest';
import { CIPHER_SUITES, resolveCipherSuites } from '../src/cipher-suites.js';
import { DtlsError } from '../src/errors.js';
import { DtlsClient, DtlsServer, EnabledProtocols } from '../src/index.js';
import { resolveClientOptions, resolveServerOptions } from '../src/options.js';
import { makePki } from './helpers/pki.js';

const psk = { keys: { id: 'k' } };

describe('cipher suite settings (seed SSLEnabledCipherSuites)', () => {
  it('"*" means all, in preference order with the RFC 7252 mandatory CCM-8 suites first', () => {
    expect(resolveCipherSuites('*')).toEqual(CIPHER_SUITES);
    expect(CIPHER_SUITES.slice(0, 2).map((s) => s.name)).toEqual(['TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8', 'TLS_PSK_WITH_AES_128_CCM_8']);
  });
  it('accepts IANA (and OpenSSL) names separated by ; or , in any case', () => {
    expect(resolveCipherSuites('tls_psk_with_aes_128_ccm_8; PSK-AES128-GCM-SHA256').map((s) => s.id)).toEqual([0xc0a8, 0x00a8]);
  });
  it('refuses RC4 (RFC 6347 §4.1.2.3), unknown names and an empty list', () => {
    for (const bad of ['TLS_RSA_WITH_RC4_128_SHA', 'TLS_RSA_WITH_AES_128_CBC_SHA', ';']) {
      expect(() => resolveCipherSuites(bad)).toThrow(DtlsError);
    }
  });
});

describe('seed TLS12SignatureAlgorithms and OpenSSLCADir', () => {
  const pki = makePki();
  it('maps hash-sig pairs to TLS 1.2 SignatureAndHashAlgorithm codes, skipping what we cannot verify', () => {
    const r = resolveServerOptions({ psk, signatureAlgorithms: 'sha512-ecdsa, sha256-ecdsa,sha1-ecdsa,sha256-dsa,sha384-rsa' });
    expect(r.signatureSchemes).toEqual([0x0603, 0x0403, 0x0501]);
    expect(resolveServerOptions({ psk }).signatureSchemes).toEqual([0x0403, 0x0503, 0x0603, 0x0401, 0x0501, 0x0601]);
    expect(resolveClientOptions({ psk: { identity: 'a', key: 'b' }, signatureAlgorithms: '' }).sendSignatureAlgorithms).toBe(false);
    expect(() => resolveServerOptions({ psk, signatureAlgorithms: 'sha256-rsa' })).toThrow(/ECDSA/);
  });
  it('loads every PEM certificate in caDir as a trust anchor', () => {
    const r = resolveClientOptions({ caDir: pki.dir });
    const subjects = new Set(r.ca.map((c) => c.subject));
    expect(subjects.has('CN=iotwire test root')).toBe(true);
    expect(() => resolveClientOptions({ caDir: '/nonexistent/dir' })).toThrow(DtlsError);
  });
});

describe('option validation', () => {
  const pki = makePki();
  it('a server needs credentials', () => {
    expect(() => new DtlsServer({})).toThrow(/needs `psk`/);
  });
  it('enabledProtocols must include TLS 1.2 (= DTLS 1.2)', () => {
    expect(() => resolveServerOptions({ psk, enabledProtocols: EnabledProtocols.TLS1_1 })).toThrow(DtlsError);
    expect(
      resolveServerOptions({ psk, enabledProtocols: EnabledProtocols.TLS1_2 | EnabledProtocols.TLS1_3 }).suites.length,
    ).toBeGreaterThan(0);
  });
  it('checks key/certificate pairing, MTU range and groups', () => {
    expect(() => resolveServerOptions({ cert: pki.pem(pki.serverCert), key: pki.pem(pki.clientKey) })).toThrow(/does not match/);
    expect(() => resolveServerOptions({ cert: pki.pem(pki.serverCert) })).toThrow(/needs `key`/);
    expect(() => resolveServerOptions({ key: pki.pem(pki.serverKey) })).toThrow(/useRawPublicKey/);
    expect(() => resolveServerOptions({ psk, mtu: 100 })).toThrow(/mtu/);
    expect(() => resolveServerOptions({ psk, groups: ['secp521r1' as 'x25519'] })).toThrow(/group/);
  });
  it('a client offers suites matching its credentials', () => {
    const pskOnly = resolveClientOptions({ psk: { identity: 'a', key: 'b' } });
    expect(pskOnly.suites.every((s) => s.keyExchange !== 'ECDHE_ECDSA')).toBe(true);
    const certOnly = resolveClientOptions({ ca: pki.pem(pki.caCert) });
    expect(certOnly.suites.every((s) => s.keyExchange === 'ECDHE_ECDSA')).toBe(true);
    const both = resolveClientOptions({ ca: pki.pem(pki.caCert), psk: { identity: 'a', key: 'b' } });
    expect(new Set(both.suites.map((s) => s.keyExchange))).toEqual(new Set(['PSK', 'ECDHE_ECDSA', 'ECDHE_PSK']));
    expect(() =>
      new DtlsClient({ psk: { identity: 'a', key: 'b' }, cipherSuites: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8' }).close(),
    ).not.toThrow();
    expect(() => resolveClientOptions({ cipherSuites: 'TLS_PSK_WITH_AES_128_CCM_8' })).toThrow(/no usable cipher suites/);
  });
});
