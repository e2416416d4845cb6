import { createPrivateKey, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Certificate,
  CertificateAuthority,
  CertStoreType,
  createPfx,
  formatCertDate,
  formatDn,
  generateSelfSigned,
  parseDn,
  parsePemCertificates,
  TlsError,
  TlsErrorCode,
} from '../src/index.js';
import { tempDir } from './fixtures.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const ca = CertificateAuthority.create({ keyType: 'ec' });
const alpha = ca.issue({ keyType: 'ec', subject: 'CN=alpha.example, O=Acme' });
const beta = ca.issue({ keyType: 'ec', subject: 'CN=beta.example, O=Acme' });
const alphaBeta = ca.issue({ keyType: 'ec', subject: 'CN=alpha.example.backup, O=Acme' });

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof TlsError ? e.code : -1;
  }
  return undefined;
}

describe('Certificate from PEM', () => {
  it('takes certificate and key from one text, and builds the chain from the bundle', () => {
    const c = Certificate.fromPem(alpha.cert + alpha.key + ca.cert);
    expect(c.subject).toBe('CN=alpha.example, O=Acme');
    expect(c.issuer).toBe('CN=iotwire test CA');
    expect(c.privateKeyAvailable).toBe(true);
    expect(c.chain.map((x) => x.subject)).toEqual(['CN=iotwire test CA']);
    expect(c.toSecureContextOptions().cert).toBe(new X509Certificate(alpha.cert).toString() + new X509Certificate(ca.cert).toString());
  });

  it('takes the key separately, also encrypted with a passphrase', () => {
    const encrypted = createPrivateKey(alpha.key).export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'pw',
    }) as string;
    const c = Certificate.fromPem(alpha.cert, { key: encrypted, passphrase: 'pw' });
    expect(c.privateKeyPem).toBe(createPrivateKey(alpha.key).export({ type: 'pkcs8', format: 'pem' }));
    expect(codeOf(() => Certificate.fromPem(alpha.cert, { key: encrypted, passphrase: 'bad' }))).toBe(TlsErrorCode.CannotOpenStore);
  });

  it('rejects a key that does not belong to the certificate (272)', () => {
    expect(codeOf(() => new Certificate(new X509Certificate(alpha.cert), { privateKey: createPrivateKey(beta.key) }))).toBe(
      TlsErrorCode.CertificateNotFound,
    );
  });

  it('applies the subject selection: * = first with a key, exact before substring, thumbprints, no match = 272', () => {
    const bundle = ca.cert + alphaBeta.cert + alpha.cert + beta.cert + beta.key + alpha.key;
    expect(Certificate.fromPem(bundle).subject).toBe('CN=alpha.example, O=Acme'); // first with a key
    expect(Certificate.fromPem(bundle, { subject: 'CN=alpha.example, O=Acme' }).subject).toBe('CN=alpha.example, O=Acme');
    // exact match wins over the earlier substring match
    expect(Certificate.fromPem(ca.cert + alphaBeta.cert + alpha.cert, { subject: 'cn=alpha.example,o=acme' }).subject).toBe(
      'CN=alpha.example, O=Acme',
    );
    expect(Certificate.fromPem(bundle, { subject: 'beta' }).subject).toBe('CN=beta.example, O=Acme');
    expect(Certificate.fromPem(bundle, { subject: 'CN=beta.example' }).subject).toBe('CN=beta.example, O=Acme');
    const b = new Certificate(new X509Certificate(beta.cert));
    expect(Certificate.fromPem(bundle, { subject: `Thumbprint=${b.fingerprintSha256}` }).subject).toBe(b.subject);
    expect(Certificate.fromPem(bundle, { subject: `Thumbprint=${b.thumbprintSha1.toUpperCase()}` }).subject).toBe(b.subject);
    expect(Certificate.fromPem(bundle, { subject: `thumbprint=${b.thumbprintMd5}` }).subject).toBe(b.subject);
    expect(codeOf(() => Certificate.fromPem(bundle, { subject: 'CN=gamma' }))).toBe(TlsErrorCode.CertificateNotFound);
    expect(codeOf(() => Certificate.fromPem('no pem here'))).toBe(TlsErrorCode.CertificateNotFound);
  });
});

describe('Certificate from stores', () => {
  const pfx = createPfx({ cert: alpha.cert, key: alpha.key, chain: [ca.cert], password: 'pw' });
  const pfxFile = tmp.path('a.pfx');
  writeFileSync(pfxFile, pfx);
  const pemFile = tmp.path('a.pem');
  writeFileSync(pemFile, alpha.key + alpha.cert);
  const pubFile = tmp.path('a.crt');
  writeFileSync(pubFile, alpha.cert);

  it.each([
    ['PFX file', { storeType: CertStoreType.PfxFile, store: pfxFile, storePassword: 'pw' }, true],
    ['PFX blob', { storeType: CertStoreType.PfxBlob, store: pfx, storePassword: 'pw' }, true],
    ['PFX blob as base64', { storeType: 'pfxBlob', store: pfx.toString('base64'), storePassword: 'pw' }, true],
    ['PEM key file', { storeType: CertStoreType.PemKeyFile, store: pemFile }, true],
    ['PEM key blob', { storeType: 'pemKeyBlob', store: alpha.key + alpha.cert }, true],
    ['public key file', { storeType: CertStoreType.PublicKeyFile, store: pubFile }, false],
    ['public key blob (DER)', { storeType: CertStoreType.PublicKeyBlob, store: new X509Certificate(alpha.cert).raw }, false],
    ['auto: PFX file', { storeType: CertStoreType.Auto, store: pfxFile, storePassword: 'pw' }, true],
    ['auto: PEM text', { storeType: 'auto', store: alpha.cert + alpha.key }, true],
    ['auto: DER bytes', { storeType: 'auto', store: new X509Certificate(alpha.cert).raw }, false],
  ] as const)('%s', async (_name, spec, hasKey) => {
    const sync = Certificate.fromStore(spec);
    const async_ = await Certificate.load(spec);
    for (const c of [sync, async_]) {
      expect(c.subject).toBe('CN=alpha.example, O=Acme');
      expect(c.privateKeyAvailable).toBe(hasKey);
    }
  });

  it('reports store problems with toolkit codes', async () => {
    expect(codeOf(() => Certificate.fromStore({ storeType: 0 as never, store: 'MY' }))).toBe(TlsErrorCode.CannotOpenStore);
    expect(codeOf(() => Certificate.fromStore({ storeType: CertStoreType.PfxFile, store: tmp.path('missing.pfx') }))).toBe(
      TlsErrorCode.CannotOpenStore,
    );
    await expect(Certificate.load({ storeType: CertStoreType.PfxFile, store: tmp.path('missing.pfx') })).rejects.toMatchObject({
      code: 271,
    });
    expect(codeOf(() => Certificate.fromStore({ storeType: CertStoreType.PfxBlob, store: pfx, storePassword: 'wrong' }))).toBe(
      TlsErrorCode.CannotOpenStore,
    );
    expect(codeOf(() => Certificate.fromStore({ storeType: CertStoreType.PfxBlob, store: Buffer.from('garbage') }))).toBe(
      TlsErrorCode.CannotOpenStore,
    );
    expect(codeOf(() => Certificate.fromStore({ storeType: CertStoreType.PemKeyBlob, store: alpha.cert }))).toBe(
      TlsErrorCode.CertificateNotFound,
    );
    expect(
      codeOf(() => Certificate.fromStore({ storeType: CertStoreType.PfxBlob, store: pfx, storePassword: 'pw', subject: 'CN=nobody' })),
    ).toBe(TlsErrorCode.CertificateNotFound);
    expect(codeOf(() => Certificate.fromStore({ storeType: CertStoreType.PublicKeyFile, store: pubFile }).toSecureContextOptions())).toBe(
      TlsErrorCode.CertificateNotFound,
    );
  });

  it('selects by subject inside a multi-certificate PFX', () => {
    // A PFX whose key belongs to beta but which also carries alpha and the CA.
    const multi = createPfx({ cert: beta.cert, key: beta.key, chain: [alpha.cert, ca.cert], password: '' });
    expect(Certificate.fromPfx(multi).subject).toBe('CN=beta.example, O=Acme');
    const a = Certificate.fromPfx(multi, '', 'CN=alpha.example, O=Acme');
    expect(a.subject).toBe('CN=alpha.example, O=Acme');
    expect(a.privateKeyAvailable).toBe(false);
    expect(Certificate.fromPfx(multi, '', 'CN=iotwire test CA').isCa).toBe(true);
  });

  it('Certificate.from accepts a Certificate, a store or a PEM pair', () => {
    const c = Certificate.fromPem(alpha.cert, { key: alpha.key });
    expect(Certificate.from(c)).toBe(c);
    expect(Certificate.from({ cert: alpha.cert, key: alpha.key }).thumbprintSha256).toBe(c.thumbprintSha256);
    expect(Certificate.from({ storeType: 'pemKeyBlob', store: alpha.key + alpha.cert }).thumbprintSha256).toBe(c.thumbprintSha256);
  });
});

describe('Certificate fields', () => {
  it('reports the toolkit fields for an RSA certificate', () => {
    const notBefore = new Date(2030, 0, 23, 15, 0, 0);
    const notAfter = new Date(2031, 5, 2, 8, 9, 10);
    const pair = generateSelfSigned({
      keyType: 'rsa',
      keySize: 1024,
      subject: 'CN=r, O="Acme, Inc"',
      notBefore,
      notAfter,
      altNames: ['r.example', '127.0.0.1'],
    });
    const c = Certificate.fromPem(pair.cert, { key: pair.key });
    expect(c.version).toBe('V3');
    expect(c.subject).toBe('CN=r, O="Acme, Inc"');
    expect(c.issuer).toBe(c.subject);
    expect(c.effectiveDate).toBe('23-Jan-2030 15:00:00');
    expect(c.expirationDate).toBe('02-Jun-2031 08:09:10');
    expect(c.signatureAlgorithm).toBe('sha256WithRSAEncryption');
    expect(c.publicKeyAlgorithm).toBe('rsaEncryption');
    expect(c.publicKeyLength).toBe(1024);
    expect(c.usageFlags).toBe(0x80 | 0x20 | 0x04);
    expect(c.usage).toBe('Digital Signature, Key Encipherment, Certificate Signing');
    expect(c.extendedKeyUsage).toBe('1.3.6.1.5.5.7.3.1,1.3.6.1.5.5.7.3.2');
    expect(c.subjectAltNames).toBe('DNS:r.example, IP Address:127.0.0.1');
    expect(c.fingerprint).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    expect(c.fingerprintSha256).toMatch(/^([0-9a-f]{2}:){31}[0-9a-f]{2}$/);
    expect(c.publicKey).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    expect(c.encodedB.equals(new X509Certificate(pair.cert).raw)).toBe(true);
    expect(c.encoded).toBe(new X509Certificate(pair.cert).toString());
    expect(c.publicKeyObject().asymmetricKeyType).toBe('rsa');
  });

  it('reports EC and Ed25519 key facts', () => {
    const p384 = Certificate.fromPem(generateSelfSigned({ keyType: 'ec', curve: 'P-384' }).cert);
    expect([p384.publicKeyAlgorithm, p384.publicKeyLength, p384.signatureAlgorithm]).toEqual(['ecPublicKey', 384, 'ecdsa-with-SHA384']);
    const p256 = Certificate.fromPem(generateSelfSigned({ keyType: 'ec' }).cert);
    expect([p256.publicKeyLength, p256.signatureAlgorithm, p256.usage]).toEqual([
      256,
      'ecdsa-with-SHA256',
      'Digital Signature, Certificate Signing',
    ]);
    const ed = Certificate.fromPem(generateSelfSigned({ keyType: 'ed25519' }).cert);
    expect([ed.publicKeyAlgorithm, ed.publicKeyLength, ed.signatureAlgorithm]).toEqual(['ED25519', 256, 'ED25519']);
  });

  it('formats dates like the toolkit, in local time', () => {
    expect(formatCertDate(new Date(2000, 0, 23, 15, 0, 0))).toBe('23-Jan-2000 15:00:00');
  });

  it('parses and renders DNs in the toolkit syntax', () => {
    expect(parseDn('CN=a, O="Acme, Inc", ST=Bavaria, emailAddress=x@y')).toEqual([
      ['CN', 'a'],
      ['O', 'Acme, Inc'],
      ['S', 'Bavaria'],
      ['E', 'x@y'],
    ]);
    expect(
      formatDn([
        { oid: '2.5.4.6', name: 'C', value: 'DE' },
        { oid: '2.5.4.3', name: 'CN', value: 'x=y' },
      ]),
    ).toBe('CN="x=y", C=DE');
    expect(() => parseDn('garbage')).toThrow(RangeError);
  });

  it('splits PEM bundles', () => {
    expect(parsePemCertificates(`junk\n${alpha.cert}${alpha.key}${ca.cert}`).map((x) => x.subject)).toEqual([
      'O=Acme\nCN=alpha.example',
      'CN=iotwire test CA',
    ]);
  });
});
