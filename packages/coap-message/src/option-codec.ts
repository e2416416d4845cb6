// Option and payload encoding shared by the UDP (RFC 7252) and reliable-transport (RFC 8323)
// framings: everything after the token is identical in both.
import { CoapMessageError, type PartialHeader } from './errors.js';
import type { CoapOption, DecodedOption } from './message.js';

const EMPTY_BUFFER = Buffer.alloc(0);

/** Options sorted by number; returns the same array when it already is (the common case). */
export function sortedOptions(options: readonly CoapOption[]): readonly CoapOption[] {
  for (let i = 1; i < options.length; i++) {
    if ((options[i] as CoapOption).number < (options[i - 1] as CoapOption).number) {
      // Array.prototype.sort is stable, so repeated options keep their relative order.
      return [...options].sort((a, b) => a.number - b.number);
    }
  }
  return options;
}

function nibbleExtra(v: number): number {
  return v < 13 ? 0 : v < 269 ? 1 : 2;
}

/** Bytes the options (already sorted) and the payload (with its marker) take. */
export function optionsLength(options: readonly CoapOption[], payloadLength: number): number {
  let n = 0;
  let prev = 0;
  for (let i = 0; i < options.length; i++) {
    const o = options[i] as CoapOption;
    const num = o.number;
    if (!Number.isInteger(num) || num < 1 || num > 65535 || num < prev) {
      throw new CoapMessageError('ERR_COAP_OPTION', `invalid option number ${num}`);
    }
    const len = o.value.length;
    if (len > 65535 + 269) throw new CoapMessageError('ERR_COAP_OPTION', `option ${num} value of ${len} bytes is too long`);
    n += 1 + nibbleExtra(num - prev) + nibbleExtra(len) + len;
    prev = num;
  }
  return payloadLength > 0 ? n + 1 + payloadLength : n;
}

function writeExtended(target: Uint8Array, at: number, v: number): number {
  if (v < 13) return at;
  if (v < 269) {
    target[at] = v - 13;
    return at + 1;
  }
  const x = v - 269;
  target[at] = x >> 8;
  target[at + 1] = x & 0xff;
  return at + 2;
}

function nibble(v: number): number {
  return v < 13 ? v : v < 269 ? 13 : 14;
}

/** Writes sorted options and the payload at `at`; returns the offset after them. */
export function writeOptions(target: Uint8Array, at: number, options: readonly CoapOption[], payload: Uint8Array): number {
  let prev = 0;
  let p = at;
  for (let i = 0; i < options.length; i++) {
    const o = options[i] as CoapOption;
    const delta = o.number - prev;
    const len = o.value.length;
    target[p++] = (nibble(delta) << 4) | nibble(len);
    p = writeExtended(target, p, delta);
    p = writeExtended(target, p, len);
    if (len === 1) target[p] = o.value[0] as number;
    else if (len > 0) target.set(o.value, p);
    p += len;
    prev = o.number;
  }
  if (payload.length > 0) {
    target[p++] = 0xff;
    target.set(payload, p);
    p += payload.length;
  }
  return p;
}

/**
 * Reads options and the payload from `data[start, end)`. Strict: reserved nibbles, a truncated
 * option, an option number above 65535 and a payload marker with no payload are format errors.
 */
export function readOptions(
  data: Buffer,
  start: number,
  end: number,
  header: PartialHeader | undefined,
): { options: DecodedOption[]; payload: Buffer } {
  const options: DecodedOption[] = [];
  let i = start;
  let num = 0;
  while (i < end) {
    const b = data[i++] as number;
    if (b === 0xff) {
      if (i === end) throw new CoapMessageError('ERR_COAP_EMPTY_PAYLOAD', 'payload marker followed by an empty payload', header);
      return { options, payload: data.subarray(i, end) };
    }
    let delta = b >> 4;
    let len = b & 0x0f;
    if (delta === 15 || len === 15) throw new CoapMessageError('ERR_COAP_OPTION_NIBBLE', 'reserved option nibble 15', header);
    if (delta === 13) {
      if (i >= end) throw truncated(header);
      delta = (data[i++] as number) + 13;
    } else if (delta === 14) {
      if (i + 1 >= end) throw truncated(header);
      delta = (((data[i] as number) << 8) | (data[i + 1] as number)) + 269;
      i += 2;
    }
    if (len === 13) {
      if (i >= end) throw truncated(header);
      len = (data[i++] as number) + 13;
    } else if (len === 14) {
      if (i + 1 >= end) throw truncated(header);
      len = (((data[i] as number) << 8) | (data[i + 1] as number)) + 269;
      i += 2;
    }
    if (i + len > end) throw truncated(header);
    num += delta;
    if (num > 65535) throw new CoapMessageError('ERR_COAP_OPTION', `option number ${num} above 65535`, header);
    options.push({ number: num, value: data.subarray(i, i + len) });
    i += len;
  }
  return { options, payload: EMPTY_BUFFER };
}

function truncated(header: PartialHeader | undefined): CoapMessageError {
  return new CoapMessageError('ERR_COAP_TRUNCATED', 'option runs past the end of the message', header);
}

/** Views any Uint8Array as a Buffer without copying. */
export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
