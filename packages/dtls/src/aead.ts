import { type CipherCCMTypes, type CipherChaCha20Poly1305Types, type CipherGCMTypes, createCipheriv, createDecipheriv } from 'node:crypto';
import type { CipherSuite } from './cipher-suites.js';

type AeadName = CipherCCMTypes | CipherGCMTypes | CipherChaCha20Poly1305Types;

/**
 * AEAD record protection for one direction of one epoch (RFC 5246 §6.2.3.3, RFC 6655, RFC 5288,
 * RFC 7905). The per-record nonce is built from epoch‖sequence, which is unique per key.
 *
 * node:crypto's CCM allows exactly one `update()` and reports a bad tag only from `final()`, so
 * each record is processed in one call and `final()` is always called.
 */
export class RecordCipher {
  readonly #algorithm: AeadName;
  readonly #key: Buffer;
  readonly #iv: Buffer;
  readonly #tagLength: number;
  readonly #explicit: number;
  readonly #chacha: boolean;
  readonly #nonce: Buffer;
  readonly #aad = Buffer.alloc(13);

  constructor(suite: CipherSuite, key: Buffer, fixedIv: Buffer) {
    this.#algorithm = suite.algorithm as AeadName;
    this.#key = key;
    this.#iv = fixedIv;
    this.#tagLength = suite.tagLength;
    this.#explicit = suite.recordIvLength;
    this.#chacha = suite.algorithm === 'chacha20-poly1305';
    this.#nonce = Buffer.alloc(12);
    if (!this.#chacha) fixedIv.copy(this.#nonce, 0, 0, 4);
  }

  /** Bytes added to each record's plaintext (explicit nonce + tag). */
  get overhead(): number {
    return this.#explicit + this.#tagLength;
  }

  #setNonce(epoch: number, seq: number): void {
    const hi = epoch * 0x10000 + Math.floor(seq / 0x1_0000_0000);
    const lo = seq >>> 0;
    if (this.#chacha) {
      // RFC 7905 §2: nonce = fixed_iv XOR (0^32 ‖ seq64)
      this.#nonce.writeUInt32BE(this.#iv.readUInt32BE(0), 0);
      this.#nonce.writeUInt32BE((this.#iv.readUInt32BE(4) ^ hi) >>> 0, 4);
      this.#nonce.writeUInt32BE((this.#iv.readUInt32BE(8) ^ lo) >>> 0, 8);
    } else {
      this.#nonce.writeUInt32BE(hi, 4);
      this.#nonce.writeUInt32BE(lo, 8);
    }
  }

  #setAad(epoch: number, seq: number, type: number, version: number, length: number): void {
    const a = this.#aad;
    a.writeUInt16BE(epoch, 0);
    a.writeUInt16BE(Math.floor(seq / 0x1_0000_0000), 2);
    a.writeUInt32BE(seq >>> 0, 4);
    a[8] = type;
    a.writeUInt16BE(version, 9);
    a.writeUInt16BE(length, 11);
  }

  /**
   * Encrypts `plaintext` into `out` at `offset` (explicit nonce, ciphertext, tag) and returns the
   * number of bytes written (`plaintext.length + overhead`).
   */
  sealInto(epoch: number, seq: number, type: number, version: number, plaintext: Uint8Array, out: Buffer, offset: number): number {
    this.#setNonce(epoch, seq);
    this.#setAad(epoch, seq, type, version, plaintext.length);
    const cipher = createCipheriv(this.#algorithm as CipherCCMTypes, this.#key, this.#nonce, { authTagLength: this.#tagLength });
    cipher.setAAD(this.#aad, { plaintextLength: plaintext.length });
    let at = offset;
    if (this.#explicit) {
      this.#nonce.copy(out, at, 4, 12);
      at += 8;
    }
    const ct = cipher.update(plaintext);
    ct.copy(out, at);
    at += ct.length;
    const fin = cipher.final();
    if (fin.length) {
      fin.copy(out, at);
      at += fin.length;
    }
    cipher.getAuthTag().copy(out, at);
    return at + this.#tagLength - offset;
  }

  /** Decrypts a record fragment; `undefined` when it is too short or fails authentication. */
  open(epoch: number, seq: number, type: number, version: number, fragment: Buffer): Buffer | undefined {
    const ctLen = fragment.length - this.#explicit - this.#tagLength;
    if (ctLen < 0) return undefined;
    if (this.#explicit) {
      // The explicit nonce is whatever the sender chose; DTLS senders use epoch‖seq, but only
      // the bytes on the wire count.
      fragment.copy(this.#nonce, 4, 0, 8);
    } else {
      this.#setNonce(epoch, seq);
    }
    this.#setAad(epoch, seq, type, version, ctLen);
    try {
      const d = createDecipheriv(this.#algorithm as CipherCCMTypes, this.#key, this.#nonce, { authTagLength: this.#tagLength });
      d.setAuthTag(fragment.subarray(this.#explicit + ctLen));
      d.setAAD(this.#aad, { plaintextLength: ctLen });
      const pt = d.update(fragment.subarray(this.#explicit, this.#explicit + ctLen));
      const fin = d.final(); // throws on a bad tag (CCM: update() returned an empty buffer)
      return fin.length ? Buffer.concat([pt, fin]) : pt;
    } catch {
      return undefined;
    }
  }
}
