import { randomBytes } from 'node:crypto';
import { ext } from '../../src/extensions.js';
import { decodeHelloVerifyRequest, encodeClientHello, readHandshakeFragments, writeHandshakeHeader } from '../../src/handshake-messages.js';
import { ContentType, DTLS_1_2, RECORD_HEADER_SIZE, writeRecordHeader } from '../../src/record-header.js';

/** A hand-built epoch-0 ClientHello datagram (what a flood or a stalling peer sends). */
export function rawClientHello(
  o: { random?: Buffer; cookie?: Buffer; recordSeq?: number; messageSeq?: number; suites?: number[] } = {},
): Buffer {
  const body = encodeClientHello({
    version: DTLS_1_2,
    random: o.random ?? randomBytes(32),
    sessionId: Buffer.alloc(0),
    cookie: o.cookie ?? Buffer.alloc(0),
    cipherSuites: o.suites ?? [0xc0a8],
    compressionMethods: [0],
    extensions: [ext.extendedMasterSecret(), ext.renegotiationInfo()],
  });
  const out = Buffer.alloc(RECORD_HEADER_SIZE + 12 + body.length);
  writeRecordHeader(out, 0, {
    type: ContentType.Handshake,
    version: DTLS_1_2,
    epoch: 0,
    sequence: o.recordSeq ?? 0,
    length: 12 + body.length,
  });
  writeHandshakeHeader(out, RECORD_HEADER_SIZE, {
    type: 1,
    length: body.length,
    messageSeq: o.messageSeq ?? 0,
    fragmentOffset: 0,
    fragmentLength: body.length,
  });
  body.copy(out, RECORD_HEADER_SIZE + 12);
  return out;
}

/** The cookie of a HelloVerifyRequest datagram, or undefined if it is something else. */
export function hvrCookie(d: Buffer): Buffer | undefined {
  if (d[0] !== ContentType.Handshake) return undefined;
  const f = readHandshakeFragments(d.subarray(RECORD_HEADER_SIZE, RECORD_HEADER_SIZE + d.readUInt16BE(11)))[0];
  return f?.type === 3 ? decodeHelloVerifyRequest(f.fragment).cookie : undefined;
}

/** Splits a datagram into its records (each as its own datagram). */
export function splitRecords(d: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  while (off + RECORD_HEADER_SIZE <= d.length) {
    const len = d.readUInt16BE(off + 11);
    out.push(d.subarray(off, off + RECORD_HEADER_SIZE + len));
    off += RECORD_HEADER_SIZE + len;
  }
  return out;
}

/** A deterministic PRNG (mulberry32) for reproducible loss patterns. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
