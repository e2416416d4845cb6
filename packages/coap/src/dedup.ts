import type { PeerRegistry, PeerState } from './peers.js';

/** What the cache remembers about a received message (RFC 7252 §4.5). */
export const DedupState = {
  /** Seen, being processed, nothing sent yet. */
  Processing: 0,
  /** An empty ACK went out (separate response to follow): re-send an empty ACK. */
  EmptyAck: 1,
  /** A reply (piggybacked response, ACK or RST) is cached: re-send it. */
  Replied: 2,
  /** A NON, or a message we answer nothing to: drop duplicates silently. */
  Silent: 3,
} as const;
export type DedupState = (typeof DedupState)[keyof typeof DedupState];

export interface DedupOptions {
  /** Most entries kept. */
  capacity: number;
  /** Bytes of reply storage per entry; longer replies are kept as separate buffers. */
  slotBytes: number;
  /** Most bytes of longer replies kept in separate buffers. */
  maxLargeBytes: number;
  /** How long a CON entry lives (EXCHANGE_LIFETIME), ms. */
  conLifetimeMs: number;
  /** How long a NON entry lives (NON_LIFETIME), ms. */
  nonLifetimeMs: number;
}

/**
 * An open-addressing hash index (linear probing, backward-shift deletion) from a numeric key to
 * a ring slot, in a typed array. A JS Map under constant insert/delete rehashes into fresh
 * multi-megabyte tables every few seconds at high rates, which shows up as old-space growth;
 * this index never allocates after construction.
 */
class SlotIndex {
  readonly #table: Int32Array; // slot + 1, 0 = empty
  readonly #mask: number;

  constructor(
    capacity: number,
    readonly keys: Float64Array,
  ) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.#table = new Int32Array(size);
    this.#mask = size - 1;
  }

  #hash(key: number): number {
    const lo = key % 4294967296;
    const hi = (key - lo) / 4294967296;
    return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> 0;
  }

  get(key: number): number | undefined {
    const t = this.#table;
    let i = this.#hash(key) & this.#mask;
    for (;;) {
      const v = t[i] as number;
      if (v === 0) return undefined;
      if (this.keys[v - 1] === key) return v - 1;
      i = (i + 1) & this.#mask;
    }
  }

  /** Points `key` at `slot`, replacing an older mapping of the same key. */
  set(key: number, slot: number): void {
    const t = this.#table;
    let i = this.#hash(key) & this.#mask;
    for (;;) {
      const v = t[i] as number;
      if (v === 0 || this.keys[v - 1] === key) {
        t[i] = slot + 1;
        return;
      }
      i = (i + 1) & this.#mask;
    }
  }

  /** Removes the mapping of `key` if it points at `slot`. */
  delete(key: number, slot: number): void {
    const t = this.#table;
    const mask = this.#mask;
    let i = this.#hash(key) & mask;
    for (;;) {
      const v = t[i] as number;
      if (v === 0) return;
      if (v === slot + 1) break;
      i = (i + 1) & mask;
    }
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const v = t[j] as number;
      if (v === 0) break;
      const k = this.#hash(this.keys[v - 1] as number) & mask;
      // Move v into the hole at i unless its home k lies cyclically in (i, j].
      if (i <= j ? k <= i || k > j : k <= i && k > j) {
        t[i] = v;
        i = j;
      }
    }
    t[i] = 0;
  }
}

/**
 * The deduplication cache: a fixed-capacity ring of entries in arrival order. Replies are
 * copied into a fixed region per entry (long ones kept aside, capped in bytes), so the cache
 * holds no JS object per message. Expiry pops from the old end (no timer per message); when
 * full, the oldest entries are evicted early and counted. Lookup is one probe of a typed-array
 * hash index on `peerId × 65536 + messageId`.
 */
export class DedupCache {
  readonly #index: SlotIndex;
  readonly #keys: Float64Array;
  readonly #expires: Float64Array;
  readonly #state: Uint8Array;
  readonly #replyLen: Uint32Array;
  readonly #peers: (PeerState | undefined)[];
  readonly #large: (Buffer | undefined)[];
  readonly #store: Buffer;
  readonly #slotBytes: number;
  #head = 0; // next slot to write
  #tail = 0; // oldest live slot
  #count = 0;
  #largeBytes = 0;
  /** Entries dropped before their lifetime ended because the cache was full. */
  evicted = 0;

  constructor(
    readonly options: DedupOptions,
    readonly peers: PeerRegistry,
  ) {
    const n = Math.max(1, options.capacity);
    this.#slotBytes = options.slotBytes;
    this.#keys = new Float64Array(n);
    this.#index = new SlotIndex(n, this.#keys);
    this.#expires = new Float64Array(n);
    this.#state = new Uint8Array(n);
    this.#replyLen = new Uint32Array(n);
    this.#peers = new Array(n).fill(undefined);
    this.#large = new Array(n).fill(undefined);
    // Pages are only touched as slots fill, so an idle server does not pay for the whole region.
    this.#store = Buffer.allocUnsafe(n * options.slotBytes);
  }

  get size(): number {
    return this.#count;
  }

  /** Bytes held by replies too long for their slot. */
  get largeBytes(): number {
    return this.#largeBytes;
  }

  /** The live slot for this message, or −1. */
  lookup(peer: PeerState, messageId: number, now: number): number {
    const slot = this.#index.get(peer.id * 65536 + messageId);
    if (slot === undefined || (this.#expires[slot] as number) <= now) return -1;
    return slot;
  }

  state(slot: number): DedupState {
    return this.#state[slot] as DedupState;
  }

  /** The cached reply of a slot in state Replied (a view; send it before the next insert). */
  reply(slot: number): Buffer | undefined {
    if (this.#state[slot] !== DedupState.Replied) return undefined;
    const big = this.#large[slot];
    if (big !== undefined) return big;
    const at = slot * this.#slotBytes;
    return this.#store.subarray(at, at + (this.#replyLen[slot] as number));
  }

  /** True if `slot` still holds the entry for this message (it may have been evicted and reused). */
  holds(slot: number, peer: PeerState, messageId: number): boolean {
    return this.#peers[slot] === peer && this.#keys[slot] === peer.id * 65536 + messageId;
  }

  /** Records a new message and returns its slot. */
  insert(peer: PeerState, messageId: number, confirmable: boolean, now: number): number {
    if (this.#count > 0 && (this.#expires[this.#tail] as number) <= now) this.expire(now);
    if (this.#count === this.#keys.length) {
      this.#evictOldest();
      this.evicted++;
    }
    const slot = this.#head;
    this.#head = slot + 1 === this.#keys.length ? 0 : slot + 1;
    this.#count++;
    const key = peer.id * 65536 + messageId;
    this.#keys[slot] = key;
    this.#index.set(key, slot);
    this.#expires[slot] = now + (confirmable ? this.options.conLifetimeMs : this.options.nonLifetimeMs);
    this.#state[slot] = DedupState.Processing;
    this.#replyLen[slot] = 0;
    this.#peers[slot] = peer;
    this.peers.retain(peer);
    return slot;
  }

  setState(slot: number, state: DedupState): void {
    this.#state[slot] = state;
  }

  /** Caches a copy of `reply` for the slot and sets it to Replied. */
  setReply(slot: number, reply: Uint8Array): void {
    const len = reply.length;
    this.#dropLarge(slot);
    if (len <= this.#slotBytes) {
      this.#store.set(reply, slot * this.#slotBytes);
    } else {
      if (len > this.options.maxLargeBytes) {
        // Cannot be cached at all: a duplicate gets an empty ACK; the client then waits for
        // its retransmission timeout and asks again, which is safe for a lost reply.
        this.#state[slot] = DedupState.EmptyAck;
        return;
      }
      this.#large[slot] = Buffer.from(reply);
      this.#largeBytes += len;
      while (this.#largeBytes > this.options.maxLargeBytes && this.#count > 1) {
        this.#evictOldest();
        this.evicted++;
      }
      if (this.#peers[slot] === undefined) return; // evicted itself while making room
    }
    this.#replyLen[slot] = len;
    this.#state[slot] = DedupState.Replied;
  }

  #dropLarge(slot: number): void {
    const big = this.#large[slot];
    if (big !== undefined) {
      this.#largeBytes -= big.length;
      this.#large[slot] = undefined;
    }
  }

  /** Pops entries whose lifetime is over. NON entries may outlive their time behind CON ones. */
  expire(now: number): void {
    while (this.#count > 0 && (this.#expires[this.#tail] as number) <= now) this.#evictOldest();
  }

  #evictOldest(): void {
    const slot = this.#tail;
    const key = this.#keys[slot] as number;
    const peer = this.#peers[slot] as PeerState;
    this.#index.delete(key, slot);
    this.#dropLarge(slot);
    this.#peers[slot] = undefined;
    this.#tail = slot + 1 === this.#keys.length ? 0 : slot + 1;
    this.#count--;
    this.peers.release(peer);
  }

  /** Drops everything. */
  clear(): void {
    while (this.#count > 0) this.#evictOldest();
  }
}
