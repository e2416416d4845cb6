// Block-wise transfer on the server side (RFC 7959, RFC 9175 Request-Tag): reassembling Block1
// bodies and slicing Block2 representations.
import {
  type BlockValue,
  blockSize,
  type CoapOption,
  type DecodedOption,
  decodeBlockOption,
  encodeBlock,
  encodeUint,
  OptionNumber,
  ResponseCode,
} from '@iotwire/coap-message';
import { BlockStore, type CachedBody, type Reassembly } from './block-store.js';
import type { PeerState } from './peers.js';

/** Key of a block-wise exchange: endpoint, method, target URI options and Request-Tag. */
export function blockKey(peer: PeerState, code: number, options: readonly DecodedOption[]): string {
  let k = `${peer.id}|${code}`;
  for (const o of options) {
    const n = o.number;
    if (
      n === OptionNumber.UriHost ||
      n === OptionNumber.UriPort ||
      n === OptionNumber.UriPath ||
      n === OptionNumber.UriQuery ||
      n === OptionNumber.RequestTag
    ) {
      k += `|${n}:${o.value.toString('hex')}`;
    }
  }
  return k;
}

/** Outcome of feeding one Block1 block. */
export type Block1Result =
  /** Not the last block: answer 2.31 Continue with this Block1 value. */
  | { kind: 'continue'; block: BlockValue }
  /** The last block: the whole body, and the Block1 value to echo in the final response. */
  | { kind: 'complete'; body: Buffer; block: BlockValue }
  /** Answer with this error code (and optional Size1 for 4.13). */
  | { kind: 'error'; code: number; message: string; size1?: number };

export class Block1Assembler {
  readonly store: BlockStore<Reassembly>;

  constructor(
    limits: { maxEntries: number; maxBytes: number; lifetimeMs: number },
    readonly maxBodySize: number,
    /** Our preferred SZX: a client sending larger blocks is told to shrink (RFC 7959 §2.3). */
    readonly szx: number,
  ) {
    this.store = new BlockStore<Reassembly>(limits, (r) => r.received);
  }

  feed(key: string, raw: Uint8Array, payload: Buffer, size1: number | undefined, now: number): Block1Result {
    let b: BlockValue;
    try {
      b = decodeBlockOption(raw);
    } catch {
      return { kind: 'error', code: ResponseCode.BadRequest, message: 'invalid Block1 option' };
    }
    const size = blockSize(b.szx);
    const offset = b.num * size;
    if (b.more && payload.length !== size)
      return { kind: 'error', code: ResponseCode.BadRequest, message: 'Block1 payload does not match its size' };
    let r = this.store.get(key, now);
    if (b.num === 0) {
      if (size1 !== undefined && size1 > this.maxBodySize) {
        this.store.delete(key);
        return {
          kind: 'error',
          code: ResponseCode.RequestEntityTooLarge,
          message: `body of ${size1} bytes exceeds ${this.maxBodySize}`,
          size1: this.maxBodySize,
        };
      }
      if (!b.more) {
        this.store.delete(key);
        return { kind: 'complete', body: payload, block: b };
      }
      r = { chunks: [], received: 0, expected: size1, lastActive: now };
      if (!this.store.set(key, r, now))
        return { kind: 'error', code: ResponseCode.ServiceUnavailable, message: 'no room for another block-wise transfer' };
    } else if (r === undefined) {
      return { kind: 'error', code: ResponseCode.RequestEntityIncomplete, message: 'Block1 transfer unknown or expired' };
    }
    if (offset < r.received) {
      // A retransmitted block under a new Message ID (libcoap resends with a fresh token): re-acknowledge it.
      return b.more
        ? { kind: 'continue', block: this.#ack(b) }
        : { kind: 'error', code: ResponseCode.RequestEntityIncomplete, message: 'duplicate final block' };
    }
    if (offset > r.received) {
      this.store.delete(key);
      return {
        kind: 'error',
        code: ResponseCode.RequestEntityIncomplete,
        message: `Block1 gap: expected offset ${r.received}, got ${offset}`,
      };
    }
    const old = r.received;
    r.chunks.push(payload.length > 0 ? Buffer.from(payload) : payload);
    r.received += payload.length;
    if (r.received > this.maxBodySize) {
      this.store.delete(key);
      return {
        kind: 'error',
        code: ResponseCode.RequestEntityTooLarge,
        message: `body exceeds ${this.maxBodySize} bytes`,
        size1: this.maxBodySize,
      };
    }
    if (b.more) {
      if (!this.store.touch(key, r, old, now))
        return { kind: 'error', code: ResponseCode.RequestEntityTooLarge, message: 'block-wise storage full' };
      return { kind: 'continue', block: this.#ack(b) };
    }
    this.store.delete(key);
    return { kind: 'complete', body: Buffer.concat(r.chunks, r.received), block: b };
  }

  #ack(b: BlockValue): BlockValue {
    // Echo the block number; a smaller SZX asks the client to shrink its next blocks, whose
    // number it derives from the bytes already sent (RFC 7959 §2.3, Figure 6).
    return { num: b.num, more: true, szx: Math.min(b.szx, this.szx) };
  }
}

/** A 4-byte FNV-1a digest of a body, used as ETag when the application gave none. */
export function autoEtag(body: Uint8Array): Uint8Array {
  let h = 0x811c9dc5;
  for (let i = 0; i < body.length; i++) h = Math.imul(h ^ (body[i] as number), 0x01000193);
  const out = new Uint8Array(4);
  out[0] = h >>> 24;
  out[1] = (h >>> 16) & 0xff;
  out[2] = (h >>> 8) & 0xff;
  out[3] = h & 0xff;
  return out;
}

export function newBlock2Cache(limits: { maxEntries: number; maxBytes: number; lifetimeMs: number }): BlockStore<CachedBody> {
  return new BlockStore<CachedBody>(limits, (c) => c.body.length);
}

/** The options and payload of block `num` (SZX `szx`) of `body`, or undefined if past the end. */
export function sliceBlock(
  body: Buffer,
  num: number,
  szx: number,
  baseOptions: readonly CoapOption[],
): { options: CoapOption[]; payload: Buffer } | undefined {
  const size = blockSize(szx);
  const start = num * size;
  if (start >= body.length && !(start === 0 && body.length === 0)) return undefined;
  const end = Math.min(body.length, start + size);
  const more = end < body.length;
  const options = [
    ...baseOptions,
    { number: OptionNumber.Block2, value: encodeUint(encodeBlock({ num, more, szx })) },
    { number: OptionNumber.Size2, value: encodeUint(body.length) },
  ];
  return { options, payload: body.subarray(start, end) };
}
