import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import { Certificate, CertificateAuthority, CertStoreType, createPfx, generateSelfSigned, readPkcs12, TlsError } from '../src/index.js';
import { openssl, tempDir } from './fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('certificates we generate, checked by the openssl CLI', () => {
  it.each(['rsa', 'ec', 'ed25519'] as const)('%s self-signed certificate verifies against itself and parses', (keyType) => {
    const { cert, key } = generateSelfSigned({
      keyType,
      keySize: 1024,
      subject: 'CN=dev-1, O="Acme, Inc", C=DE',
      altNames: ['dev.local', '10.0.0.1', '::1'],
    });
    const f = tmp.path(`self-${keyType}.pem`);
    writeFileSync(f, cert);
    expect(openssl(['verify', '-CAfile', f, f])).toMatch(/: OK/);
    const text = openssl(['x509', '-in', f, '-noout', '-text']);
    expect(text).toMatch(/Subject: C = DE, O = "Acme, Inc", CN = dev-1/);
    expect(text).toMatch(/DNS:dev\.local, IP Address:10\.0\.0\.1, IP Address:0:0:0:0:0:0:0:1/);
    expect(text).toMatch(/Version: 3/);
    const k = tmp.path(`self-${keyType}.key`);
    writeFileSync(k, key);
    // openssl agrees that the key belongs to the certificate.
    const pubFromCert = openssl(['x509', '-in', f, '-noout', '-pubkey']);
    const pubFromKey = openssl(['pkey', '-in', k, '-pubout']);
    expect(pubFromKey).toBe(pubFromCert);
  });

  it('a CA → intermediate → leaf chain verifies, purposes included', () => {
    const ca = CertificateAuthority.create({ keyType: 'ec' });
    const inter = ca.intermediate({ keyType: 'ec', pathLength: 0 });
    const server = inter.issue({ keyType: 'rsa', keySize: 1024, usage: 'server' });
    const client = inter.issue({ keyType: 'ec', usage: 'client', commonName: 'device-9' });
    writeFileSync(tmp.path('ca.pem'), ca.cert);
    writeFileSync(tmp.path('inter.pem'), inter.cert);
    writeFileSync(tmp.path('server.pem'), server.cert);
    writeFileSync(tmp.path('client.pem'), client.cert);
    const base = ['verify', '-CAfile', tmp.path('ca.pem'), '-untrusted', tmp.path('inter.pem')];
    expect(openssl([...base, '-purpose', 'sslserver', tmp.path('server.pem')])).toMatch(/OK/);
    expect(openssl([...base, '-purpose', 'sslclient', tmp.path('client.pem')])).toMatch(/OK/);
    // A server certificate is not a client certificate.
    expect(() => openssl([...base, '-purpose', 'sslclient', tmp.path('server.pem')])).toThrow(/unsuitable certificate purpose/);
    expect(inter.chain).toEqual([inter.cert]);
  });
});

describe('PKCS#12 interop', () => {
  it('openssl reads the PFX files we write (RSA and EC), MAC and key decryption included', () => {
    for (const keyType of ['rsa', 'ec'] as const) {
      const ca = CertificateAuthority.create({ keyType: 'ec' });
      const pair = ca.issue({ keyType, keySize: 1024, commonName: `pfx-${keyType}` });
      const pfx = createPfx({ cert: pair.cert, key: pair.key, chain: [ca.cert], password: 'pa55', friendlyName: 'mine' });
      const f = tmp.path(`ours-${keyType}.pfx`);
      writeFileSync(f, pfx);
      const out = openssl(['pkcs12', '-in', f, '-passin', 'pass:pa55', '-nodes', '-info']);
      expect(out).toMatch(/MAC: sha256, Iteration 2048/);
      expect(out).toMatch(/friendlyName: mine/);
      expect(out).toMatch(new RegExp(`subject=CN = pfx-${keyType}`));
      expect(out).toMatch(/subject=CN = iotwire test CA/);
      const keyPem = out.match(/-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/)![0];
      expect(createPrivateKey(keyPem).export({ type: 'pkcs8', format: 'pem' })).toBe(
        createPrivateKey(pair.key).export({ type: 'pkcs8', format: 'pem' }),
      );
      expect(() => openssl(['pkcs12', '-in', f, '-passin', 'pass:wrong', '-nodes'])).toThrow(/mac verify (failure|error)/i);
      // Node's own PFX loader accepts it too.
      expect(() => tls.createSecureContext({ pfx, passphrase: 'pa55' })).not.toThrow();
    }
  });

  it.each([
    ['rsa', []],
    ['ec', []],
    ['rsa', ['-legacy']],
  ] as const)('we read %s PFX files written by openssl %s', (keyType, extra) => {
    const { cert, key } = generateSelfSigned({ keyType, keySize: 1024, commonName: `theirs-${keyType}` });
    writeFileSync(tmp.path('t.crt'), cert);
    writeFileSync(tmp.path('t.key'), key);
    const f = tmp.path(`theirs-${keyType}${extra.join('')}.pfx`);
    openssl(['pkcs12', '-export', ...extra, '-inkey', tmp.path('t.key'), '-in', tmp.path('t.crt'), '-out', f, '-passout', 'pass:s3cret']);
    const c = Certificate.fromStore({ storeType: CertStoreType.PfxFile, store: f, storePassword: 's3cret' });
    expect(c.subject).toBe(`CN=theirs-${keyType}`);
    expect(c.fingerprintSha256).toBe(new Certificate(new X509Certificate(cert)).fingerprintSha256);
    expect(c.privateKeyAvailable).toBe(true);
    expect(c.x509.checkPrivateKey(createPrivateKey(key))).toBe(true);
    const contents = readPkcs12(readFileSync(f), 's3cret');
    expect(contents.certificates).toHaveLength(1);
    expect(contents.keys).toHaveLength(1);
    expect(contents.keys[0]!.localKeyId).toBe(contents.certificates[0]!.localKeyId);
    expect(() => Certificate.fromStore({ storeType: 'pfxFile', store: f, storePassword: 'nope' })).toThrow(TlsError);
  });

  it('our fingerprints and fields match what openssl prints', () => {
    const pair = generateSelfSigned({ keyType: 'ec', commonName: 'fp' });
    writeFileSync(tmp.path('fp.pem'), pair.cert);
    const c = Certificate.fromPem(pair.cert);
    const md5 = openssl(['x509', '-in', tmp.path('fp.pem'), '-noout', '-fingerprint', '-md5'])
      .split('=')[1]!
      .trim()
      .toLowerCase();
    const sha1 = openssl(['x509', '-in', tmp.path('fp.pem'), '-noout', '-fingerprint', '-sha1'])
      .split('=')[1]!
      .trim()
      .toLowerCase();
    const sha256 = openssl(['x509', '-in', tmp.path('fp.pem'), '-noout', '-fingerprint', '-sha256'])
      .split('=')[1]!
      .trim()
      .toLowerCase();
    expect(c.fingerprint).toBe(md5);
    expect(c.fingerprintSha1).toBe(sha1);
    expect(c.fingerprintSha256).toBe(sha256);
    expect(c.thumbprintSha1).toBe(sha1.replace(/:/g, ''));
    const serial = openssl(['x509', '-in', tmp.path('fp.pem'), '-noout', '-serial'])
      .split('=')[1]!
      .trim();
    expect(c.serialNumber.toUpperCase()).toBe(serial.toUpperCase());
    const text = openssl(['x509', '-in', tmp.path('fp.pem'), '-noout', '-text']);
    expect(text).toMatch(new RegExp(`Signature Algorithm: ${c.signatureAlgorithm}`));
    expect(c.usage).toBe('Digital Signature, Certificate Signing');
    expect(text).toMatch(/Digital Signature, Certificate Sign/);
  });
});
