import type { MessageType } from './types.js';

/** One option: its number and its raw value bytes (see `option-values` for typed helpers). */
export interface CoapOption {
  readonly number: number;
  readonly value: Uint8Array;
}

/** A CoAP message (RFC 7252 §3). Decoded options are sorted by number, repeats in wire order. */
export interface CoapMessage {
  type: MessageType;
  /** 8-bit code (class × 32 + detail); see `codes`. */
  code: number;
  messageId: number;
  /** 0–8 bytes. */
  token: Uint8Array;
  options: CoapOption[];
  /** Empty when there is no payload. */
  payload: Uint8Array;
}

/** A decoded message; values are Buffers that share memory with the datagram. */
export interface DecodedMessage extends CoapMessage {
  token: Buffer;
  options: DecodedOption[];
  payload: Buffer;
}

export interface DecodedOption extends CoapOption {
  readonly value: Buffer;
}
