import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadCertificates, loadPrivateKey, rawPublicKeyIdentity, SecurityFlags, spkiOf, validateChain } from '../src/certificates.js';
import { DtlsError } from '../src/errors.js';
import { makePki } from './helpers/pki.js';

describe('X.509 path validation', () => {
  const pki = makePki();
  const cert = (p: string) => new X509Certificate(pki.pem(p));
  const root = cert(pki.caCert);
  const server = cert(pki.serverCert);

  it('accepts a leaf issued by a trusted root, for its host name and IP', () => {
    for (const host of [undefined, 'localhost', '127.0.0.1']) {
      const r = validateChain([server], { ca: [root], purpose: 'server', host });
      expect(r).toMatchObject({ ok: true, code: 'OK', status: 'OK' });
      expect(r.path.map((c) => c.subject)).toEqual(['CN=localhost', 'CN=iotwire test root']);
    }
  });

  it('builds the path through an intermediate sent by the peer', () => {
    const r = validateChain([cert(pki.serverIntCert), cert(pki.intCert)], { ca: [root], purpose: 'server' });
    expect(r.ok).toBe(true);
    expect(r.path).toHaveLength(3);
    expect(validateChain([cert(pki.serverIntCert)], { ca: [root], purpose: 'server' }).code).toBe('UNKNOWN_CA');
  });

  const failures: [string, () => ReturnType<typeof validateChain>, string, number][] = [
    ['issuer not among the anchors', () => validateChain([server], { ca: [], purpose: 'server' }), 'UNKNOWN_CA', 48],
    ['self-signed leaf', () => validateChain([cert(pki.selfCert)], { ca: [root], purpose: 'server' }), 'SELF_SIGNED', 48],
    [
      'expired',
      () => validateChain([server], { ca: [root], purpose: 'server', now: new Date(Date.now() + 400 * 86_400_000) }),
      'EXPIRED',
      45,
    ],
    [
      'not yet valid',
      () => validateChain([server], { ca: [root], purpose: 'server', now: new Date(Date.now() - 400 * 86_400_000) }),
      'NOT_YET_VALID',
      42,
    ],
    ['host mismatch', () => validateChain([server], { ca: [root], purpose: 'server', host: 'example.org' }), 'HOSTNAME_MISMATCH', 46],
    [
      'wrong purpose (client cert as server)',
      () => validateChain([cert(pki.clientCert)], { ca: [root], purpose: 'server' }),
      'WRONG_USAGE',
      43,
    ],
    ['issuer that is not a CA', () => validateChain([cert(pki.childCert), server], { ca: [root], purpose: 'client' }), 'NOT_A_CA', 42],
    ['no certificate', () => validateChain([], { ca: [root], purpose: 'client' }), 'NO_CERTIFICATE', 40],
  ];
  for (const [name, run, code, alert] of failures) {
    it(`rejects: ${name}`, () => {
      const r = run();
      expect(r.ok).toBe(false);
      expect(r.code).toBe(code);
      expect(r.alert).toBe(alert);
      expect(r.status).not.toBe('OK');
    });
  }

  it('an impostor root with the same name does not validate the leaf', () => {
    expect(validateChain([server], { ca: [cert(pki.fakeRootCert)], purpose: 'server' }).ok).toBe(false);
  });

  it('trusts a pinned self-signed certificate listed as an anchor', () => {
    expect(validateChain([cert(pki.selfCert)], { ca: [cert(pki.selfCert)], purpose: 'server' }).ok).toBe(true);
  });

  it('applies the seed SSLSecurityFlags relaxations', () => {
    const later = new Date(Date.now() + 400 * 86_400_000);
    expect(validateChain([server], { ca: [root], purpose: 'server', now: later, flags: SecurityFlags.IgnoreTimeValidity }).ok).toBe(true);
    expect(validateChain([server], { ca: [], purpose: 'server', flags: SecurityFlags.AllowUnknownCa }).ok).toBe(true);
    expect(validateChain([cert(pki.clientCert)], { ca: [root], purpose: 'server', flags: SecurityFlags.IgnoreWrongUsage }).ok).toBe(true);
    expect(validateChain([server], { ca: [root], purpose: 'server', host: 'example.org', flags: SecurityFlags.IgnoreCnMismatch }).ok).toBe(
      true,
    );
  });
});

describe('credential loading and raw public keys', () => {
  const pki = makePki();

  it('loads PEM bundles with text between blocks, DER and X509Certificate', () => {
    const bundle = `junk\n${pki.pem(pki.caCert)}\nmore junk\n${pki.pem(pki.intCert)}`;
    const certs = loadCertificates(bundle);
    expect(certs.map((c) => c.subject)).toEqual(['CN=iotwire test root', 'CN=iotwire test intermediate']);
    expect(loadCertificates([certs[0]!.raw, certs[1]!])).toHaveLength(2);
    expect(() => loadCertificates('not a certificate')).toThrow(DtlsError);
  });

  it('loads SEC1 and PKCS#8 keys; refuses public keys', () => {
    const k = loadPrivateKey(pki.pem(pki.serverKey));
    expect(k.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(loadPrivateKey(k.export({ type: 'pkcs8', format: 'der' })).type).toBe('private');
    expect(() => loadPrivateKey(spkiOf(k))).toThrow(DtlsError);
  });

  it('SPKI of a P-256 key is 91 bytes; identity is RFC 6920 ni:///sha-256', () => {
    const spki = spkiOf(createPrivateKey(pki.pem(pki.rpkKey)));
    expect(spki).toHaveLength(91);
    // RFC 6920 §3 example: "Hello World!" hashes to this name.
    expect(rawPublicKeyIdentity(Buffer.from('Hello World!'))).toBe('ni:///sha-256;f4OxZX_x_FO5LcGBSKHWXfwtSx-j1ncoSt3SABJtkGk');
    expect(rawPublicKeyIdentity(spki, true)).toMatch(/^ni:\/\/\/sha-256-120;[\w-]{20}$/);
  });
});
