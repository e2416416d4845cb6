import { randomFillSync } from 'node:crypto';

const TWO48 = 2 ** 48;

/**
 * A number (or, for 7–8 byte tokens, a string) that identifies a token; lengths are folded in
 * so `0x01` and `0x0001` differ. Tokens of up to 6 bytes, the ones we generate, give a number,
 * so the exchange map is keyed without allocating.
 */
export function tokenKey(token: Uint8Array): number | string {
  const n = token.length;
  if (n <= 6) {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + (token[i] as number);
    return v + n * TWO48;
  }
  return Buffer.from(token.buffer, token.byteOffset, n).toString('latin1');
}

/**
 * Random tokens from a pooled CSPRNG buffer (RFC 7252 §5.3.1 asks for at least 32 random bits
 * on the Internet). The caller retries on the rare collision with a live token.
 */
export class TokenSource {
  readonly #pool = Buffer.allocUnsafe(4096);
  #at = 4096;

  constructor(readonly length: number) {
    if (!Number.isInteger(length) || length < 0 || length > 8) throw new RangeError(`token length must be 0–8, got ${length}`);
  }

  next(): Buffer {
    const n = this.length;
    if (this.#at + n > this.#pool.length) {
      randomFillSync(this.#pool);
      this.#at = 0;
    }
    const t = Buffer.allocUnsafe(n);
    this.#pool.copy(t, 0, this.#at, this.#at + n);
    this.#at += n;
    return t;
  }
}
