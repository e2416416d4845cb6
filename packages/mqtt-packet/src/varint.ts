import { ErrorCode, MqttPacketError } from './errors.js';

/** Largest value a Variable Byte Integer can hold (four bytes) [MQTT-1.5.5]. */
export const VARINT_MAX = 268_435_455;

/** Number of bytes the Variable Byte Integer encoding of `value` takes. */
export function varintSize(value: number): number {
  if (value < 128) return 1;
  if (value < 16_384) return 2;
  if (value < 2_097_152) return 3;
  return 4;
}

/** Writes `value` as a Variable Byte Integer at `offset`; returns the offset after it. */
export function writeVarint(buf: Uint8Array, offset: number, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > VARINT_MAX) {
    throw new MqttPacketError(ErrorCode.VarintRange, 0x80, `variable byte integer out of range: ${value}`);
  }
  let v = value;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    buf[offset++] = byte;
  } while (v > 0);
  return offset;
}

/**
 * Reads a Variable Byte Integer at `offset`. Returns `undefined` when more bytes are needed,
 * or `[value, bytesRead]`. A fifth byte is malformed (3.1.1 §2.2.3, 5.0 §1.5.5), and so is a
 * longer-than-necessary encoding [MQTT-1.5.5-1].
 */
export function readVarint(buf: Uint8Array, offset: number, end = buf.length): [number, number] | undefined {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 4; i++) {
    if (offset + i >= end) return undefined;
    const byte = buf[offset + i] as number;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) {
      if (byte === 0 && i > 0) {
        throw new MqttPacketError(ErrorCode.VarintNotMinimal, 0x81, 'variable byte integer not in its shortest form [MQTT-1.5.5-1]');
      }
      return [value, i + 1];
    }
    multiplier *= 128;
  }
  throw new MqttPacketError(ErrorCode.VarintTooLong, 0x81, 'variable byte integer longer than 4 bytes (3.1.1 §2.2.3, 5.0 §1.5.5)');
}
