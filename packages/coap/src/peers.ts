import type { PeerAddress } from '@iotwire/udp';

/**
 * Security context of a message sent before the DTLS session existed (the endpoint queued it
 * behind the handshake). The first reply from that address binds the exchange to the session
 * it arrived on; from then on RFC 7252 §9.1.1 matching is exact.
 */
export const UNBOUND_CONTEXT: unique symbol = Symbol('coap.unbound-context');

/**
 * What the endpoint knows about one remote endpoint (address, port and security context).
 * Reference-counted by the structures that point at it (dedup entries, transmissions,
 * exchanges, observers) and dropped when the count reaches zero, so a flood of spoofed sources
 * cannot grow it beyond those structures' own limits.
 */
export class PeerState {
  refs = 0;
  /** Another state for the same address and port under a different security context. */
  next: PeerState | undefined;
  #label: string | undefined;

  constructor(
    /** Small integer, reused after release; combined with a Message ID into one map key. */
    readonly id: number,
    readonly address: PeerAddress,
    readonly context: unknown,
  ) {}

  /** `host:port` for messages. */
  get label(): string {
    this.#label ??=
      this.address.family === 'IPv6' ? `[${this.address.address}]:${this.address.port}` : `${this.address.address}:${this.address.port}`;
    return this.#label;
  }
}

export class PeerRegistry {
  readonly #byAddress = new Map<string, Map<number, PeerState>>();
  readonly #freeIds: number[] = [];
  #nextId = 0;
  #count = 0;

  get size(): number {
    return this.#count;
  }

  /** Finds the state for `address`/`context` without creating one. */
  find(address: string, port: number, context: unknown): PeerState | undefined {
    let p = this.#byAddress.get(address)?.get(port);
    while (p !== undefined && p.context !== context) p = p.next;
    return p;
  }

  /** Every state for `address`:`port` (one per security context). */
  forAddress(address: string, port: number): PeerState[] {
    const out: PeerState[] = [];
    for (let p = this.#byAddress.get(address)?.get(port); p !== undefined; p = p.next) out.push(p);
    return out;
  }

  /** Finds or creates the state for a peer. A new state starts with no references. */
  get(peer: PeerAddress, context: unknown): PeerState {
    let ports = this.#byAddress.get(peer.address);
    if (ports === undefined) {
      ports = new Map();
      this.#byAddress.set(peer.address, ports);
    }
    const head = ports.get(peer.port);
    let p = head;
    while (p !== undefined && p.context !== context) p = p.next;
    if (p !== undefined) return p;
    const id = this.#freeIds.length > 0 ? (this.#freeIds.pop() as number) : this.#nextId++;
    // Copy the address: the caller's object may be reused or carry extra fields.
    const state = new PeerState(id, { address: peer.address, port: peer.port, family: peer.family }, context);
    state.next = head;
    ports.set(peer.port, state);
    this.#count++;
    return state;
  }

  retain(p: PeerState): void {
    p.refs++;
  }

  /** Drops one reference; forgets the peer when none remain. */
  release(p: PeerState): void {
    if (--p.refs > 0) return;
    const ports = this.#byAddress.get(p.address.address);
    if (ports === undefined) return;
    const head = ports.get(p.address.port);
    if (head === p) {
      if (p.next === undefined) {
        ports.delete(p.address.port);
        if (ports.size === 0) this.#byAddress.delete(p.address.address);
      } else ports.set(p.address.port, p.next);
    } else {
      let q = head;
      while (q !== undefined && q.next !== p) q = q.next;
      if (q === undefined) return;
      q.next = p.next;
    }
    p.next = undefined;
    this.#freeIds.push(p.id);
    this.#count--;
  }

  /** Drops a state that was looked up but never retained. */
  releaseIfUnused(p: PeerState): void {
    if (p.refs === 0) {
      p.refs = 1;
      this.release(p);
    }
  }
}
