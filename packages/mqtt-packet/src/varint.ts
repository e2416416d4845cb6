import { MqttPacketError, ReasonCode } from './errors.js';

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
    throw new MqttPacketError('ERR_VARINT_RANGE', ReasonCode.MalformedPacket, `variable byte integer out of range: ${value}`);
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
 * or `[value, bytesRead]`. A fifth continuation byte is malformed [MQTT-1.5.5-1].
 */
export function readVarint(buf: Uint8Array, offset: number, end = buf.length): [number, number] | undefined {
  let value = 0;
  let multiplier = 1;
  for (let i = 0; i < 4; i++) {
    if (offset + i >= end) return undefined;
    const byte = buf[offset + i] as number;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return [value, i + 1];
    multiplier *= 128;
  }
  throw new MqttPacketError('ERR_VARINT_TOO_LONG', ReasonCode.MalformedPacket, 'variable byte integer longer than 4 bytes [MQTT-1.5.5-1]');
}
