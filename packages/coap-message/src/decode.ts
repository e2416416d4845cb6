import { CoapMessageError, type PartialHeader } from './errors.js';
import type { DecodedMessage } from './message.js';
import { asBuffer, readOptions } from './option-codec.js';
import type { MessageType } from './types.js';

/** The fixed 4-byte header (RFC 7252 §3). */
export interface MessageHeader {
  version: number;
  type: MessageType;
  tokenLength: number;
  code: number;
  messageId: number;
}

/** Reads the 4-byte header without validating anything after it. */
export function decodeHeader(data: Uint8Array): MessageHeader {
  if (data.length < 4) throw new CoapMessageError('ERR_COAP_TRUNCATED', `datagram of ${data.length} bytes is shorter than the header`);
  const b0 = data[0] as number;
  return {
    version: b0 >> 6,
    type: ((b0 >> 4) & 3) as MessageType,
    tokenLength: b0 & 0x0f,
    code: data[1] as number,
    messageId: ((data[2] as number) << 8) | (data[3] as number),
  };
}

/**
 * Decodes one datagram strictly. Values in the result are views into `data` (no copies); copy
 * them if `data` will be reused. Errors after the header carry it in `error.header`, so a
 * receiver can answer a malformed CON with RST (RFC 7252 §4.2).
 */
export function decode(data: Uint8Array): DecodedMessage {
  const buf = asBuffer(data);
  const len = buf.length;
  if (len < 4) throw new CoapMessageError('ERR_COAP_TRUNCATED', `datagram of ${len} bytes is shorter than the header`);
  const b0 = buf[0] as number;
  const type = ((b0 >> 4) & 3) as MessageType;
  const code = buf[1] as number;
  const messageId = ((buf[2] as number) << 8) | (buf[3] as number);
  const header: PartialHeader = { type, code, messageId };
  if (b0 >> 6 !== 1) throw new CoapMessageError('ERR_COAP_VERSION', `unsupported CoAP version ${b0 >> 6}`, header);
  const tkl = b0 & 0x0f;
  if (code === 0) {
    if (tkl !== 0 || len !== 4)
      throw new CoapMessageError('ERR_COAP_EMPTY_MESSAGE', 'an Empty message (0.00) carries bytes after the header', header);
    return { type, code, messageId, token: buf.subarray(4, 4), options: [], payload: buf.subarray(4, 4) };
  }
  if (tkl > 8) throw new CoapMessageError('ERR_COAP_TOKEN_LENGTH', `reserved token length ${tkl}`, header);
  if (4 + tkl > len) throw new CoapMessageError('ERR_COAP_TRUNCATED', 'token runs past the end of the message', header);
  const { options, payload } = readOptions(buf, 4 + tkl, len, header);
  return { type, code, messageId, token: buf.subarray(4, 4 + tkl), options, payload };
}
