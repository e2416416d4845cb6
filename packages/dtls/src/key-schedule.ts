import type { CipherSuite } from './cipher-suites.js';
import { prf } from './prf.js';

/** master_secret, 48 bytes: RFC 5246 §8.1, or RFC 7627 §4 when `sessionHash` is given. */
export function deriveMasterSecret(
  premaster: Uint8Array,
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
  sessionHash?: Uint8Array,
): Buffer {
  if (sessionHash) return prf(premaster, 'extended master secret', sessionHash, 48);
  return prf(premaster, 'master secret', Buffer.concat([clientRandom, serverRandom]), 48);
}

export interface KeyBlock {
  clientWriteKey: Buffer;
  serverWriteKey: Buffer;
  clientWriteIv: Buffer;
  serverWriteIv: Buffer;
}

/** Splits the key block (RFC 5246 §6.3); AEAD suites have no MAC keys. */
export function deriveKeyBlock(suite: CipherSuite, master: Uint8Array, clientRandom: Uint8Array, serverRandom: Uint8Array): KeyBlock {
  const k = suite.keyLength;
  const iv = suite.fixedIvLength;
  const block = prf(master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * k + 2 * iv);
  return {
    clientWriteKey: block.subarray(0, k),
    serverWriteKey: block.subarray(k, 2 * k),
    clientWriteIv: block.subarray(2 * k, 2 * k + iv),
    serverWriteIv: block.subarray(2 * k + iv, 2 * k + 2 * iv),
  };
}

/** Finished.verify_data (RFC 5246 §7.4.9): 12 bytes. */
export function finishedVerifyData(master: Uint8Array, role: 'client' | 'server', transcriptHash: Uint8Array): Buffer {
  return prf(master, role === 'client' ? 'client finished' : 'server finished', transcriptHash, 12);
}

/**
 * PSK premaster secret (RFC 4279 §2; RFC 5489 §2 for ECDHE_PSK):
 * uint16(len(other)) ‖ other ‖ uint16(len(psk)) ‖ psk, where `other` is N zero bytes for plain
 * PSK and the ECDH shared secret for ECDHE_PSK.
 */
export function pskPremaster(psk: Uint8Array, otherSecret?: Uint8Array): Buffer {
  const other = otherSecret ?? Buffer.alloc(psk.length);
  const out = Buffer.allocUnsafe(4 + other.length + psk.length);
  out.writeUInt16BE(other.length, 0);
  out.set(other, 2);
  out.writeUInt16BE(psk.length, 2 + other.length);
  out.set(psk, 4 + other.length);
  return out;
}

/** One NSS key log line (`CLIENT_RANDOM <client random> <master secret>`), for Wireshark. */
export function keyLogLine(clientRandom: Uint8Array, master: Uint8Array): string {
  return `CLIENT_RANDOM ${Buffer.from(clientRandom).toString('hex')} ${Buffer.from(master).toString('hex')}\n`;
}
