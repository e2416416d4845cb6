import { isUtf8 } from 'node:buffer';
import { ErrorCode, MqttPacketError, malformed } from './errors.js';

/**
 * Node's Buffer carries native slice/write methods that skip the argument juggling of
 * `toString`/`write`; they are undocumented but stable since Node 0.x. Fall back when absent.
 */
interface NativeBuffer extends Buffer {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
  utf8Write(str: string, offset: number, length?: number): number;
}
const proto = Buffer.prototype as Partial<NativeBuffer>;
const hasNative = typeof proto.latin1Slice === 'function' && typeof proto.utf8Slice === 'function' && typeof proto.utf8Write === 'function';

/** `buf.latin1Slice(start, end)`; callers only use it on bytes known to be ASCII. */
export const latin1Slice: (buf: Buffer, start: number, end: number) => string = hasNative
  ? (buf, start, end) => (buf as NativeBuffer).latin1Slice(start, end)
  : (buf, start, end) => buf.toString('latin1', start, end);
const utf8Slice: (buf: Buffer, start: number, end: number) => string = hasNative
  ? (buf, start, end) => (buf as NativeBuffer).utf8Slice(start, end)
  : (buf, start, end) => buf.toString('utf8', start, end);
const utf8Write: (buf: Buffer, str: string, offset: number) => number = hasNative
  ? (buf, str, offset) => (buf as NativeBuffer).utf8Write(str, offset)
  : (buf, str, offset) => buf.write(str, offset, 'utf8');

/** `String.prototype.isWellFormed` (Node 20+, ES2024; not in the ES2023 lib typings). */
interface WellFormed {
  isWellFormed(): boolean;
}

/** Largest byte length of a UTF-8 string or binary field (two-byte length prefix). */
export const MAX_STRING_BYTES = 65_535;

/**
 * Decodes and validates the UTF-8 string in `buf[start, end)`: well-formed, no surrogates
 * [MQTT-1.5.3-1]/[MQTT-1.5.4-1], no U+0000 [MQTT-1.5.3-2]/[MQTT-1.5.4-2]. A BOM (EF BB BF) is
 * kept as U+FEFF [MQTT-1.5.3-3]/[MQTT-1.5.4-3]. Short ASCII strings (the common case for topics
 * and client ids) are scanned in JS and sliced as latin1, which is cheaper than full UTF-8 decoding.
 */
export function decodeUtf8(buf: Buffer, start: number, end: number): string {
  if (end - start <= 32) {
    let i = start;
    while (i < end) {
      const b = buf[i] as number;
      if (b === 0 || b >= 0x80) break;
      i++;
    }
    if (i === end) return latin1Slice(buf, start, end);
  }
  return decodeUtf8Slow(buf, start, end);
}

function decodeUtf8Slow(buf: Buffer, start: number, end: number): string {
  const view = buf.subarray(start, end);
  if (view.indexOf(0) !== -1) throw malformed(ErrorCode.Utf8Null, 'UTF-8 string contains U+0000 [MQTT-1.5.3-2] [MQTT-1.5.4-2]');
  if (!isUtf8(view)) throw malformed(ErrorCode.Utf8Invalid, 'ill-formed UTF-8 string [MQTT-1.5.3-1] [MQTT-1.5.4-1]');
  return utf8Slice(buf, start, end);
}

/**
 * UTF-8 byte length of `s`, validated for encoding: no U+0000, no lone surrogates (which
 * would be silently replaced by U+FFFD), at most 65,535 bytes.
 */
export function utf8Length(s: string, what: string): number {
  if (typeof s !== 'string') throw new MqttPacketError(ErrorCode.InvalidArgument, 0x80, `${what} must be a string`);
  const n = Buffer.byteLength(s, 'utf8');
  if (n !== s.length && !(s as unknown as WellFormed).isWellFormed()) {
    throw new MqttPacketError(ErrorCode.Utf8Invalid, 0x81, `${what} contains a lone surrogate [MQTT-1.5.4-1]`);
  }
  if (n > MAX_STRING_BYTES) throw new MqttPacketError(ErrorCode.StringTooLong, 0x80, `${what} is longer than 65,535 bytes`);
  if (s.indexOf('\0') !== -1) throw new MqttPacketError(ErrorCode.Utf8Null, 0x81, `${what} contains U+0000 [MQTT-1.5.4-2]`);
  return n;
}

/**
 * Writes `s` (whose UTF-8 length `n` was computed by {@link utf8Length}) at `off` without the
 * length prefix; returns the offset after it. Short ASCII strings are copied char by char.
 */
export function writeUtf8(buf: Buffer, off: number, s: string, n: number): number {
  if (n === s.length && n <= 256) {
    for (let i = 0; i < n; i++) buf[off + i] = s.charCodeAt(i);
    return off + n;
  }
  utf8Write(buf, s, off);
  return off + n;
}

/** Writes a two-byte length prefix followed by the string bytes. */
export function writeString(buf: Buffer, off: number, s: string, n: number): number {
  buf[off] = n >>> 8;
  buf[off + 1] = n & 0xff;
  return writeUtf8(buf, off + 2, s, n);
}
