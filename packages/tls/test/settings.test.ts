import { constants } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cipherStrength,
  cipherSuiteName,
  cipherSuitesToOpenssl,
  clientTlsOptions,
  createSecureContext,
  generateSelfSigned,
  groupsToEcdhCurve,
  ianaCipherName,
  protocolOptions,
  SslProtocol,
  secureContextOptions,
  serverTlsOptions,
  signatureAlgorithmsToSigalgs,
  TlsError,
  trustAnchors,
} from '../src/index.js';
import { tempDir } from './fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
const pair = generateSelfSigned({ keyType: 'ec' });
const other = generateSelfSigned({ keyType: 'ec', commonName: 'other' });

describe('SSLEnabledProtocols mapping', () => {
  it.each([
    [3072, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }],
    [12288, { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }],
    [12288 | 3072, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' }],
    [192 | 768 | 3072, { minVersion: 'TLSv1', maxVersion: 'TLSv1.2' }],
    [192 | 3072, { minVersion: 'TLSv1', maxVersion: 'TLSv1.2', secureOptions: constants.SSL_OP_NO_TLSv1_1 }],
    [12 | 48 | 3072, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }],
    [['TLSv1.3', 'TLSv1.2'], { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' }],
  ] as const)('%s', (mask, want) => {
    expect(protocolOptions(mask as never)).toEqual(want);
  });

  it('rejects sets with nothing usable (273)', () => {
    expect(() => protocolOptions(12 | 48)).toThrow(TlsError);
    expect(() => protocolOptions(['SSLv3' as never])).toThrow(/unknown TLS version/);
  });
});

describe('cipher suites', () => {
  it('maps IANA names (and passes OpenSSL names through)', () => {
    expect(cipherSuitesToOpenssl('*')).toBeUndefined();
    expect(cipherSuitesToOpenssl('')).toBeUndefined();
    expect(cipherSuitesToOpenssl('TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256; TLS_AES_256_GCM_SHA384,ECDHE-RSA-AES256-GCM-SHA384')).toBe(
      'ECDHE-ECDSA-AES128-GCM-SHA256:TLS_AES_256_GCM_SHA384:ECDHE-RSA-AES256-GCM-SHA384',
    );
    expect(() => cipherSuitesToOpenssl('TLS_MADE_UP')).toThrow(/unknown cipher suite TLS_MADE_UP/);
  });

  it('names codes and strengths', () => {
    expect(cipherSuiteName(0x1301)).toBe('TLS_AES_128_GCM_SHA256');
    expect(cipherSuiteName(0xc02b)).toBe('TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
    expect(cipherSuiteName(0x0a0a)).toBe('0x0A0A');
    expect(ianaCipherName('ECDHE-RSA-AES128-GCM-SHA256')).toBe('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256');
    expect(cipherStrength('TLS_AES_256_GCM_SHA384')).toBe(256);
    expect(cipherStrength('ECDHE-ECDSA-AES128-GCM-SHA256')).toBe(128);
  });

  it('every table entry is known to this OpenSSL (the table was generated from it)', () => {
    const known = new Set(tls.getCiphers().map((c) => c.toUpperCase()));
    expect(known.has('ECDHE-ECDSA-AES128-GCM-SHA256')).toBe(true);
  });
});

describe('groups and signature algorithms', () => {
  it('maps toolkit names', () => {
    expect(groupsToEcdhCurve('ecdhe_secp256r1,ecdhe_secp384r1,x25519')).toBe('P-256:P-384:X25519');
    expect(groupsToEcdhCurve(['ffdhe2048', 'P-521'])).toBe('ffdhe2048:P-521');
    expect(signatureAlgorithmsToSigalgs('sha256-rsa,sha384-ecdsa,rsa_pss_rsae_sha256,ed25519')).toBe(
      'RSA+SHA256:ECDSA+SHA384:rsa_pss_rsae_sha256:ed25519',
    );
  });
});

describe('secure context options', () => {
  it('server: TLS 1.2 only by default, client certificates requested but never auto-rejected', () => {
    const o = serverTlsOptions({ certificate: pair, authenticateClients: true, trustedCaCerts: other.cert, handshakeTimeoutMs: 5000 });
    expect(o).toMatchObject({
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      requestCert: true,
      rejectUnauthorized: false,
      handshakeTimeout: 5000,
    });
    expect(o.ca).toEqual([other.cert.replace(/\n?$/, '\n')]);
    expect(String(o.cert)).toContain('BEGIN CERTIFICATE');
    expect(String(o.key)).toContain('BEGIN PRIVATE KEY');
  });

  it('client: TLS 1.2+1.3 by default, system roots added to own anchors', () => {
    const o = clientTlsOptions({ trustedCaCerts: other.cert, servername: 'x' });
    expect(o).toMatchObject({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', rejectUnauthorized: false, servername: 'x' });
    expect((o.ca as string[]).length).toBe(tls.rootCertificates.length + 1);
    expect(clientTlsOptions({}).ca).toBeUndefined();
    expect(clientTlsOptions({ trustedCaCerts: other.cert, includeSystemRoots: false }).ca).toHaveLength(1);
  });

  it('appends SSLCACerts to the certificate chain and lowers the security level for TLS 1.0', () => {
    const o = secureContextOptions(
      { certificate: pair, caCerts: other.cert, enabledProtocols: SslProtocol.TLS1 | SslProtocol.TLS1_2 },
      { side: 'server' },
    );
    expect((String(o.cert).match(/BEGIN CERTIFICATE/g) ?? []).length).toBe(2);
    expect(o.ciphers).toMatch(/@SECLEVEL=0$/);
    expect(o.secureOptions).toBe(constants.SSL_OP_NO_TLSv1_1);
  });

  it('reads OpenSSLCAFile and OpenSSLCADir', () => {
    const file = tmp.path('bundle.pem');
    writeFileSync(file, pair.cert + other.cert);
    const dir = tmp.path('cadir');
    mkdirSync(dir);
    writeFileSync(`${dir}/a.pem`, pair.cert);
    writeFileSync(`${dir}/1a2b3c4d.0`, other.cert);
    writeFileSync(`${dir}/README`, 'not a cert');
    expect(trustAnchors({ caFile: file }, false)).toHaveLength(2);
    expect(trustAnchors({ caDir: dir }, false)).toHaveLength(2);
    expect(trustAnchors({}, false)).toEqual([]);
    expect(() => trustAnchors({ caFile: tmp.path('missing') }, false)).toThrow(TlsError);
  });

  it('reports settings OpenSSL refuses as 273', () => {
    expect(() => createSecureContext({ supportedGroups: 'no-such-group' }, { side: 'client' })).toThrow(
      expect.objectContaining({ code: 273 }),
    );
    expect(
      createSecureContext({ cipherSuites: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', certificate: pair }, { side: 'server' }),
    ).toBeDefined();
  });
});
