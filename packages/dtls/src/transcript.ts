import { createHash, type Hash } from 'node:crypto';

/**
 * The running handshake hash (SHA-256 for every suite here). Messages are added in their
 * unfragmented form; `digest()` snapshots without ending the running hash, which Finished,
 * CertificateVerify and the extended master secret each need at a different point.
 */
export class Transcript {
  #hash: Hash = createHash('sha256');
  /** Raw messages, kept only while a CertificateVerify signature may need them. */
  #messages: Buffer[] | undefined;

  constructor(keepMessages = false) {
    if (keepMessages) this.#messages = [];
  }

  add(message: Buffer): void {
    this.#hash.update(message);
    this.#messages?.push(message);
  }

  digest(): Buffer {
    return this.#hash.copy().digest();
  }

  /** All messages so far, concatenated (for signing/verifying CertificateVerify). */
  messages(): Buffer {
    return Buffer.concat(this.#messages ?? []);
  }

  /** Stop keeping raw messages (after CertificateVerify, or when none will come). */
  dropMessages(): void {
    this.#messages = undefined;
  }
}
