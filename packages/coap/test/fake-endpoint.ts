import { EventEmitter } from 'node:events';
import { type DecodedMessage, decode } from '@iotwire/coap-message';
import type { DatagramEndpoint, DatagramEndpointEvents, DatagramInfo, PeerAddress } from '@iotwire/udp';

/** An in-memory DatagramEndpoint: `deliver` injects a datagram, `sent` records what went out. */
export class FakeEndpoint extends EventEmitter<DatagramEndpointEvents> implements DatagramEndpoint {
  readonly sent: { data: Buffer; peer: PeerAddress }[] = [];
  #bound: PeerAddress | undefined;
  pendingSendBytes = 0;
  /** Optional: what `securityContextOf` reports (DTLS-like endpoints). */
  sessions: Map<string, unknown> | undefined;

  constructor(readonly local: PeerAddress = { address: '127.0.0.1', port: 5683, family: 'IPv4' }) {
    super();
  }

  bind(): Promise<PeerAddress> {
    this.#bound = this.local;
    return Promise.resolve(this.local);
  }

  address(): PeerAddress | undefined {
    return this.#bound;
  }

  sendDrops = 0;
  /** When true, `trySend` refuses everything (backpressure). */
  refuse = false;

  /** CoAP must stay on the callback-free path: a Promise send here is a regression. */
  send(_data: Uint8Array, _peer: PeerAddress): Promise<void> {
    throw new Error('CoAP used DatagramEndpoint.send; it must use trySend');
  }

  trySend(data: Uint8Array, peer: PeerAddress): boolean {
    if (this.refuse) {
      this.sendDrops++;
      return false;
    }
    this.sent.push({ data: Buffer.from(data), peer });
    return true;
  }

  close(): Promise<void> {
    this.emit('close');
    return Promise.resolve();
  }

  deliver(data: Buffer | string, peer: PeerAddress = CLIENT, info: DatagramInfo = {}): void {
    this.emit('message', typeof data === 'string' ? Buffer.from(data, 'hex') : data, peer, info);
  }

  /** Decoded copies of everything sent, then cleared. */
  take(): DecodedMessage[] {
    const out = this.sent.map((s) => decode(s.data));
    this.sent.length = 0;
    return out;
  }
}

/** A securityContextOf-capable fake, like a DTLS endpoint. */
export class FakeSecureEndpoint extends FakeEndpoint {
  securityContextOf(peer: Pick<PeerAddress, 'address' | 'port'>): unknown {
    return this.sessions?.get(`${peer.address}:${peer.port}`);
  }
}

export const CLIENT: PeerAddress = { address: '10.0.0.2', port: 40000, family: 'IPv4' };
