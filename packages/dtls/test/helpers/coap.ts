/**
 * A hand-coded CoAP minimum for DTLS-level interop tests (the real CoAP stack is another
 * package): a GET datagram, and a responder that answers any request with 2.05 Content.
 */

/** A confirmable GET for `/` with a one-byte token. */
export function coapGet(messageId: number, token = 0x5a): Buffer {
  return Buffer.from([0x41, 0x01, (messageId >> 8) & 0xff, messageId & 0xff, token]);
}

export interface CoapHeader {
  type: number;
  code: number;
  messageId: number;
  token: Buffer;
  payload: Buffer;
}

export function parseCoap(d: Buffer): CoapHeader | undefined {
  if (d.length < 4 || d[0]! >> 6 !== 1) return undefined;
  const tkl = d[0]! & 0x0f;
  if (tkl > 8 || d.length < 4 + tkl) return undefined;
  const marker = d.indexOf(0xff, 4 + tkl);
  return {
    type: (d[0]! >> 4) & 0x03,
    code: d[1]!,
    messageId: d.readUInt16BE(2),
    token: d.subarray(4, 4 + tkl),
    payload: marker >= 0 ? d.subarray(marker + 1) : Buffer.alloc(0),
  };
}

/** The reply to a request: piggybacked ACK for CON, NON for NON, 2.05 with `payload`. */
export function coapContentReply(req: CoapHeader, payload: string): Buffer {
  const type = req.type === 0 ? 2 : 1;
  const head = Buffer.from([0x40 | (type << 4) | req.token.length, 0x45, (req.messageId >> 8) & 0xff, req.messageId & 0xff]);
  return Buffer.concat([head, req.token, Buffer.from([0xff]), Buffer.from(payload)]);
}
