import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateSelfSigned } from '../src/index.js';

describe('generateSelfSigned', () => {
  it('produces a certificate Node accepts, matching its key, with the requested names', () => {
    const { cert, key } = generateSelfSigned({ commonName: 'iotwire-test', altNames: ['localhost', '127.0.0.1'], keySize: 1024 });
    const x = new X509Certificate(cert);
    expect(x.subject).toBe('CN=iotwire-test');
    expect(x.checkHost('localhost')).toBe('localhost');
    expect(x.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(x.checkPrivateKey(createPrivateKey(key))).toBe(true);
    expect(x.verify(x.publicKey)).toBe(true);
  });
});
