import { DtlsDecodeError } from './errors.js';

/** A bounds-checked big-endian reader over a byte slice; every overrun is a {@link DtlsDecodeError}. */
export class ByteReader {
  #pos: number;
  readonly #end: number;
  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
  ) {
    this.#pos = start;
    this.#end = end;
  }

  get offset(): number {
    return this.#pos;
  }
  get remaining(): number {
    return this.#end - this.#pos;
  }

  #need(n: number, what: string): void {
    if (this.#pos + n > this.#end) throw new DtlsDecodeError(`truncated ${what}: need ${n} bytes, have ${this.#end - this.#pos}`);
  }

  u8(what = 'uint8'): number {
    this.#need(1, what);
    return this.buf[this.#pos++]!;
  }
  u16(what = 'uint16'): number {
    this.#need(2, what);
    const v = this.buf.readUInt16BE(this.#pos);
    this.#pos += 2;
    return v;
  }
  u24(what = 'uint24'): number {
    this.#need(3, what);
    const v = this.buf.readUIntBE(this.#pos, 3);
    this.#pos += 3;
    return v;
  }
  bytes(n: number, what = 'bytes'): Buffer {
    this.#need(n, what);
    const v = this.buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return v;
  }
  /** A vector with a length prefix of `lenBytes` (1, 2 or 3), checked against `min`/`max`. */
  vector(lenBytes: 1 | 2 | 3, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): Buffer {
    const len = lenBytes === 1 ? this.u8(what) : lenBytes === 2 ? this.u16(what) : this.u24(what);
    if (len < min || len > max) throw new DtlsDecodeError(`${what}: length ${len} outside ${min}..${max}`);
    return this.bytes(len, what);
  }
  /** A sub-reader over a length-prefixed vector. */
  sub(lenBytes: 1 | 2 | 3, what: string, min = 0, max = Number.MAX_SAFE_INTEGER): ByteReader {
    const v = this.vector(lenBytes, what, min, max);
    return new ByteReader(v);
  }
  /** Fails unless every byte was consumed. */
  end(what: string): void {
    if (this.#pos !== this.#end) throw new DtlsDecodeError(`${what}: ${this.#end - this.#pos} trailing bytes`);
  }
}

/** A growable big-endian writer for building handshake messages (not on the record hot path). */
export class ByteWriter {
  #buf: Buffer;
  #len = 0;
  constructor(initial = 256) {
    this.#buf = Buffer.allocUnsafe(initial);
  }
  get length(): number {
    return this.#len;
  }
  #ensure(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + n));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }
  u8(v: number): this {
    this.#ensure(1);
    this.#buf[this.#len++] = v & 0xff;
    return this;
  }
  u16(v: number): this {
    this.#ensure(2);
    this.#buf.writeUInt16BE(v & 0xffff, this.#len);
    this.#len += 2;
    return this;
  }
  u24(v: number): this {
    this.#ensure(3);
    this.#buf.writeUIntBE(v, this.#len, 3);
    this.#len += 3;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.#ensure(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
    return this;
  }
  /** Writes `b` with a `lenBytes` length prefix. */
  vector(lenBytes: 1 | 2 | 3, b: Uint8Array): this {
    const max = 2 ** (8 * lenBytes) - 1;
    if (b.length > max) throw new RangeError(`vector of ${b.length} bytes exceeds ${max}`);
    if (lenBytes === 1) this.u8(b.length);
    else if (lenBytes === 2) this.u16(b.length);
    else this.u24(b.length);
    return this.bytes(b);
  }
  /** Writes a length-prefixed block whose content `fill` writes into this writer. */
  block(lenBytes: 1 | 2 | 3, fill: (w: ByteWriter) => void): this {
    this.#ensure(lenBytes);
    const at = this.#len;
    this.#len += lenBytes;
    fill(this);
    const n = this.#len - at - lenBytes;
    const max = 2 ** (8 * lenBytes) - 1;
    if (n > max) throw new RangeError(`block of ${n} bytes exceeds ${max}`);
    this.#buf.writeUIntBE(n, at, lenBytes);
    return this;
  }
  /** A copy of the written bytes. */
  finish(): Buffer {
    return Buffer.from(this.#buf.subarray(0, this.#len));
  }
}
