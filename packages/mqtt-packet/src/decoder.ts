import { MAX_PACKET_SIZE, PACKET_TYPE_NAMES, type ProtocolVersion } from './constants.js';
import { checkHeader, type DecodeOptions, decodeBody, type Side } from './decode.js';
import { ErrorCode, MqttPacketError, malformed, protocolError } from './errors.js';
import { Reader } from './reader.js';
import type { Packet } from './types.js';

/** Options of the streaming {@link Decoder}. */
export interface DecoderOptions extends DecodeOptions {
  /**
   * Protocol level used for every packet but CONNECT (which carries its own). Leave unset in a
   * server: the first CONNECT sets it (and so does every CONNECT). Default: unset, which
   * decodes non-CONNECT packets with 3.1.1 rules unless `side` is `'server'`, where a first
   * packet other than CONNECT is rejected [MQTT-3.1.0-1].
   */
  protocolVersion?: ProtocolVersion;
  /**
   * Largest accepted packet in bytes (fixed header included, as MQTT 5 Maximum Packet Size
   * counts it). Checked as soon as the Remaining Length is read, before any body byte is
   * buffered; a larger packet fails with `ERR_PACKET_TOO_LARGE` (0x95). Default: the protocol
   * maximum, 268,435,460.
   */
  maxPacketSize?: number;
}

/** Callback receiving each complete packet, synchronously, in wire order. */
export type PacketHandler = (packet: Packet) => void;

const INITIAL_PARTIAL = 1024;

function tooLarge(size: number, max: number, type: number): MqttPacketError {
  const e = new MqttPacketError(ErrorCode.PacketTooLarge, 0x95, `packet of ${size} bytes exceeds the maximum packet size ${max}`);
  e.packetType = PACKET_TYPE_NAMES[type];
  return e;
}

/**
 * Streaming MQTT decoder. Feed it bytes as they arrive with {@link push}, in fragments of any
 * size (one byte at a time, or many packets per chunk); it calls `onPacket` for each complete
 * packet, synchronously and in order.
 *
 * Zero-copy: when a packet lies wholly inside one chunk, binary fields (payload, password,
 * correlation data, …) are `Buffer` views into that chunk, so do not reuse chunk memory after
 * pushing it (socket chunks are fresh). Only a packet split across chunks is copied, into a
 * buffer that grows with the bytes actually received (a forged Remaining Length cannot make
 * it allocate more than twice what the peer sent) and that then belongs to that packet.
 *
 * On bad input `push` throws {@link MqttPacketError} (with the MQTT 5 reason code to send)
 * after delivering the packets before the bad one; the decoder then stays failed: every later
 * `push` throws the same error. Close the connection.
 */
export class Decoder {
  /** See {@link DecoderOptions.protocolVersion}; assignable (e.g. by a client after CONNACK). */
  protocolVersion: ProtocolVersion | undefined;
  /** See {@link DecoderOptions.maxPacketSize}; assignable. */
  maxPacketSize: number;
  readonly side: Side | undefined;
  readonly strictTopicFilters: boolean;
  /** The error that failed this decoder, if any. */
  error: MqttPacketError | undefined;

  private readonly onPacket: PacketHandler;
  private readonly reader = new Reader();
  private connectSeen = false;
  // Incomplete fixed header (at most 1 + 4 bytes).
  // Allocated on first use: most connections never see a fixed header split across chunks,
  // and a buffer per idle connection adds up in a broker.
  private head: Buffer | undefined;
  private headLen = 0;
  // Packet being assembled across chunks.
  private part: Buffer | undefined;
  private partLen = 0;
  private partSize = 0;
  // Chunks (or chunk remainders) waiting while paused or after a handler threw.
  private queue: Buffer[] = [];
  private paused = false;
  private running = false;

  constructor(onPacket: PacketHandler, options: DecoderOptions = {}) {
    this.onPacket = onPacket;
    this.protocolVersion = options.protocolVersion;
    this.maxPacketSize = options.maxPacketSize ?? MAX_PACKET_SIZE;
    this.side = options.side;
    this.strictTopicFilters = options.strictTopicFilters ?? true;
  }

  /** Bytes held: an incomplete packet plus chunks queued while paused. */
  get bufferedBytes(): number {
    let n = this.headLen + this.partLen;
    for (const q of this.queue) n += q.length;
    return n;
  }

  /** Whether delivery is paused (see {@link pause}). */
  get isPaused(): boolean {
    return this.paused;
  }

  /**
   * Stops delivering packets after the current one (call it from `onPacket`, e.g. while an
   * async auth hook runs). Later bytes are queued without copying until {@link resume}; pause
   * the socket too, so the queue stays bounded.
   */
  pause(): void {
    this.paused = true;
  }

  /** Resumes delivery, first of the queued bytes. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.running) this.drain();
  }

  /** Forgets all state (partial packet, queue, error, learned version) for reuse. Not from `onPacket`. */
  reset(protocolVersion?: ProtocolVersion): void {
    this.protocolVersion = protocolVersion;
    this.error = undefined;
    this.connectSeen = false;
    this.headLen = 0;
    this.part = undefined;
    this.partLen = 0;
    this.partSize = 0;
    this.queue = [];
    this.paused = false;
    this.running = false;
    this.reader.release();
  }

  /**
   * Feeds bytes; delivers every packet they complete. Throws {@link MqttPacketError} on bad
   * input. If `onPacket` throws, the exception propagates and the bytes after that packet are
   * kept for the next `push`/`resume`.
   */
  push(chunk: Buffer): void {
    if (this.error !== undefined) throw this.error;
    if (chunk.length === 0) return;
    if (this.running || this.paused || this.queue.length > 0) {
      this.queue.push(chunk);
      if (!this.running && !this.paused) this.drain();
      return;
    }
    this.run(chunk);
    if (this.queue.length > 0 && !this.paused) this.drain();
  }

  private drain(): void {
    while (this.queue.length > 0 && !this.paused && !this.running && this.error === undefined) {
      this.run(this.queue.shift() as Buffer);
    }
  }

  private run(chunk: Buffer): void {
    this.running = true;
    try {
      this.process(chunk);
    } catch (e) {
      // Errors raised while decoding fail the decoder; a handler's own exception does not.
      if (this.decoding && e instanceof MqttPacketError && this.error === undefined) this.fail(e);
      this.decoding = false;
      throw e;
    } finally {
      this.running = false;
      this.reader.release();
    }
  }

  /** True between reading a header and handing its packet over: errors there are ours. */
  private decoding = false;

  private fail(e: MqttPacketError): void {
    this.error = e;
    this.part = undefined;
    this.partLen = 0;
    this.headLen = 0;
    this.queue = [];
  }

  private process(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    if (this.headLen > 0 || this.part !== undefined) {
      pos = this.continuePartial(chunk);
      if (pos < 0) return;
    }
    while (pos < len) {
      const header = chunk[pos] as number;
      // Remaining Length, inlined for the 1- and 2-byte cases.
      let rl: number;
      let hl: number;
      if (pos + 1 >= len) {
        this.saveHead(chunk, pos, len);
        return;
      }
      const b1 = chunk[pos + 1] as number;
      if (b1 < 0x80) {
        rl = b1;
        hl = 2;
      } else {
        if (pos + 2 >= len) {
          this.saveHead(chunk, pos, len);
          return;
        }
        const b2 = chunk[pos + 2] as number;
        if (b2 < 0x80) {
          if (b2 === 0) this.nonMinimal();
          rl = (b1 & 0x7f) | (b2 << 7);
          hl = 3;
        } else {
          const r = this.longLength(chunk, pos + 1, len);
          if (r < 0) {
            this.saveHead(chunk, pos, len);
            return;
          }
          rl = r;
          hl = 1 + this.lastLengthBytes;
        }
      }
      const size = hl + rl;
      if (size > this.maxPacketSize) this.failNow(tooLarge(size, this.maxPacketSize, header >> 4));
      const end = pos + size;
      if (end > len) {
        this.startPart(chunk, pos, len, size);
        return;
      }
      if (this.deliver(chunk, header, pos + hl, end, chunk, end)) return;
      pos = end;
    }
  }

  private lastLengthBytes = 0;

  /** Reads a 3- or 4-byte Remaining Length at `p`; -1 when incomplete. */
  private longLength(buf: Buffer, p: number, end: number): number {
    let value = 0;
    let mul = 1;
    for (let i = 0; i < 4; i++) {
      if (p + i >= end) return -1;
      const b = buf[p + i] as number;
      value += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (b === 0 && i > 0) this.nonMinimal();
        this.lastLengthBytes = i + 1;
        return value;
      }
      mul *= 128;
    }
    return this.failNow(malformed(ErrorCode.VarintTooLong, 'Remaining Length longer than 4 bytes (3.1.1 §2.2.3; 5.0 §1.5.5)'));
  }

  private nonMinimal(): never {
    return this.failNow(malformed(ErrorCode.VarintNotMinimal, 'Remaining Length not in its shortest form [MQTT-1.5.5-1]'));
  }

  private failNow(e: MqttPacketError): never {
    this.fail(e);
    throw e;
  }

  private saveHead(chunk: Buffer, pos: number, len: number): void {
    // A partial header still must be a plausible start: check the type byte now.
    this.checkType(chunk[pos] as number);
    const head = (this.head ??= Buffer.allocUnsafe(5));
    for (let i = pos; i < len; i++) head[this.headLen++] = chunk[i] as number;
  }

  private checkType(header: number): void {
    this.decoding = true;
    checkHeader(header, this.versionFor(header), this.side);
    this.decoding = false;
  }

  private versionFor(header: number): ProtocolVersion {
    const v = this.protocolVersion;
    if (v !== undefined) return v;
    if (this.side === 'server' && header >> 4 !== 1) {
      const e = protocolError(ErrorCode.UnexpectedPacket, 'the first packet from a Client must be CONNECT [MQTT-3.1.0-1]');
      e.packetType = PACKET_TYPE_NAMES[header >> 4];
      this.failNow(e);
    }
    return 4;
  }

  /** Starts assembling a packet of `size` bytes from `chunk[pos, len)`. */
  private startPart(chunk: Buffer, pos: number, len: number, size: number): void {
    this.checkType(chunk[pos] as number); // fail fast, before buffering
    const have = len - pos;
    const part = Buffer.allocUnsafe(Math.min(size, Math.max(INITIAL_PARTIAL, have * 2)));
    chunk.copy(part, 0, pos, len);
    this.part = part;
    this.partLen = have;
    this.partSize = size;
  }

  /** Continues an incomplete header and/or packet; returns the chunk offset after it, or -1. */
  private continuePartial(chunk: Buffer): number {
    let pos = 0;
    const len = chunk.length;
    if (this.part === undefined) {
      // Complete the fixed header first.
      const head = (this.head ??= Buffer.allocUnsafe(5));
      while (pos < len) {
        head[this.headLen++] = chunk[pos++] as number;
        const b = head[this.headLen - 1] as number;
        if (b < 0x80) break;
        if (this.headLen === 5) {
          this.failNow(malformed(ErrorCode.VarintTooLong, 'Remaining Length longer than 4 bytes (3.1.1 §2.2.3; 5.0 §1.5.5)'));
        }
      }
      const last = head[this.headLen - 1] as number;
      if (this.headLen < 2 || last >= 0x80) return -1; // still incomplete
      if (last === 0 && this.headLen > 2) this.nonMinimal();
      let rl = 0;
      let mul = 1;
      for (let i = 1; i < this.headLen; i++) {
        rl += ((head[i] as number) & 0x7f) * mul;
        mul *= 128;
      }
      const hl = this.headLen;
      const size = hl + rl;
      if (size > this.maxPacketSize) this.failNow(tooLarge(size, this.maxPacketSize, (head[0] as number) >> 4));
      this.headLen = 0;
      const avail = len - pos;
      if (avail >= rl) {
        // Header was split but the body is whole in this chunk: decode in place.
        return this.deliver(chunk, head[0] as number, pos, pos + rl, chunk, pos + rl) ? -1 : pos + rl;
      }
      const part = Buffer.allocUnsafe(Math.min(size, Math.max(INITIAL_PARTIAL, (hl + avail) * 2)));
      head.copy(part, 0, 0, hl);
      chunk.copy(part, hl, pos, len);
      this.part = part;
      this.partLen = hl + avail;
      this.partSize = size;
      return -1;
    }
    let part = this.part;
    const need = this.partSize - this.partLen;
    const take = Math.min(need, len);
    if (this.partLen + take > part.length) {
      const grown = Buffer.allocUnsafe(Math.min(this.partSize, Math.max(part.length * 2, this.partLen + take)));
      part.copy(grown, 0, 0, this.partLen);
      this.part = part = grown;
    }
    chunk.copy(part, this.partLen, 0, take);
    this.partLen += take;
    if (this.partLen < this.partSize) return -1;
    // Complete: the buffer now belongs to the packet (payload views point into it).
    this.part = undefined;
    this.partLen = 0;
    const header = part[0] as number;
    let hl = 2;
    while ((part[hl - 1] as number) >= 0x80) hl++;
    return this.deliver(part, header, hl, this.partSize, chunk, take) ? -1 : take;
  }

  /**
   * Decodes body `buf[start, end)` and hands the packet to the handler. `chunk[resumeAt..]` is
   * what follows in the current chunk: it is queued (as a view) if the handler pauses or
   * throws. Returns true when processing of the chunk must stop.
   */
  private deliver(buf: Buffer, header: number, start: number, end: number, chunk: Buffer, resumeAt: number): boolean {
    this.decoding = true;
    const version = this.versionFor(header);
    checkHeader(header, version, this.side);
    const packet = decodeBody(this.reader.reset(buf, start, end), header, version, this.side, this.strictTopicFilters);
    if (packet.type === 'connect') {
      if (this.connectSeen && this.side === 'server') {
        const e = protocolError(ErrorCode.UnexpectedPacket, 'a second CONNECT is a Protocol Error [MQTT-3.1.0-2]');
        e.packetType = 'connect';
        e.protocolVersion = packet.protocolVersion;
        throw e;
      }
      this.connectSeen = true;
      this.protocolVersion = packet.protocolVersion;
    }
    this.decoding = false;
    try {
      this.onPacket(packet);
    } catch (e) {
      if (resumeAt < chunk.length) this.queue.unshift(chunk.subarray(resumeAt));
      throw e;
    }
    if (this.paused) {
      if (resumeAt < chunk.length) this.queue.unshift(chunk.subarray(resumeAt));
      return true;
    }
    return false;
  }
}

/**
 * Decodes exactly one complete packet (fixed header included) from `bytes`. Throws
 * {@link MqttPacketError} on bad input, including a Remaining Length that does not match
 * `bytes.length`. Binary fields are views into `bytes`.
 */
export function decode(bytes: Uint8Array, version: ProtocolVersion = 4, options: DecodeOptions = {}): Packet {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 2) throw malformed(ErrorCode.Truncated, 'a packet has at least 2 bytes');
  const header = buf[0] as number;
  const r = new Reader();
  r.reset(buf, 1, buf.length);
  const rl = r.varint();
  if (r.pos + rl !== buf.length) {
    throw malformed(ErrorCode.Truncated, `Remaining Length ${rl} does not match the ${buf.length - r.pos} bytes given`);
  }
  checkHeader(header, version, options.side);
  return decodeBody(r.reset(buf, r.pos, buf.length), header, version, options.side, options.strictTopicFilters ?? true);
}
