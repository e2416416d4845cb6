import type { RecordCipher } from './aead.js';
import { ContentType, DTLS_1_0, DTLS_1_2, RECORD_HEADER_SIZE, writeRecordHeader } from './record-header.js';

/** One record as it arrived: header fields plus a view of the (possibly encrypted) fragment. */
export interface InboundRecord {
  type: number;
  version: number;
  epoch: number;
  sequence: number;
  fragment: Buffer;
}

/** RFC 6347 §4.1 / RFC 5246 §6.2.3: a ciphertext fragment may not exceed 2^14 + 2048 bytes. */
export const MAX_CIPHERTEXT = 16384 + 2048;

export type RecordParseOutcome = 'ok' | 'truncated';

/**
 * Splits a datagram into records (several may share a datagram; none spans two). Records with a
 * bad content type or version are skipped and counted by the caller through `onInvalid`; a
 * truncated tail stops parsing (nothing after it can be framed).
 */
export function parseRecords(
  datagram: Buffer,
  onRecord: (r: InboundRecord) => void,
  onInvalid: (reason: 'malformed') => void,
): RecordParseOutcome {
  let off = 0;
  while (off < datagram.length) {
    if (datagram.length - off < RECORD_HEADER_SIZE) return 'truncated';
    const type = datagram[off]!;
    const version = datagram.readUInt16BE(off + 1);
    const epoch = datagram.readUInt16BE(off + 3);
    const sequence = datagram.readUInt16BE(off + 5) * 0x1_0000_0000 + datagram.readUInt32BE(off + 7);
    const length = datagram.readUInt16BE(off + 11);
    const start = off + RECORD_HEADER_SIZE;
    if (start + length > datagram.length) return 'truncated';
    off = start + length;
    const typeOk = type >= ContentType.ChangeCipherSpec && type <= ContentType.ApplicationData;
    // DTLS 1.0 record versions are tolerated at epoch 0 only (early ClientHellos, HelloVerifyRequest).
    const versionOk = version === DTLS_1_2 || (version === DTLS_1_0 && epoch === 0);
    if (!typeOk || !versionOk || length > MAX_CIPHERTEXT) {
      onInvalid('malformed');
      continue;
    }
    onRecord({ type, version, epoch, sequence, fragment: datagram.subarray(start, start + length) });
  }
  return 'ok';
}

/** The write side of one epoch: its sequence counter and (from epoch 1) its cipher. */
export interface WriteState {
  readonly epoch: number;
  /** Next sequence number to use. */
  seq: number;
  readonly cipher: RecordCipher | undefined;
}

/** Bytes a record of `payloadLength` plaintext bytes takes on the wire in `state`. */
export function recordSize(state: WriteState, payloadLength: number): number {
  return RECORD_HEADER_SIZE + payloadLength + (state.cipher ? state.cipher.overhead : 0);
}

/** The 48-bit sequence space is exhausted; the session must end rather than reuse a nonce. */
export const MAX_SEQUENCE = 2 ** 48 - 1;

/** Writes one record (protecting it when the epoch has a cipher); returns bytes written. */
export function writeRecord(out: Buffer, offset: number, state: WriteState, type: number, payload: Uint8Array, version = DTLS_1_2): number {
  const seq = state.seq++;
  let length: number;
  if (state.cipher) length = state.cipher.sealInto(state.epoch, seq, type, version, payload, out, offset + RECORD_HEADER_SIZE);
  else {
    out.set(payload, offset + RECORD_HEADER_SIZE);
    length = payload.length;
  }
  writeRecordHeader(out, offset, { type, version, epoch: state.epoch, sequence: seq, length });
  return RECORD_HEADER_SIZE + length;
}
