/**
 * MaxTransferRate: a byte stream wrapper that paces outbound bytes through a token bucket.
 * Writes are delayed, never dropped; back-pressure is reported to the client (and the inner
 * transport's is respected). PINGREQ goes out ahead of queued bytes at the next MQTT packet
 * boundary (see `writeUrgent`), so a backlog at the capped rate cannot make the keep-alive
 * miss its deadline; only the packet already on the wire is finished first.
 */
import type { Clock } from '../clock.js';
import { TokenBucket } from '../token-bucket.js';
import type { ByteStream, StreamHandlers, TlsInfo } from './types.js';

/** Queued bytes above which `write` asks the writer to wait for `drain`. */
const HIGH_WATER = 64 * 1024;

enum Frame {
  /** Next byte is a fixed-header type byte: a packet boundary. */
  Type,
  /** Reading the Remaining Length varint. */
  Length,
  /** Skipping the rest of the packet. */
  Body,
}

export class ThrottledStream implements ByteStream {
  readonly #inner: ByteStream;
  readonly #bucket: TokenBucket;
  readonly #clock: Clock;
  #queue: Uint8Array[] = [];
  /** Offset into `#queue[0]` of the next byte to send. */
  #offset = 0;
  #queued = 0;
  #urgent: Uint8Array[] = [];
  #handlers: StreamHandlers | undefined;
  #timer: unknown;
  #innerBlocked = false;
  #wantDrain = false;
  #ending = false;
  #closed = false;
  // Framing of the bytes sent so far (to find packet boundaries for urgent packets).
  #frame = Frame.Type;
  #lenMul = 1;
  #lenBytes = 0;
  #left = 0;
  readonly #pumpBound = () => {
    this.#timer = undefined;
    this.#pump();
  };

  constructor(inner: ByteStream, bytesPerSecond: number, clock: Clock, burst = TokenBucket.defaultBurst(bytesPerSecond)) {
    this.#inner = inner;
    this.#clock = clock;
    this.#bucket = new TokenBucket(bytesPerSecond, burst, clock);
  }

  get needDrain(): boolean {
    return this.#queued > HIGH_WATER || this.#inner.needDrain;
  }
  get localAddress(): string | undefined {
    return this.#inner.localAddress;
  }
  get localPort(): number | undefined {
    return this.#inner.localPort;
  }
  get remoteAddress(): string | undefined {
    return this.#inner.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.#inner.remotePort;
  }
  get tls(): TlsInfo | undefined {
    return this.#inner.tls;
  }
  /** Bytes waiting for tokens (tests, diagnostics). */
  get queuedBytes(): number {
    return this.#queued;
  }

  start(handlers: StreamHandlers): void {
    this.#handlers = handlers;
    this.#inner.start({
      data: (chunk) => handlers.data(chunk),
      drain: () => {
        this.#innerBlocked = false;
        this.#pump();
      },
      close: (err) => {
        this.#closed = true;
        this.#cancelTimer();
        this.#queue = [];
        this.#urgent = [];
        this.#queued = 0;
        handlers.close(err);
      },
    });
  }

  write(data: Uint8Array): boolean {
    if (this.#closed || this.#ending) return false;
    if (data.length) {
      this.#queue.push(data);
      this.#queued += data.length;
      this.#pump();
    }
    if (this.needDrain) {
      this.#wantDrain = true;
      return false;
    }
    return true;
  }

  /**
   * Sends a small control packet (PINGREQ) ahead of the queue: at once when the stream is at
   * a packet boundary, else right after the packet in progress. It is charged to the bucket
   * (as debt) but never waits for tokens.
   */
  writeUrgent(packet: Uint8Array): void {
    if (this.#closed) return;
    this.#urgent.push(packet);
    this.#pump();
  }

  end(): void {
    if (this.#closed) return;
    this.#ending = true;
    if (this.#queued === 0 && this.#urgent.length === 0) this.#inner.end();
  }

  destroy(): void {
    this.#cancelTimer();
    this.#queue = [];
    this.#urgent = [];
    this.#queued = 0;
    this.#inner.destroy();
  }

  #cancelTimer(): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #pump(): void {
    if (this.#closed || this.#innerBlocked) return;
    for (;;) {
      if (this.#urgent.length && this.#frame === Frame.Type) {
        const u = this.#urgent.shift() as Uint8Array;
        this.#bucket.take(u.length);
        if (!this.#inner.write(u)) this.#innerBlocked = true;
        if (this.#innerBlocked) return;
        continue;
      }
      if (this.#queued === 0) break;
      let n = this.#bucket.available();
      if (n === 0) {
        // Wait for enough tokens for a useful piece, not for single bytes.
        if (this.#timer === undefined)
          this.#timer = this.#clock.setTimeout(this.#pumpBound, Math.max(1, this.#bucket.delayFor(this.#queued)));
        return;
      }
      if (this.#urgent.length) n = Math.min(n, this.#bytesToBoundary());
      const head = this.#queue[0] as Uint8Array;
      n = Math.min(n, head.length - this.#offset);
      const piece = n === head.length ? head : head.subarray(this.#offset, this.#offset + n);
      this.#track(piece);
      this.#offset += n;
      this.#queued -= n;
      if (this.#offset === head.length) {
        this.#queue.shift();
        this.#offset = 0;
      }
      this.#bucket.take(n);
      if (!this.#inner.write(piece)) {
        this.#innerBlocked = true;
        return;
      }
    }
    if (this.#ending && this.#queued === 0 && this.#urgent.length === 0) {
      this.#inner.end();
      return;
    }
    if (this.#wantDrain && !this.needDrain) {
      this.#wantDrain = false;
      this.#handlers?.drain();
    }
  }

  /** Bytes until the packet in progress ends (1 while inside its fixed header). */
  #bytesToBoundary(): number {
    return this.#frame === Frame.Body ? this.#left : 1;
  }

  /** Follows the MQTT framing of the bytes sent (fixed header: type byte, varint length). */
  #track(bytes: Uint8Array): void {
    let i = 0;
    while (i < bytes.length) {
      if (this.#frame === Frame.Type) {
        this.#frame = Frame.Length;
        this.#lenMul = 1;
        this.#lenBytes = 0;
        this.#left = 0;
        i++;
      } else if (this.#frame === Frame.Length) {
        const b = bytes[i++] as number;
        this.#left += (b & 0x7f) * this.#lenMul;
        this.#lenMul *= 128;
        this.#lenBytes++;
        if ((b & 0x80) === 0 || this.#lenBytes === 4) this.#frame = this.#left === 0 ? Frame.Type : Frame.Body;
      } else {
        const d = Math.min(this.#left, bytes.length - i);
        this.#left -= d;
        i += d;
        if (this.#left === 0) this.#frame = Frame.Type;
      }
    }
  }
}

/** Wraps `stream` when a rate cap is set (`maxTransferRate` bytes/second; 0/undefined = none). */
export function throttle(stream: ByteStream, bytesPerSecond: number | undefined, clock: Clock): ByteStream {
  return bytesPerSecond ? new ThrottledStream(stream, bytesPerSecond, clock) : stream;
}
