import { clientError } from './errors.js';

export type OverflowPolicy = 'reject-new' | 'drop-oldest';

/** Bounds of the outbound queue (messages waiting for a connection or for the server's Receive Maximum). */
export interface QueueOptions {
  /** Most messages held. Default 1000. */
  maxMessages?: number;
  /** Most payload + topic bytes held. Default 16 MiB. */
  maxBytes?: number;
  /** Queue QoS 0 publishes made while offline. Default false: they are rejected with ERR_NOT_CONNECTED. */
  queueQoS0?: boolean;
  /**
   * When full: `'reject-new'` (default) rejects the new publish with ERR_QUEUE_FULL;
   * `'drop-oldest'` drops the oldest queued message (its promise rejects with ERR_QUEUE_DROPPED).
   */
  overflow?: OverflowPolicy;
}

export interface ResolvedQueueOptions {
  maxMessages: number;
  maxBytes: number;
  queueQoS0: boolean;
  overflow: OverflowPolicy;
}

export function resolveQueueOptions(o: QueueOptions = {}): ResolvedQueueOptions {
  const maxMessages = o.maxMessages ?? 1000;
  const maxBytes = o.maxBytes ?? 16 * 1024 * 1024;
  if (!(maxMessages >= 0) || !(maxBytes >= 0)) throw clientError('ERR_INVALID_ARGUMENT', 'queue limits must be >= 0');
  return { maxMessages, maxBytes, queueQoS0: o.queueQoS0 ?? false, overflow: o.overflow ?? 'reject-new' };
}

/**
 * FIFO bounded by count and bytes. `push` either accepts, throws ERR_QUEUE_FULL, or (policy
 * drop-oldest) returns the items evicted to make room. Memory stays bounded whatever the
 * application does while the connection is down.
 */
export class BoundedQueue<T> {
  #items: (T | undefined)[] = [];
  #sizes: number[] = [];
  #head = 0;
  #bytes = 0;

  constructor(
    public options: ResolvedQueueOptions,
    private readonly sizeOf: (item: T) => number,
  ) {}

  get length(): number {
    return this.#items.length - this.#head;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Adds `item`; returns the items dropped to make room (drop-oldest), or throws ERR_QUEUE_FULL. */
  push(item: T): T[] {
    const size = this.sizeOf(item);
    const { maxMessages, maxBytes, overflow } = this.options;
    if (size > maxBytes || maxMessages === 0) {
      throw clientError(
        'ERR_QUEUE_FULL',
        `message of ${size} bytes cannot be queued (queue limits ${maxMessages} messages / ${maxBytes} bytes)`,
      );
    }
    const dropped: T[] = [];
    while (this.length + 1 > maxMessages || this.#bytes + size > maxBytes) {
      if (overflow !== 'drop-oldest') {
        throw clientError('ERR_QUEUE_FULL', `outbound queue full (${this.length} messages, ${this.#bytes} bytes)`);
      }
      dropped.push(this.shift() as T);
    }
    this.#items.push(item);
    this.#sizes.push(size);
    this.#bytes += size;
    return dropped;
  }

  /** Puts items back at the front (in order), ignoring the limits: they were already admitted. */
  unshiftAll(items: readonly T[]): void {
    if (items.length === 0) return;
    const rest = this.#items.slice(this.#head);
    const restSizes = this.#sizes.slice(this.#head);
    const sizes = items.map((i) => this.sizeOf(i));
    this.#items = [...items, ...rest];
    this.#sizes = [...sizes, ...restSizes];
    this.#head = 0;
    for (const s of sizes) this.#bytes += s;
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#bytes -= this.#sizes[this.#head] as number;
    this.#items[this.#head] = undefined;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes and returns everything. */
  drain(): T[] {
    const out = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#sizes = [];
    this.#head = 0;
    this.#bytes = 0;
    return out;
  }

  toArray(): T[] {
    return this.#items.slice(this.#head) as T[];
  }
}
