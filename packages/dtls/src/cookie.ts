import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ClientHello } from './handshake-messages.js';

/**
 * Stateless HelloVerifyRequest cookies (RFC 6347 §4.2.1): HMAC-SHA256 over the client's
 * address and the ClientHello fields that must not change between the two hellos. The secret
 * rotates every `lifetimeMs`; the previous one is still accepted so a client whose cookie was
 * issued just before a rotation is not turned away. No per-client state is kept.
 */
export class CookieJar {
  #current: Buffer;
  #previous: Buffer | undefined;
  #rotatedAt: number;

  constructor(
    private readonly lifetimeMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {
    this.#current = randomBytes(32);
    this.#rotatedAt = now();
  }

  #rotate(): void {
    const t = this.now();
    if (t - this.#rotatedAt < this.lifetimeMs) return;
    // After two lifetimes without traffic the previous secret is stale too.
    this.#previous = t - this.#rotatedAt < 2 * this.lifetimeMs ? this.#current : undefined;
    this.#current = randomBytes(32);
    this.#rotatedAt = t;
  }

  #mac(secret: Buffer, peer: string, hello: ClientHello): Buffer {
    const h = createHmac('sha256', secret);
    h.update(peer);
    const v = Buffer.allocUnsafe(2);
    v.writeUInt16BE(hello.version);
    h.update(v);
    h.update(hello.random);
    h.update(Buffer.from([hello.sessionId.length]));
    h.update(hello.sessionId);
    for (const s of hello.cipherSuites) {
      v.writeUInt16BE(s);
      h.update(v);
    }
    h.update(Buffer.from(hello.compressionMethods));
    return h.digest();
  }

  /** The cookie for this peer and hello. */
  generate(peer: string, hello: ClientHello): Buffer {
    this.#rotate();
    return this.#mac(this.#current, peer, hello);
  }

  /** True if `hello.cookie` was issued by us (current or previous secret) for this peer and hello. */
  verify(peer: string, hello: ClientHello): boolean {
    this.#rotate();
    const c = hello.cookie;
    if (c.length !== 32) return false;
    if (timingSafeEqual(c, this.#mac(this.#current, peer, hello))) return true;
    return this.#previous !== undefined && timingSafeEqual(c, this.#mac(this.#previous, peer, hello));
  }
}
