import { CoapMessageError } from './errors.js';
import type { CoapMessage, CoapOption } from './message.js';

const EMPTY = new Uint8Array(0);
const MAX_UINT = 2 ** 48 - 1;

/** Number of bytes a uint option value needs (0 needs none, RFC 7252 §3.2). */
export function uintLength(value: number): number {
  if (value === 0) return 0;
  if (value < 0x100) return 1;
  if (value < 0x10000) return 2;
  if (value < 0x1000000) return 3;
  if (value < 0x100000000) return 4;
  if (value < 0x10000000000) return 5;
  return 6;
}

/** Encodes a non-negative integer (up to 2^48 − 1) in the fewest bytes, big-endian. */
export function encodeUint(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > MAX_UINT) {
    throw new CoapMessageError('ERR_COAP_OPTION', `uint option value out of range: ${value}`);
  }
  const n = uintLength(value);
  if (n === 0) return EMPTY;
  const out = new Uint8Array(n);
  let v = value;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** Decodes a big-endian uint; leading zero bytes are accepted. At most 6 bytes. */
export function decodeUint(bytes: Uint8Array): number {
  if (bytes.length > 6) throw new CoapMessageError('ERR_COAP_OPTION', `uint value of ${bytes.length} bytes is too long`);
  let v = 0;
  for (let i = 0; i < bytes.length; i++) v = v * 256 + (bytes[i] as number);
  return v;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** Builds an option from a uint value. */
export function uintOption(number: number, value: number): CoapOption {
  return { number, value: encodeUint(value) };
}

/** Builds an option from a string (UTF-8; RFC 7252 asks for Net-Unicode, i.e. NFC). */
export function stringOption(number: number, value: string): CoapOption {
  return { number, value: encoder.encode(value) };
}

/** Builds an option from raw bytes. */
export function opaqueOption(number: number, value: Uint8Array): CoapOption {
  return { number, value };
}

/** Builds a zero-length option (If-None-Match, EDHOC). */
export function emptyOption(number: number): CoapOption {
  return { number, value: EMPTY };
}

/** The first option with this number, or `undefined`. */
export function getOption(msg: Pick<CoapMessage, 'options'>, number: number): CoapOption | undefined {
  const opts = msg.options;
  for (let i = 0; i < opts.length; i++) if ((opts[i] as CoapOption).number === number) return opts[i];
  return undefined;
}

/** Every option with this number, in message order. */
export function getOptions(msg: Pick<CoapMessage, 'options'>, number: number): CoapOption[] {
  return msg.options.filter((o) => o.number === number);
}

/** True if an option with this number is present. */
export function hasOption(msg: Pick<CoapMessage, 'options'>, number: number): boolean {
  return getOption(msg, number) !== undefined;
}

/** The first option's value decoded as uint, or `undefined` when absent. */
export function getUintOption(msg: Pick<CoapMessage, 'options'>, number: number): number | undefined {
  const o = getOption(msg, number);
  return o === undefined ? undefined : decodeUint(o.value);
}

/** The first option's value decoded as UTF-8, or `undefined` when absent. */
export function getStringOption(msg: Pick<CoapMessage, 'options'>, number: number): string | undefined {
  const o = getOption(msg, number);
  return o === undefined ? undefined : decoder.decode(o.value);
}

/** Every option with this number decoded as UTF-8 (Uri-Path segments, Uri-Query arguments). */
export function getStringOptions(msg: Pick<CoapMessage, 'options'>, number: number): string[] {
  const out: string[] = [];
  for (const o of msg.options) if (o.number === number) out.push(decoder.decode(o.value));
  return out;
}

/** Decodes bytes as UTF-8 (replacement characters for invalid sequences). */
export function utf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** Lower-case hex of bytes (ETags and tokens in logs and string helpers). */
export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += (bytes[i] as number).toString(16).padStart(2, '0');
  return s;
}

/** Parses even-length hex (an optional `0x` prefix is accepted). */
export function fromHex(hex: string): Uint8Array {
  const h = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new CoapMessageError('ERR_COAP_OPTION', `not hex: ${JSON.stringify(hex)}`);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(h.slice(i * 2, i * 2 + 2), 16);
  return out;
}
