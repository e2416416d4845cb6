import { EventEmitter } from 'node:events';
import type { DatagramEndpoint, DatagramEndpointEvents, PeerAddress } from '@iotwire/udp';

/**
 * An in-memory network of datagram endpoints for deterministic tests: every datagram passes
 * through `network.filter`, which may drop, alter, duplicate or hold it, and tests can inject
 * datagrams from any address (spoofing a peer, which real sockets cannot do).
 */
export class PipeNetwork {
  readonly #endpoints = new Map<string, PipeEndpoint>();
  /** Returns the datagrams to deliver (empty = drop). Default: deliver as is. */
  filter: (data: Buffer, from: PeerAddress, to: PeerAddress) => Buffer[] = (d) => [d];
  /** Every datagram offered to the network, before filtering. */
  readonly log: { data: Buffer; from: PeerAddress; to: PeerAddress }[] = [];
  #nextPort = 40000;

  endpoint(port = this.#nextPort++): PipeEndpoint {
    const ep = new PipeEndpoint(this, { address: '10.0.0.1', port, family: 'IPv4' });
    this.#endpoints.set(`${port}`, ep);
    return ep;
  }

  /** Delivers `data` to `to` as if sent by `from` (no filter). */
  inject(data: Buffer, from: PeerAddress, to: PeerAddress): void {
    const ep = this.#endpoints.get(`${to.port}`);
    if (ep?.isBound) setImmediate(() => ep.emit('message', Buffer.from(data), from, {}));
  }

  /** @internal */
  route(data: Buffer, from: PeerAddress, to: PeerAddress): void {
    this.log.push({ data: Buffer.from(data), from, to });
    for (const d of this.filter(Buffer.from(data), from, to)) this.inject(d, from, to);
  }
}

export class PipeEndpoint extends EventEmitter<DatagramEndpointEvents> implements DatagramEndpoint {
  isBound = false;
  #closed = false;
  constructor(
    private readonly net: PipeNetwork,
    readonly addr: PeerAddress,
  ) {
    super();
  }
  bind(): Promise<PeerAddress> {
    if (!this.isBound) {
      this.isBound = true;
      setImmediate(() => this.emit('listening', this.addr));
    }
    return Promise.resolve(this.addr);
  }
  address(): PeerAddress | undefined {
    return this.isBound ? this.addr : undefined;
  }
  get pendingSendBytes(): number {
    return 0;
  }
  sendDrops = 0;
  send(data: Uint8Array, peer: PeerAddress): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('closed'));
    this.net.route(Buffer.from(data), this.addr, peer);
    return Promise.resolve();
  }
  trySend(data: Uint8Array, peer: PeerAddress): boolean {
    if (this.#closed) {
      this.sendDrops++;
      return false;
    }
    this.net.route(Buffer.from(data), this.addr, peer);
    return true;
  }
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.isBound = false;
      this.emit('close');
    }
    return Promise.resolve();
  }
}

/** First record's content type and epoch of a datagram (for filters). */
export function firstRecord(d: Buffer): { type: number; epoch: number; handshakeType?: number } {
  return { type: d[0]!, epoch: d.readUInt16BE(3), handshakeType: d[0] === 22 && d.readUInt16BE(3) === 0 ? d[13] : undefined };
}
