// Server-side block-wise state (RFC 7959): Block1 bodies being reassembled and Block2
// representations being served, both bounded in count and bytes and expired by age.

/** A body arriving in Block1 blocks. */
export interface Reassembly {
  chunks: Buffer[];
  received: number;
  /** Size1 announced by the client, if any. */
  expected: number | undefined;
  lastActive: number;
}

/** A representation being served in Block2 blocks. */
export interface CachedBody {
  code: number;
  body: Buffer;
  /** Options to repeat in every block (Content-Format, ETag, Max-Age...). */
  options: { number: number; value: Uint8Array }[];
  etag: Uint8Array;
  lastActive: number;
}

export interface BlockStoreLimits {
  /** Most concurrent entries. */
  maxEntries: number;
  /** Most bytes held across entries. */
  maxBytes: number;
  /** An entry untouched this long is dropped, ms. */
  lifetimeMs: number;
}

/**
 * A bounded map from a request key to block-wise state. Insertion order is age order (entries
 * are re-inserted when touched), so eviction and expiry pop from the front.
 */
export class BlockStore<T extends { lastActive: number }> {
  readonly #map = new Map<string, T>();
  #bytes = 0;
  /** Entries dropped early to stay within the limits. */
  evicted = 0;

  constructor(
    readonly limits: BlockStoreLimits,
    readonly sizeOf: (v: T) => number,
  ) {}

  get size(): number {
    return this.#map.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(key: string, now: number): T | undefined {
    const v = this.#map.get(key);
    if (v === undefined) return undefined;
    if (v.lastActive + this.limits.lifetimeMs <= now) {
      this.delete(key);
      return undefined;
    }
    return v;
  }

  /** Stores `value`, evicting the oldest entries to make room. False if it can never fit. */
  set(key: string, value: T, now: number): boolean {
    this.delete(key);
    const size = this.sizeOf(value);
    if (size > this.limits.maxBytes) return false;
    this.expire(now);
    while (this.#map.size > 0 && (this.#map.size >= this.limits.maxEntries || this.#bytes + size > this.limits.maxBytes)) {
      const oldest = this.#map.keys().next().value as string;
      this.delete(oldest);
      this.evicted++;
    }
    value.lastActive = now;
    this.#map.set(key, value);
    this.#bytes += size;
    return true;
  }

  /** Marks an entry used and accounts for its new size (after appending a block). */
  touch(key: string, value: T, oldSize: number, now: number): boolean {
    this.#map.delete(key);
    this.#bytes -= oldSize;
    return this.set(key, value, now);
  }

  delete(key: string): void {
    const v = this.#map.get(key);
    if (v === undefined) return;
    this.#map.delete(key);
    this.#bytes -= this.sizeOf(v);
  }

  expire(now: number): void {
    for (const [k, v] of this.#map) {
      if (v.lastActive + this.limits.lifetimeMs > now) break;
      this.delete(k);
    }
  }

  clear(): void {
    this.#map.clear();
    this.#bytes = 0;
  }
}
