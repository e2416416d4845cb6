import { describe, expect, it } from 'vitest';
import { CookieJar } from '../src/cookie.js';
import { ext } from '../src/extensions.js';
import type { ClientHello } from '../src/handshake-messages.js';

function hello(over: Partial<ClientHello> = {}): ClientHello {
  return {
    version: 0xfefd,
    random: Buffer.alloc(32, 1),
    sessionId: Buffer.alloc(0),
    cookie: Buffer.alloc(0),
    cipherSuites: [0xc0a8],
    compressionMethods: [0],
    extensions: [],
    ...over,
  };
}

describe('stateless cookies (RFC 6347 §4.2.1)', () => {
  it('verifies its own cookie for the same peer and hello fields only', () => {
    const jar = new CookieJar(60_000);
    const cookie = jar.generate('1.2.3.4:5', hello());
    expect(cookie).toHaveLength(32);
    expect(jar.verify('1.2.3.4:5', hello({ cookie }))).toBe(true);
    // Extensions may legitimately differ between the two hellos; they are not bound.
    expect(jar.verify('1.2.3.4:5', hello({ cookie, extensions: [ext.extendedMasterSecret()] }))).toBe(true);
    expect(jar.verify('1.2.3.4:6', hello({ cookie }))).toBe(false);
    expect(jar.verify('1.2.3.4:5', hello({ cookie, random: Buffer.alloc(32, 2) }))).toBe(false);
    expect(jar.verify('1.2.3.4:5', hello({ cookie, cipherSuites: [0xc0ae] }))).toBe(false);
    expect(jar.verify('1.2.3.4:5', hello({ cookie: Buffer.alloc(32) }))).toBe(false);
    expect(jar.verify('1.2.3.4:5', hello({ cookie: cookie.subarray(0, 31) }))).toBe(false);
    expect(new CookieJar().verify('1.2.3.4:5', hello({ cookie }))).toBe(false); // another server's secret
  });

  it('rotates its secret and still accepts the previous one, but not older', () => {
    let now = 0;
    const jar = new CookieJar(1000, () => now);
    const cookie = jar.generate('p', hello());
    now = 1500; // rotated once: previous secret still valid
    expect(jar.verify('p', hello({ cookie }))).toBe(true);
    expect(jar.generate('p', hello())).not.toEqual(cookie);
    now = 2600; // rotated twice
    expect(jar.verify('p', hello({ cookie }))).toBe(false);
  });

  it('after a long silence both secrets are fresh', () => {
    let now = 0;
    const jar = new CookieJar(1000, () => now);
    const cookie = jar.generate('p', hello());
    now = 10_000;
    expect(jar.verify('p', hello({ cookie }))).toBe(false);
  });
});
