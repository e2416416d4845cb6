import { X509Certificate } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { Certificate, CertificateVerdict, generateSelfSigned, NO_CERTIFICATE, pinMatches, runAcceptHandlers } from '../src/index.js';

const pair = generateSelfSigned({ keyType: 'ec', subject: 'CN=pinned, O=Acme' });
const x = new X509Certificate(pair.cert);
const other = new X509Certificate(generateSelfSigned({ keyType: 'ec' }).cert);
const c = Certificate.fromPem(pair.cert);
const third = new X509Certificate(generateSelfSigned({ keyType: 'ec' }).cert);

describe('pinMatches', () => {
  it.each([
    ['*', '*'],
    ['sha256 fingerprint with colons', c.fingerprintSha256],
    ['sha256 hex upper-case', c.thumbprintSha256.toUpperCase()],
    ['sha1', c.fingerprintSha1],
    ['md5', c.thumbprintMd5],
    ['PEM', pair.cert],
    ['base64 DER', x.raw.toString('base64')],
    ['DER bytes', x.raw],
    ['X509Certificate', x],
    ['Certificate', c],
    ['one of a list', [third, c.thumbprintSha256]],
  ] as const)('accepts a match by %s', (_n, pin) => {
    expect(pinMatches(x, pin as never)).toBe(true);
    if (pin !== '*') expect(pinMatches(other, pin as never)).toBe(false);
  });

  it('never matches a missing certificate unless the pin is *', () => {
    expect(pinMatches(undefined, c.thumbprintSha256)).toBe(false);
    expect(pinMatches(undefined, '*')).toBe(true);
    expect(pinMatches(x, 'not a pin')).toBe(false);
  });
});

describe('CertificateVerdict', () => {
  it('exposes the toolkit arguments', () => {
    const v = new CertificateVerdict({ certificate: x, status: 'OK' });
    expect(v.accept).toBe(true);
    expect(v.subject).toBe('CN=pinned, O=Acme');
    expect(v.issuer).toBe('CN=pinned, O=Acme');
    expect(v.certEncoded).toBe(x.toString());
    expect(v.certEncodedB.equals(x.raw)).toBe(true);
    const none = new CertificateVerdict({ status: NO_CERTIFICATE, accept: false });
    expect([none.subject, none.issuer, none.certEncoded, none.certEncodedB.length, none.accept]).toEqual(['', '', '', 0, false]);
    expect(new CertificateVerdict({ certificate: x, status: 'CERT_HAS_EXPIRED' }).accept).toBe(false);
  });
});

describe('runAcceptHandlers', () => {
  it('is synchronous when every handler is, and each sees the previous decision', () => {
    const seen: boolean[] = [];
    const args = { accept: true };
    const r = runAcceptHandlers(args, [
      (a: typeof args) => {
        seen.push(a.accept);
        a.accept = false;
      },
      (a: typeof args) => {
        seen.push(a.accept);
        a.accept = true;
      },
    ]);
    expect(r).toBe(true);
    expect(seen).toEqual([true, false]);
  });

  it('awaits asynchronous handlers in order', async () => {
    const order: string[] = [];
    const args = { accept: false };
    const r = runAcceptHandlers(args, [
      async (a: typeof args) => {
        await new Promise((res) => setTimeout(res, 5));
        order.push('first');
        a.accept = true;
      },
      (a: typeof args) => {
        order.push(`second saw ${a.accept}`);
      },
    ]);
    expect(r).toBeInstanceOf(Promise);
    expect(await r).toBe(true);
    expect(order).toEqual(['first', 'second saw true']);
  });

  it('rejects when a handler throws or rejects, and reports the error', async () => {
    const onError = vi.fn();
    expect(
      runAcceptHandlers(
        { accept: true },
        [
          () => {
            throw new Error('boom');
          },
        ],
        onError,
      ),
    ).toBe(false);
    expect(await runAcceptHandlers({ accept: true }, [async () => Promise.reject(new Error('later'))], onError)).toBe(false);
    expect(onError).toHaveBeenCalledTimes(2);
  });
});
