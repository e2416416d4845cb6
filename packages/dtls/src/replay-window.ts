/**
 * Anti-replay sliding window (RFC 6347 §4.1.2.6) for one epoch. `check` is consulted before a
 * record is decrypted (cheap rejection); `accept` is called only after the record authenticated,
 * so forged records cannot move the window.
 */
export class ReplayWindow {
  readonly #size: number;
  readonly #bits: Uint32Array;
  /** Highest sequence number accepted so far, -1 before the first. */
  #max = -1;

  /** @param size window width in records (multiple of 32, default 64). */
  constructor(size = 64) {
    if (size < 32 || size % 32 !== 0) throw new RangeError('replay window size must be a positive multiple of 32');
    this.#size = size;
    this.#bits = new Uint32Array(size / 32);
  }

  get highest(): number {
    return this.#max;
  }

  /** True if `seq` is new: above the window or inside it and not yet seen. */
  check(seq: number): boolean {
    if (seq > this.#max) return true;
    if (seq <= this.#max - this.#size) return false;
    const i = seq % this.#size;
    return ((this.#bits[i >>> 5] ?? 0) & (1 << (i & 31))) === 0;
  }

  /** Marks an authenticated record's sequence number as seen. */
  accept(seq: number): void {
    if (seq > this.#max) {
      const advance = seq - this.#max;
      if (advance >= this.#size) this.#bits.fill(0);
      else for (let s = this.#max + 1; s < seq; s++) this.#clear(s % this.#size);
      this.#max = seq;
    } else if (seq <= this.#max - this.#size) {
      return;
    }
    const i = seq % this.#size;
    const w = i >>> 5;
    this.#bits[w] = (this.#bits[w] ?? 0) | (1 << (i & 31));
  }

  /** Forgets everything (used when the peer's sequence space legitimately restarts). */
  reset(): void {
    this.#bits.fill(0);
    this.#max = -1;
  }

  #clear(i: number): void {
    const w = i >>> 5;
    this.#bits[w] = (this.#bits[w] ?? 0) & ~(1 << (i & 31));
  }
}
