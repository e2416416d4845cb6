import { clientError } from './errors.js';

/**
 * Packet Identifier allocation (1..65,535), unique among the identifiers in use
 * [MQTT-2.2.1-3]. Round-robin from the last one handed out, so a just-freed identifier is not
 * reused at once (a late ack for it cannot be mistaken for the new message's).
 */
export class PacketIdAllocator {
  readonly #used = new Uint8Array(65_536);
  #last = 0;
  #count = 0;

  /** Identifiers in use. */
  get size(): number {
    return this.#count;
  }

  /** The last identifier handed out (0 before the first). */
  get last(): number {
    return this.#last;
  }

  /** A free identifier, marked used. Throws ERR_PACKET_IDS_EXHAUSTED (501) when none is free. */
  allocate(): number {
    if (this.#count >= 65_535) throw clientError('ERR_PACKET_IDS_EXHAUSTED', 'all 65,535 packet identifiers are in use');
    let id = this.#last;
    for (;;) {
      id = id === 65_535 ? 1 : id + 1;
      if (this.#used[id] === 0) break;
    }
    this.#used[id] = 1;
    this.#count++;
    this.#last = id;
    return id;
  }

  /** Marks an identifier used (restored session state). Returns false if it already was. */
  reserve(id: number): boolean {
    if (id < 1 || id > 65_535 || this.#used[id] === 1) return false;
    this.#used[id] = 1;
    this.#count++;
    return true;
  }

  isUsed(id: number): boolean {
    return this.#used[id] === 1;
  }

  release(id: number): void {
    if (id >= 1 && id <= 65_535 && this.#used[id] === 1) {
      this.#used[id] = 0;
      this.#count--;
    }
  }

  clear(): void {
    this.#used.fill(0);
    this.#count = 0;
  }
}
