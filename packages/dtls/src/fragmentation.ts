import { HANDSHAKE_HEADER_SIZE } from './constants.js';
import { type HandshakeFragment, writeHandshakeHeader } from './handshake-messages.js';
import { ContentType } from './record-header.js';

/** One item of an outgoing flight: a handshake message or a ChangeCipherSpec, in a given epoch. */
export type FlightItem =
  | { kind: 'handshake'; epoch: number; type: number; messageSeq: number; body: Buffer }
  | { kind: 'ccs'; epoch: number };

/** A record to be written: content type, epoch and plaintext payload. */
export interface PlannedRecord {
  epoch: number;
  type: number;
  payload: Buffer;
}

const CCS_BODY = Buffer.from([1]);

/**
 * Splits a flight into datagrams of at most `mtu` bytes (RFC 6347 §4.2.3): one handshake fragment
 * per record, as many records per datagram as fit. `recordOverhead(epoch)` is the header plus
 * cipher expansion of a record in that epoch. The plan holds plaintext only, so a retransmission
 * re-serialises it with fresh record sequence numbers.
 */
export function planFlight(items: readonly FlightItem[], mtu: number, recordOverhead: (epoch: number) => number): PlannedRecord[][] {
  const datagrams: PlannedRecord[][] = [];
  let cur: PlannedRecord[] = [];
  let size = 0;
  const flush = () => {
    if (cur.length) datagrams.push(cur);
    cur = [];
    size = 0;
  };
  for (const item of items) {
    const overhead = recordOverhead(item.epoch);
    if (item.kind === 'ccs') {
      if (size + overhead + 1 > mtu) flush();
      cur.push({ epoch: item.epoch, type: ContentType.ChangeCipherSpec, payload: CCS_BODY });
      size += overhead + 1;
      continue;
    }
    const { body } = item;
    let off = 0;
    for (;;) {
      const avail = mtu - size - overhead - HANDSHAKE_HEADER_SIZE;
      const remaining = body.length - off;
      // Start a fresh datagram rather than emit a sliver of a fragment (or no room at all).
      if (cur.length && (avail <= 0 || avail < Math.min(remaining, 64))) {
        flush();
        continue;
      }
      if (avail <= 0) throw new RangeError(`MTU ${mtu} cannot carry a handshake fragment`);
      const len = Math.min(remaining, avail);
      const payload = Buffer.allocUnsafe(HANDSHAKE_HEADER_SIZE + len);
      writeHandshakeHeader(payload, 0, {
        type: item.type,
        length: body.length,
        messageSeq: item.messageSeq,
        fragmentOffset: off,
        fragmentLength: len,
      });
      body.copy(payload, HANDSHAKE_HEADER_SIZE, off, off + len);
      cur.push({ epoch: item.epoch, type: ContentType.Handshake, payload });
      size += overhead + HANDSHAKE_HEADER_SIZE + len;
      off += len;
      if (off >= body.length) break; // an empty message still gets its one (empty) fragment
    }
  }
  flush();
  return datagrams;
}

/** A complete, reassembled handshake message. */
export interface HandshakeMessage {
  type: number;
  messageSeq: number;
  body: Buffer;
  /** Epoch of the record(s) it arrived in. */
  epoch: number;
}

interface Partial {
  type: number;
  length: number;
  epoch: number;
  body: Buffer;
  /** Sorted, merged [start, end) ranges received so far, flattened. */
  ranges: number[];
  complete: boolean;
  /** True when `body` was allocated here (counts towards bufferedBytes). */
  owned: boolean;
}

export type FragmentOutcome = 'old' | 'buffered' | 'complete' | 'dropped';

/**
 * Reassembles handshake messages from fragments (RFC 6347 §4.2.3), tolerating duplicates and
 * overlaps (retransmissions re-fragment differently), and delivers them strictly in message_seq
 * order. Bounded: messages beyond `maxMessageSize`, or too far ahead of the next expected
 * sequence number, are dropped.
 */
export class Reassembler {
  #next = 0;
  readonly #pending = new Map<number, Partial>();
  #buffered = 0;

  constructor(
    private readonly maxMessageSize = 16384,
    private readonly window = 10,
    private readonly maxBufferedBytes = 2 * maxMessageSize,
  ) {}

  /** The next message_seq to be delivered. */
  get nextSeq(): number {
    return this.#next;
  }
  set nextSeq(seq: number) {
    this.#next = seq;
    for (const k of this.#pending.keys()) if (k < seq) this.#drop(k);
  }

  /** Bytes held in partially received messages. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  add(f: HandshakeFragment, epoch: number): FragmentOutcome {
    if (f.messageSeq < this.#next) return 'old';
    if (f.messageSeq >= this.#next + this.window || f.length > this.maxMessageSize) return 'dropped';
    let p = this.#pending.get(f.messageSeq);
    if (!p) {
      if (f.fragmentOffset === 0 && f.fragmentLength === f.length) {
        // Unfragmented: keep the view, no copy.
        p = { type: f.type, length: f.length, epoch, body: f.fragment, ranges: [0, f.length], complete: true, owned: false };
        this.#pending.set(f.messageSeq, p);
        return 'complete';
      }
      if (this.#buffered + f.length > this.maxBufferedBytes) return 'dropped';
      p = { type: f.type, length: f.length, epoch, body: Buffer.alloc(f.length), ranges: [], complete: false, owned: true };
      this.#pending.set(f.messageSeq, p);
      this.#buffered += f.length;
    } else if (p.type !== f.type || p.length !== f.length || p.epoch !== epoch) {
      return 'dropped'; // inconsistent with earlier fragments of this message
    }
    if (p.complete) return 'complete';
    f.fragment.copy(p.body, f.fragmentOffset);
    p.ranges = mergeRange(p.ranges, f.fragmentOffset, f.fragmentOffset + f.fragmentLength);
    if (p.ranges.length === 2 && p.ranges[0] === 0 && p.ranges[1] === p.length) {
      p.complete = true;
      return 'complete';
    }
    return 'buffered';
  }

  /** The next in-order complete message, if it has fully arrived. */
  take(): HandshakeMessage | undefined {
    const p = this.#pending.get(this.#next);
    if (!p?.complete) return undefined;
    this.#drop(this.#next);
    return { type: p.type, messageSeq: this.#next++, body: p.body, epoch: p.epoch };
  }

  clear(): void {
    this.#pending.clear();
    this.#buffered = 0;
  }

  #drop(seq: number): void {
    const p = this.#pending.get(seq);
    if (!p) return;
    if (p.owned) this.#buffered -= p.length;
    this.#pending.delete(seq);
  }
}

/** Inserts [s, e) into a sorted list of disjoint ranges, merging overlaps and neighbours. */
export function mergeRange(ranges: number[], s: number, e: number): number[] {
  if (e <= s) return ranges;
  const out: number[] = [];
  let i = 0;
  while (i < ranges.length && ranges[i + 1]! < s) {
    out.push(ranges[i]!, ranges[i + 1]!);
    i += 2;
  }
  let ns = s;
  let ne = e;
  while (i < ranges.length && ranges[i]! <= ne) {
    ns = Math.min(ns, ranges[i]!);
    ne = Math.max(ne, ranges[i + 1]!);
    i += 2;
  }
  out.push(ns, ne);
  while (i < ranges.length) {
    out.push(ranges[i]!, ranges[i + 1]!);
    i += 2;
  }
  return out;
}
