import { CoapMessageError } from './errors.js';
import type { CoapOption } from './message.js';
import { encodeUint } from './option-values.js';

/** A Block1/Block2 value (RFC 7959 §2.2). */
export interface BlockValue {
  /** Block number, 0 to 2^20 − 1. */
  num: number;
  /** More blocks follow (M bit). */
  more: boolean;
  /** Size exponent: size = 2^(szx + 4), 0–6; 7 is BERT (RFC 8323) on reliable transports only. */
  szx: number;
}

export const MAX_BLOCK_NUM = 0xfffff;

/** Block size in bytes for a size exponent (BERT, szx 7, uses 1024-byte units). */
export function blockSize(szx: number): number {
  return szx === 7 ? 1024 : 1 << (szx + 4);
}

/** Size exponent for a block size of 16–1024 bytes (a power of two). */
export function szxFromSize(size: number): number {
  const szx = Math.log2(size) - 4;
  if (!Number.isInteger(szx) || szx < 0 || szx > 6) {
    throw new CoapMessageError('ERR_COAP_BLOCK', `block size must be a power of two from 16 to 1024, got ${size}`);
  }
  return szx;
}

/** The uint value of a Block option. */
export function encodeBlock(block: BlockValue, options: { bert?: boolean } = {}): number {
  const { num, more, szx } = block;
  if (!Number.isInteger(num) || num < 0 || num > MAX_BLOCK_NUM)
    throw new CoapMessageError('ERR_COAP_BLOCK', `block number out of range: ${num}`);
  if (!Number.isInteger(szx) || szx < 0 || szx > (options.bert ? 7 : 6)) throw new CoapMessageError('ERR_COAP_BLOCK', `invalid SZX ${szx}`);
  return num * 16 + (more ? 8 : 0) + szx;
}

/**
 * Decodes a Block option value. SZX 7 is reserved on UDP and rejected unless `bert` is set
 * (RFC 7959 §2.2: a request with it gets 4.00).
 */
export function decodeBlock(value: number, options: { bert?: boolean } = {}): BlockValue {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffff)
    throw new CoapMessageError('ERR_COAP_BLOCK', `block value out of range: ${value}`);
  const szx = value & 7;
  if (szx === 7 && !options.bert) throw new CoapMessageError('ERR_COAP_BLOCK', 'SZX 7 is reserved outside BERT');
  return { num: Math.floor(value / 16), more: (value & 8) !== 0, szx };
}

/** Decodes the raw bytes of a Block option (0–3 bytes). */
export function decodeBlockOption(bytes: Uint8Array, options: { bert?: boolean } = {}): BlockValue {
  if (bytes.length > 3) throw new CoapMessageError('ERR_COAP_BLOCK', `block option of ${bytes.length} bytes`);
  let v = 0;
  for (let i = 0; i < bytes.length; i++) v = v * 256 + (bytes[i] as number);
  return decodeBlock(v, options);
}

/** Builds a Block1 (27) or Block2 (23) option. */
export function blockOption(number: 23 | 27, block: BlockValue, options: { bert?: boolean } = {}): CoapOption {
  return { number, value: encodeUint(encodeBlock(block, options)) };
}

/** The byte offset of a block: num × size. */
export function blockOffset(block: BlockValue): number {
  return block.num * blockSize(block.szx);
}
