/**
 * The datagram seam shared by `@iotwire/udp` and `@iotwire/dtls`: CoAP (and anything else
 * datagram-based) talks to this interface and never learns whether a DTLS layer sits under it.
 */

/** A remote (or local) datagram address. `family` is `'IPv4'` or `'IPv6'`. */
export interface PeerAddress {
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
}

/** Extra facts about a received datagram that secure endpoints can supply. */
export interface DatagramInfo {
  /**
   * An opaque key for the security association the datagram arrived on (for DTLS: the session
   * and epoch). Matching layers such as CoAP compare it so a response is accepted only from the
   * session and epoch its request went out on (RFC 7252 §9.1.1). `undefined` for plain UDP.
   */
  readonly securityContext?: unknown;
}

export interface DatagramEndpointEvents {
  message: [data: Buffer, peer: PeerAddress, info: DatagramInfo];
  error: [error: Error];
  listening: [address: PeerAddress];
  close: [];
}

/** Minimal typed event surface, so the interface does not force a particular emitter class. */
export interface TypedEvents<E extends { [K in keyof E]: unknown[] }> {
  on<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this;
  once<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this;
  off<K extends keyof E>(event: K, listener: (...args: E[K]) => void): this;
}

/**
 * A datagram endpoint: bind, send to a peer, receive `(data, peer, info)`, close.
 * Implemented by {@link UdpEndpoint} and by the DTLS client and server endpoints.
 */
export interface DatagramEndpoint extends TypedEvents<DatagramEndpointEvents> {
  /** Bind (if not yet bound) and resolve with the local address. */
  bind(): Promise<PeerAddress>;
  /** The local address, once bound. */
  address(): PeerAddress | undefined;
  /**
   * Send one datagram. Resolves when the bytes were handed to the kernel (or the security
   * layer finished with them). Rejects with a typed error on failure.
   */
  send(data: Uint8Array, peer: PeerAddress): Promise<void>;
  /**
   * Send one datagram without a completion callback: the hot path for protocols that do their
   * own reliability (CoAP retransmits, DTLS resends flights), where a Promise per datagram
   * would cost as much as the protocol work. Returns false, and counts the datagram in
   * `sendDrops`, when it was dropped at once: endpoint closed or not bound, datagram too large,
   * too many bytes already pending (backpressure), or (DTLS) no session and none can be started.
   * After acceptance nothing more is reported per datagram (like any datagram lost on the way);
   * failures of the endpoint itself (e.g. a host-name lookup) surface as the `error` event.
   */
  trySend(data: Uint8Array, peer: PeerAddress): boolean;
  /** Datagrams `trySend` refused (closed, not bound, too large, backpressure). */
  readonly sendDrops: number;
  /** Bytes handed over whose sending is still pending (backpressure accounting). */
  readonly pendingSendBytes: number;
  /** Stop receiving, release the socket; pending sends reject. Idempotent. */
  close(): Promise<void>;
}

/** Canonical `host:port` key for maps keyed by peer (IPv6 hosts are bracketed). */
export function peerKey(peer: Pick<PeerAddress, 'address' | 'port'>): string {
  return peer.address.includes(':') ? `[${peer.address}]:${peer.port}` : `${peer.address}:${peer.port}`;
}
