import { ErrorCode, type MqttPacketError, malformed } from './errors.js';
import { decodeUtf8 } from './utf8.js';

const EMPTY = Buffer.alloc(0);

function truncated(): MqttPacketError {
  return malformed(ErrorCode.Truncated, 'field runs past the end of the packet (Remaining Length too short)');
}

/**
 * A cursor over one packet body `buf[pos, end)`. Every read checks the bound against the
 * packet end (not the buffer end), so a short Remaining Length can never make a field read
 * bytes of the next packet. One instance is reused per decoder: no allocation per packet.
 */
export class Reader {
  buf: Buffer = EMPTY;
  pos = 0;
  end = 0;

  reset(buf: Buffer, pos: number, end: number): this {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
    return this;
  }

  /** Drops the reference to the last chunk so it can be collected. */
  release(): void {
    this.buf = EMPTY;
  }

  u8(): number {
    if (this.pos >= this.end) throw truncated();
    return this.buf[this.pos++] as number;
  }

  u16(): number {
    const p = this.pos;
    if (p + 2 > this.end) throw truncated();
    this.pos = p + 2;
    return ((this.buf[p] as number) << 8) | (this.buf[p + 1] as number);
  }

  u32(): number {
    const p = this.pos;
    if (p + 4 > this.end) throw truncated();
    this.pos = p + 4;
    const b = this.buf;
    return (b[p] as number) * 0x1000000 + (((b[p + 1] as number) << 16) | ((b[p + 2] as number) << 8) | (b[p + 3] as number));
  }

  /** Variable Byte Integer: at most four bytes, shortest form [MQTT-1.5.5-1]. */
  varint(): number {
    let value = 0;
    let mul = 1;
    for (let i = 0; i < 4; i++) {
      const byte = this.u8();
      value += (byte & 0x7f) * mul;
      if (byte < 0x80) {
        if (byte === 0 && i > 0)
          throw malformed(ErrorCode.VarintNotMinimal, 'variable byte integer not in its shortest form [MQTT-1.5.5-1]');
        return value;
      }
      mul *= 128;
    }
    throw malformed(ErrorCode.VarintTooLong, 'variable byte integer longer than 4 bytes (5.0 §1.5.5)');
  }

  /** Length-prefixed UTF-8 string, validated. */
  utf8(): string {
    const n = this.u16();
    const p = this.pos;
    if (p + n > this.end) throw truncated();
    this.pos = p + n;
    return n === 0 ? '' : decodeUtf8(this.buf, p, p + n);
  }

  /** Length-prefixed binary data as a view into the packet bytes. */
  binary(): Buffer {
    const n = this.u16();
    const p = this.pos;
    if (p + n > this.end) throw truncated();
    this.pos = p + n;
    return this.buf.subarray(p, p + n);
  }

  /** Fails unless every byte of the packet was consumed. */
  done(what: string): void {
    if (this.pos !== this.end) {
      throw malformed(ErrorCode.TrailingBytes, `${this.end - this.pos} unexpected byte(s) after the last field of ${what}`);
    }
  }
}
