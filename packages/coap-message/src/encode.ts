import { CoapMessageError } from './errors.js';
import type { CoapMessage, CoapOption } from './message.js';
import { optionsLength, sortedOptions, writeOptions } from './option-codec.js';

function checkHeader(msg: CoapMessage): void {
  const { type, code, messageId, token } = msg;
  if (!(type >= 0 && type <= 3 && Number.isInteger(type))) throw new CoapMessageError('ERR_COAP_FIELD', `invalid message type ${type}`);
  if (!(code >= 0 && code <= 255 && Number.isInteger(code))) throw new CoapMessageError('ERR_COAP_CODE', `invalid code ${code}`);
  if (!(messageId >= 0 && messageId <= 0xffff && Number.isInteger(messageId))) {
    throw new CoapMessageError('ERR_COAP_FIELD', `invalid message ID ${messageId}`);
  }
  if (token.length > 8) throw new CoapMessageError('ERR_COAP_FIELD', `token of ${token.length} bytes (at most 8)`);
  if (code === 0 && (token.length > 0 || msg.options.length > 0 || msg.payload.length > 0)) {
    throw new CoapMessageError('ERR_COAP_EMPTY_MESSAGE', 'an Empty message (0.00) carries no token, options or payload');
  }
}

/** Size of the encoded message in bytes (options are sorted first if needed). */
export function encodedLength(msg: CoapMessage): number {
  return 4 + msg.token.length + optionsLength(sortedOptions(msg.options), msg.payload.length);
}

/**
 * Encodes into `target` at `offset` and returns the number of bytes written. Throws a
 * `CoapMessageError` for invalid fields and a RangeError if `target` is too small.
 */
export function encodeInto(msg: CoapMessage, target: Uint8Array, offset = 0): number {
  checkHeader(msg);
  const options = sortedOptions(msg.options);
  const total = 4 + msg.token.length + optionsLength(options, msg.payload.length);
  if (offset + total > target.length)
    throw new RangeError(`encoding needs ${total} bytes at offset ${offset}; target holds ${target.length}`);
  writeAt(msg, options, target, offset);
  return total;
}

/** Encodes a message into a Buffer of exactly its size. */
export function encode(msg: CoapMessage): Buffer {
  checkHeader(msg);
  const options = sortedOptions(msg.options);
  const total = 4 + msg.token.length + optionsLength(options, msg.payload.length);
  const out = Buffer.allocUnsafe(total);
  writeAt(msg, options, out, 0);
  return out;
}

function writeAt(msg: CoapMessage, options: readonly CoapOption[], target: Uint8Array, offset: number): void {
  const tkl = msg.token.length;
  target[offset] = 0x40 | (msg.type << 4) | tkl;
  target[offset + 1] = msg.code;
  target[offset + 2] = msg.messageId >> 8;
  target[offset + 3] = msg.messageId & 0xff;
  if (tkl > 0) target.set(msg.token, offset + 4);
  writeOptions(target, offset + 4 + tkl, options, msg.payload);
}

/** Encodes an Empty message (ACK, RST or a CON ping) in 4 bytes. */
export function encodeEmpty(type: number, messageId: number): Buffer {
  const out = Buffer.allocUnsafe(4);
  out[0] = 0x40 | (type << 4);
  out[1] = 0;
  out[2] = messageId >> 8;
  out[3] = messageId & 0xff;
  return out;
}
