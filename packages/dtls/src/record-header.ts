/** DTLS record content types (RFC 6347 §4.1 / RFC 5246 §6.2.1). */
export const ContentType = { ChangeCipherSpec: 20, Alert: 21, Handshake: 22, ApplicationData: 23 } as const;

/** DTLS 1.2 on the wire (RFC 6347 §4.1: version is the 1's complement of 1.2). */
export const DTLS_1_2 = 0xfefd;
/** DTLS 1.0, used in HelloVerifyRequest for compatibility (RFC 6347 §4.2.1). */
export const DTLS_1_0 = 0xfeff;
/** Bytes in a DTLS record header. */
export const RECORD_HEADER_SIZE = 13;

export interface RecordHeader {
  type: number;
  version: number;
  epoch: number;
  /** 48-bit sequence number; safe as a JS number (< 2^53). */
  sequence: number;
  length: number;
}

/** Writes a 13-byte record header at `offset`. */
export function writeRecordHeader(buf: Uint8Array, offset: number, h: RecordHeader): void {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  v.setUint8(offset, h.type);
  v.setUint16(offset + 1, h.version);
  v.setUint16(offset + 3, h.epoch);
  v.setUint16(offset + 5, Math.floor(h.sequence / 2 ** 32));
  v.setUint32(offset + 7, h.sequence >>> 0);
  v.setUint16(offset + 11, h.length);
}

/** Reads a record header at `offset`, or `undefined` if fewer than 13 bytes remain. */
export function readRecordHeader(buf: Uint8Array, offset: number): RecordHeader | undefined {
  if (buf.byteLength - offset < RECORD_HEADER_SIZE) return undefined;
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    type: v.getUint8(offset),
    version: v.getUint16(offset + 1),
    epoch: v.getUint16(offset + 3),
    sequence: v.getUint16(offset + 5) * 2 ** 32 + v.getUint32(offset + 7),
    length: v.getUint16(offset + 11),
  };
}
