// RFC 8323 framing for CoAP over TCP/TLS (§3.2) and WebSockets (§4.2). There is no type or
// Message ID on reliable transports; the length nibble replaces them.
import { CoapMessageError } from './errors.js';
import type { CoapOption, DecodedOption } from './message.js';
import { asBuffer, optionsLength, readOptions, sortedOptions, writeOptions } from './option-codec.js';

/** A message on a reliable transport: code, token, options, payload. */
export interface CoapTcpMessage {
  code: number;
  token: Uint8Array;
  options: CoapOption[];
  payload: Uint8Array;
}

export interface DecodedTcpMessage extends CoapTcpMessage {
  token: Buffer;
  options: DecodedOption[];
  payload: Buffer;
}

/** Signaling codes (RFC 8323 §5). */
export const SignalCode = { CSM: 0xe1, Ping: 0xe2, Pong: 0xe3, Release: 0xe4, Abort: 0xe5 } as const;

/** Signaling option numbers; they are scoped to their signal code (RFC 8323 §5.3–5.6). */
export const SignalOption = {
  /** CSM: largest message the sender can receive (uint 0–4), default 1152. */
  MaxMessageSize: 2,
  /** CSM: the sender supports BERT (empty). */
  BlockWiseTransfer: 4,
  /** Ping/Pong: answer promptly (empty). */
  Custody: 2,
  /** Release: where to reconnect (string 1–255, repeatable). */
  AlternativeAddress: 2,
  /** Release: seconds to wait before reconnecting (uint 0–3). */
  HoldOff: 4,
  /** Abort: the CSM option that caused the abort (uint 0–2). */
  BadCsmOption: 2,
} as const;

/** Name of a signaling option, which depends on the signal it appears in. */
export function signalOptionName(code: number, number: number): string {
  if (code === SignalCode.CSM) return number === 2 ? 'Max-Message-Size' : number === 4 ? 'Block-Wise-Transfer' : `Option${number}`;
  if (code === SignalCode.Ping || code === SignalCode.Pong) return number === 2 ? 'Custody' : `Option${number}`;
  if (code === SignalCode.Release) return number === 2 ? 'Alternative-Address' : number === 4 ? 'Hold-Off' : `Option${number}`;
  if (code === SignalCode.Abort) return number === 2 ? 'Bad-CSM-Option' : `Option${number}`;
  return `Option${number}`;
}

/** RFC 8323 §5.3.1: the Max-Message-Size assumed before a CSM arrives. */
export const DEFAULT_MAX_MESSAGE_SIZE = 1152;

function checkFields(msg: CoapTcpMessage): void {
  if (!(msg.code >= 0 && msg.code <= 255 && Number.isInteger(msg.code)))
    throw new CoapMessageError('ERR_COAP_CODE', `invalid code ${msg.code}`);
  if (msg.token.length > 8) throw new CoapMessageError('ERR_COAP_FIELD', `token of ${msg.token.length} bytes (at most 8)`);
}

/** Encodes one message with TCP framing. */
export function encodeTcp(msg: CoapTcpMessage): Buffer {
  checkFields(msg);
  const options = sortedOptions(msg.options);
  const len = optionsLength(options, msg.payload.length);
  const ext = len < 13 ? 0 : len < 269 ? 1 : len < 65805 ? 2 : 4;
  const tkl = msg.token.length;
  const out = Buffer.allocUnsafe(1 + ext + 1 + tkl + len);
  let p = 1;
  if (ext === 0) out[0] = (len << 4) | tkl;
  else if (ext === 1) {
    out[0] = (13 << 4) | tkl;
    out[p++] = len - 13;
  } else if (ext === 2) {
    out[0] = (14 << 4) | tkl;
    out.writeUInt16BE(len - 269, p);
    p += 2;
  } else {
    out[0] = (15 << 4) | tkl;
    out.writeUInt32BE(len - 65805, p);
    p += 4;
  }
  out[p++] = msg.code;
  out.set(msg.token, p);
  writeOptions(out, p + tkl, options, msg.payload);
  return out;
}

/**
 * Decodes one TCP frame starting at `offset`. Returns `undefined` if more bytes are needed;
 * throws `ERR_COAP_FRAME_TOO_LARGE` when the frame would exceed `maxMessageSize`.
 */
export function decodeTcpFrame(
  data: Uint8Array,
  offset = 0,
  maxMessageSize = Number.POSITIVE_INFINITY,
): { message: DecodedTcpMessage; length: number } | undefined {
  const buf = asBuffer(data);
  if (buf.length - offset < 2) return undefined;
  const b0 = buf[offset] as number;
  const lenNibble = b0 >> 4;
  const tkl = b0 & 0x0f;
  if (tkl > 8) throw new CoapMessageError('ERR_COAP_TOKEN_LENGTH', `reserved token length ${tkl}`);
  const ext = lenNibble < 13 ? 0 : lenNibble === 13 ? 1 : lenNibble === 14 ? 2 : 4;
  if (buf.length - offset < 1 + ext) return undefined;
  let len = lenNibble;
  if (ext === 1) len = (buf[offset + 1] as number) + 13;
  else if (ext === 2) len = buf.readUInt16BE(offset + 1) + 269;
  else if (ext === 4) len = buf.readUInt32BE(offset + 1) + 65805;
  const total = 1 + ext + 1 + tkl + len;
  if (total > maxMessageSize) throw new CoapMessageError('ERR_COAP_FRAME_TOO_LARGE', `frame of ${total} bytes exceeds ${maxMessageSize}`);
  if (buf.length - offset < total) return undefined;
  const codeAt = offset + 1 + ext;
  const code = buf[codeAt] as number;
  const tokenAt = codeAt + 1;
  const end = offset + total;
  const { options, payload } = readOptions(buf, tokenAt + tkl, end, undefined);
  return { message: { code, token: buf.subarray(tokenAt, tokenAt + tkl), options, payload }, length: total };
}

/**
 * Splits a byte stream into CoAP-over-TCP messages. Buffers at most one partial frame, bounded
 * by `maxMessageSize`; a larger frame is an error (the connection should then be aborted with
 * a 7.05 Abort, RFC 8323 §5.6).
 */
export class TcpFrameReader {
  #pending: Buffer | undefined;

  constructor(readonly maxMessageSize: number = DEFAULT_MAX_MESSAGE_SIZE) {}

  /** Feeds a chunk and returns the complete messages it finished. */
  push(chunk: Uint8Array): DecodedTcpMessage[] {
    let buf = this.#pending ? Buffer.concat([this.#pending, chunk]) : asBuffer(chunk);
    const out: DecodedTcpMessage[] = [];
    let offset = 0;
    for (;;) {
      const r = decodeTcpFrame(buf, offset, this.maxMessageSize);
      if (!r) break;
      out.push(r.message);
      offset += r.length;
    }
    if (offset < buf.length) {
      // Copy the remainder so it does not pin the caller's (possibly large) chunk.
      buf = Buffer.from(buf.subarray(offset));
      this.#pending = buf;
    } else this.#pending = undefined;
    return out;
  }

  /** Bytes of an incomplete frame held back. */
  get bufferedBytes(): number {
    return this.#pending?.length ?? 0;
  }
}

/** Encodes one message for a WebSocket frame: length nibble 0, no extended length (RFC 8323 §4.2). */
export function encodeWs(msg: CoapTcpMessage): Buffer {
  checkFields(msg);
  const options = sortedOptions(msg.options);
  const tkl = msg.token.length;
  const out = Buffer.allocUnsafe(2 + tkl + optionsLength(options, msg.payload.length));
  out[0] = tkl;
  out[1] = msg.code;
  out.set(msg.token, 2);
  writeOptions(out, 2 + tkl, options, msg.payload);
  return out;
}

/** Decodes the payload of one WebSocket frame; a non-zero length nibble is a format error. */
export function decodeWs(data: Uint8Array): DecodedTcpMessage {
  const buf = asBuffer(data);
  if (buf.length < 2) throw new CoapMessageError('ERR_COAP_TRUNCATED', 'WebSocket CoAP message shorter than 2 bytes');
  const b0 = buf[0] as number;
  if (b0 >> 4 !== 0) throw new CoapMessageError('ERR_COAP_FIELD', 'length nibble must be 0 over WebSockets');
  const tkl = b0 & 0x0f;
  if (tkl > 8) throw new CoapMessageError('ERR_COAP_TOKEN_LENGTH', `reserved token length ${tkl}`);
  if (2 + tkl > buf.length) throw new CoapMessageError('ERR_COAP_TRUNCATED', 'token runs past the end of the message');
  const { options, payload } = readOptions(buf, 2 + tkl, buf.length, undefined);
  return { code: buf[1] as number, token: buf.subarray(2, 2 + tkl), options, payload };
}
