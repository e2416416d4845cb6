// The message layer of RFC 7252 §4: receives datagrams, answers pings and malformed CONs with
// RST, deduplicates, matches ACK/RST to our confirmable messages and retransmits them. The
// request/response roles above it (server, client) see only decoded, deduplicated messages.

import { type DecodedMessage, decode, encodeEmpty, MessageType } from '@iotwire/coap-message';
import type { DatagramEndpoint, DatagramInfo, PeerAddress } from '@iotwire/udp';
import { DedupCache, DedupState } from './dedup.js';
import { PeerRegistry, type PeerState, UNBOUND_CONTEXT } from './peers.js';
import { type Clock, systemClock, Timer, TimerQueue } from './timers.js';
import { DEFAULT_TRANSMISSION, deriveTimes, type TransmissionParameters } from './transmission.js';

/** Counters kept by the message layer (all monotonically increasing). */
export interface MessageStats {
  datagramsIn: number;
  datagramsOut: number;
  /** Datagrams that failed to parse (RFC 7252 §3 format errors). */
  malformed: number;
  /** Datagrams with a CoAP version other than 1 (silently ignored, §3). */
  badVersion: number;
  /** Retransmitted CON/NON messages recognised by Message ID. */
  duplicates: number;
  /** Empty CONs answered with RST (CoAP ping, §4.3). */
  pings: number;
  resetsSent: number;
  resetsReceived: number;
  /** ACK or RST matching nothing we sent. */
  unmatched: number;
  retransmissions: number;
  /** CON messages given up after MAX_RETRANSMIT. */
  timeouts: number;
  /** Outgoing datagrams the endpoint refused (too many bytes pending, closed, no DTLS session). */
  backpressureDrops: number;
  sendErrors: number;
  /** Dedup entries evicted before EXCHANGE_LIFETIME because the cache was full. */
  dedupEvicted: number;
}

/** Accept (ACK a CON) or reject (RST) a received CON/NON response. */
export const Verdict = { Accept: 0, Reject: 1 } as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

/** The roles above the message layer. */
export interface MessageSink {
  /** A new (non-duplicate) request; `slot` is its dedup entry. */
  onRequest?(msg: DecodedMessage, peer: PeerState, slot: number): void;
  /**
   * A response. `piggybacked` is true when it came in an ACK. For CON/NON the return value
   * decides between ACK and RST (ignored for piggybacked responses).
   */
  onResponse?(msg: DecodedMessage, peer: PeerState, piggybacked: boolean): Verdict;
  /** An RST that matches no confirmable message of ours (maybe a NON notification). */
  onUnmatchedReset?(peer: PeerState, messageId: number): void;
  /** A malformed or undeliverable datagram, for logging. */
  onDropped?(reason: string, peer: PeerAddress, error?: Error): void;
  /** A bug surfaced while handling a datagram (never a peer's fault); the datagram is dropped. */
  onError?(error: Error): void;
}

/** Told what happened to a confirmable message. */
export interface TransmissionOwner {
  onAcknowledged(tx: Transmission): void;
  onReset(tx: Transmission): void;
  onTimeout(tx: Transmission): void;
}

/** One confirmable message being retransmitted until ACK, RST or give-up. */
export class Transmission {
  attempts = 0;
  timeoutMs = 0;
  readonly timer: Timer;
  done = false;

  constructor(
    readonly layer: MessageLayer,
    readonly peer: PeerState,
    public messageId: number,
    public data: Buffer,
    public owner: TransmissionOwner,
  ) {
    this.timer = new Timer(() => layer.retransmit(this));
  }
}

export interface MessageLayerOptions {
  endpoint: DatagramEndpoint;
  /** RFC 7252 §4.8 parameters, in seconds. */
  transmission?: Partial<TransmissionParameters>;
  /** Dedup cache entries. Default 65536. */
  dedupCapacity?: number;
  /** Bytes cached per entry for a reply (longer ones are kept aside). Default 64. */
  dedupSlotBytes?: number;
  /** Cap on bytes of replies too long for their slot. Default 4 MiB. */
  dedupMaxLargeBytes?: number;
  clock?: Clock;
  /** Random source in [0, 1) for the ACK_RANDOM_FACTOR jitter. */
  random?: () => number;
}

function newStats(): MessageStats {
  return {
    datagramsIn: 0,
    datagramsOut: 0,
    malformed: 0,
    badVersion: 0,
    duplicates: 0,
    pings: 0,
    resetsSent: 0,
    resetsReceived: 0,
    unmatched: 0,
    retransmissions: 0,
    timeouts: 0,
    backpressureDrops: 0,
    sendErrors: 0,
    dedupEvicted: 0,
  };
}

export class MessageLayer {
  readonly endpoint: DatagramEndpoint;
  readonly peers = new PeerRegistry();
  readonly timers: TimerQueue;
  readonly clock: Clock;
  readonly params: TransmissionParameters;
  /** EXCHANGE_LIFETIME and NON_LIFETIME in ms. */
  readonly exchangeLifetimeMs: number;
  readonly nonLifetimeMs: number;
  readonly dedup: DedupCache;
  readonly stats: MessageStats = newStats();
  sink: MessageSink = {};
  readonly #outgoing = new Map<number, Transmission>();
  readonly #random: () => number;
  readonly #sweepTimer: Timer;
  #nextMid: number;
  #attached = false;

  constructor(options: MessageLayerOptions) {
    this.endpoint = options.endpoint;
    this.clock = options.clock ?? systemClock;
    this.timers = new TimerQueue(this.clock);
    this.params = { ...DEFAULT_TRANSMISSION, ...options.transmission };
    const times = deriveTimes(this.params);
    this.exchangeLifetimeMs = times.exchangeLifetime * 1000;
    this.nonLifetimeMs = times.nonLifetime * 1000;
    this.dedup = new DedupCache(
      {
        capacity: options.dedupCapacity ?? 65_536,
        slotBytes: options.dedupSlotBytes ?? 64,
        maxLargeBytes: options.dedupMaxLargeBytes ?? 4 * 1024 * 1024,
        conLifetimeMs: this.exchangeLifetimeMs,
        nonLifetimeMs: this.nonLifetimeMs,
      },
      this.peers,
    );
    this.#random = options.random ?? Math.random;
    this.#nextMid = Math.floor(this.#random() * 65536) & 0xffff;
    // Expired dedup entries are popped on insert; this sweep frees them when traffic stops.
    this.#sweepTimer = new Timer(() => this.#sweep());
  }

  /** Starts receiving from the endpoint. */
  attach(): void {
    if (this.#attached) return;
    this.#attached = true;
    this.endpoint.on('message', this.#onMessage);
    this.endpoint.on('error', this.#onEndpointError);
    this.timers.schedule(this.#sweepTimer, 10_000);
  }

  /** Stops receiving, cancels every retransmission and forgets all state. */
  detach(): void {
    if (this.#attached) {
      this.endpoint.off('message', this.#onMessage);
      this.endpoint.off('error', this.#onEndpointError);
    }
    this.#attached = false;
    for (const tx of [...this.#outgoing.values()]) this.#finish(tx);
    this.timers.clear();
    this.dedup.clear();
  }

  /** The Message ID the next outgoing message will use (seed `MessageId`). */
  get nextMessageId(): number {
    return this.#nextMid;
  }

  set nextMessageId(v: number) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`message ID must be 0–65535, got ${v}`);
    this.#nextMid = v;
  }

  allocateMessageId(): number {
    const m = this.#nextMid;
    this.#nextMid = (m + 1) & 0xffff;
    return m;
  }

  /** Confirmable messages awaiting ACK. */
  get outstanding(): number {
    return this.#outgoing.size;
  }

  #sweep(): void {
    this.dedup.expire(this.clock.now());
    this.stats.dedupEvicted = this.dedup.evicted;
    this.timers.schedule(this.#sweepTimer, 10_000);
  }

  // --- sending -------------------------------------------------------------------------------

  /**
   * Sends one datagram through the endpoint's callback-free `trySend`: CoAP does its own
   * reliability, so a Promise per datagram would be pure cost. A refused datagram (backpressure,
   * closed endpoint, no DTLS session) is dropped and counted; a CON is retransmitted anyway.
   */
  send(peer: PeerAddress, data: Uint8Array): void {
    if (this.endpoint.trySend(data, peer)) this.stats.datagramsOut++;
    else this.stats.backpressureDrops++;
  }

  /** Endpoint errors (a failed lookup, a socket error) go to the owner's `error` event. */
  readonly #onEndpointError = (err: Error): void => {
    this.stats.sendErrors++;
    if (this.sink.onError) this.sink.onError(err);
    else process.emitWarning(`@iotwire/coap: ${err.message}`, { code: 'IOTWIRE_COAP_ERROR' });
  };

  sendEmpty(peer: PeerAddress, type: MessageType, messageId: number): Buffer {
    const b = encodeEmpty(type, messageId);
    if (type === MessageType.RST) this.stats.resetsSent++;
    this.send(peer, b);
    return b;
  }

  /** Sends a CON and retransmits it (RFC 7252 §4.2) until ACK, RST or give-up. */
  sendConfirmable(peer: PeerState, messageId: number, data: Buffer, owner: TransmissionOwner): Transmission {
    const tx = new Transmission(this, peer, messageId, data, owner);
    this.peers.retain(peer);
    this.#outgoing.set(peer.id * 65536 + messageId, tx);
    const p = this.params;
    tx.timeoutMs = p.ackTimeout * 1000 * (1 + this.#random() * (p.ackRandomFactor - 1));
    this.timers.schedule(tx.timer, tx.timeoutMs);
    this.send(peer.address, data);
    return tx;
  }

  /**
   * Replaces the message a transmission carries (RFC 7641 §4.5.2: a newer notification takes
   * over the retransmission state of an unacknowledged one) under a new Message ID.
   */
  replaceTransmission(tx: Transmission, messageId: number, data: Buffer): void {
    if (tx.done) return;
    this.#outgoing.delete(tx.peer.id * 65536 + tx.messageId);
    tx.messageId = messageId;
    tx.data = data;
    this.#outgoing.set(tx.peer.id * 65536 + messageId, tx);
    this.send(tx.peer.address, data);
  }

  /** Stops retransmitting without telling the owner. */
  cancelTransmission(tx: Transmission): void {
    if (!tx.done) this.#finish(tx);
  }

  /** Timer callback: retransmit or give up. */
  retransmit(tx: Transmission): void {
    if (tx.done) return;
    if (tx.attempts >= this.params.maxRetransmit) {
      this.stats.timeouts++;
      this.#finish(tx);
      tx.owner.onTimeout(tx);
      return;
    }
    tx.attempts++;
    tx.timeoutMs *= 2;
    this.stats.retransmissions++;
    this.timers.schedule(tx.timer, tx.timeoutMs);
    this.send(tx.peer.address, tx.data);
  }

  #finish(tx: Transmission): void {
    tx.done = true;
    this.timers.cancel(tx.timer);
    const key = tx.peer.id * 65536 + tx.messageId;
    if (this.#outgoing.get(key) === tx) this.#outgoing.delete(key);
    this.peers.release(tx.peer);
  }

  // --- receiving -----------------------------------------------------------------------------

  readonly #onMessage = (data: Buffer, address: PeerAddress, info: DatagramInfo): void => {
    // Nothing a datagram triggers may throw into the socket's event emitter (it would crash the host).
    try {
      this.#receive(data, address, info);
    } catch (err) {
      if (this.sink.onError) this.sink.onError(err as Error);
      else process.emitWarning(`@iotwire/coap: ${(err as Error).message}`, { code: 'IOTWIRE_COAP_ERROR' });
    }
  };

  #receive(data: Buffer, address: PeerAddress, info: DatagramInfo): void {
    const stats = this.stats;
    stats.datagramsIn++;
    const len = data.length;
    if (len < 4) {
      stats.malformed++;
      this.sink.onDropped?.('shorter than the header', address);
      return;
    }
    const b0 = data[0] as number;
    if (b0 >> 6 !== 1) {
      stats.badVersion++;
      return;
    }
    const type = ((b0 >> 4) & 3) as MessageType;
    const code = data[1] as number;
    const mid = ((data[2] as number) << 8) | (data[3] as number);
    const ctx = info.securityContext;
    if (code === 0) {
      this.#onEmpty(data, address, ctx, type, mid);
      return;
    }
    const cls = code >> 5;
    if (cls === 0) this.#onRequest(data, address, ctx, type, mid);
    else if (cls === 2 || cls === 4 || cls === 5) this.#onResponse(data, address, ctx, type, mid);
    else if (type === MessageType.CON) {
      // Reserved classes 1, 3, 6, 7: a CON we cannot process is rejected (§4.2).
      stats.malformed++;
      this.sendEmpty(address, MessageType.RST, mid);
    } else stats.malformed++;
  }

  #onEmpty(data: Buffer, address: PeerAddress, ctx: unknown, type: MessageType, mid: number): void {
    if (data.length !== 4 || ((data[0] as number) & 0x0f) !== 0) {
      this.stats.malformed++;
      if (type === MessageType.CON) this.sendEmpty(address, MessageType.RST, mid);
      return;
    }
    if (type === MessageType.CON) {
      // CoAP ping: "an empty CON ... elicits a Reset" (§4.3).
      this.stats.pings++;
      this.sendEmpty(address, MessageType.RST, mid);
      return;
    }
    if (type === MessageType.NON) {
      this.stats.malformed++;
      return;
    }
    const tx = this.#findTransmission(address, ctx, mid);
    const peer = tx?.peer ?? this.peers.find(address.address, address.port, ctx);
    if (type === MessageType.RST) this.stats.resetsReceived++;
    if (tx === undefined || peer === undefined) {
      this.stats.unmatched++;
      if (type === MessageType.RST && peer !== undefined) this.sink.onUnmatchedReset?.(peer, mid);
      return;
    }
    this.#finish(tx);
    if (type === MessageType.ACK) tx.owner.onAcknowledged(tx);
    else tx.owner.onReset(tx);
  }

  /** Our CON with this Message ID to this peer: under its security context, or sent before it existed. */
  #findTransmission(address: PeerAddress, ctx: unknown, mid: number): Transmission | undefined {
    const peer = this.peers.find(address.address, address.port, ctx);
    const tx = peer === undefined ? undefined : this.#outgoing.get(peer.id * 65536 + mid);
    if (tx !== undefined || ctx === undefined) return tx;
    const early = this.peers.find(address.address, address.port, UNBOUND_CONTEXT);
    return early === undefined ? undefined : this.#outgoing.get(early.id * 65536 + mid);
  }

  #decode(data: Buffer, address: PeerAddress, type: MessageType, mid: number): DecodedMessage | undefined {
    try {
      return decode(data);
    } catch (err) {
      this.stats.malformed++;
      if (type === MessageType.CON) this.sendEmpty(address, MessageType.RST, mid);
      this.sink.onDropped?.('malformed', address, err as Error);
      return undefined;
    }
  }

  /** Re-sends what a duplicate deserves (§4.5) and returns true if `slot` is a duplicate entry. */
  #duplicate(slot: number, address: PeerAddress, type: MessageType, mid: number): void {
    this.stats.duplicates++;
    if (type !== MessageType.CON) return;
    const state = this.dedup.state(slot);
    if (state === DedupState.Replied) {
      const reply = this.dedup.reply(slot);
      if (reply !== undefined) this.send(address, Buffer.from(reply));
    } else if (state === DedupState.EmptyAck || state === DedupState.Processing) {
      // Still working on it: an empty ACK stops the peer's retransmissions (§5.2.2).
      if (state === DedupState.Processing) this.dedup.setState(slot, DedupState.EmptyAck);
      this.sendEmpty(address, MessageType.ACK, mid);
    }
  }

  #onRequest(data: Buffer, address: PeerAddress, ctx: unknown, type: MessageType, mid: number): void {
    const onRequest = this.sink.onRequest;
    if (type === MessageType.ACK || type === MessageType.RST) {
      this.stats.malformed++;
      return;
    }
    if (onRequest === undefined) {
      // Not a server: reject CON requests, drop NON ones.
      if (type === MessageType.CON) this.sendEmpty(address, MessageType.RST, mid);
      return;
    }
    const now = this.clock.now();
    const peer = this.peers.get(address, ctx);
    const dup = this.dedup.lookup(peer, mid, now);
    if (dup >= 0) {
      this.#duplicate(dup, address, type, mid);
      return;
    }
    const msg = this.#decode(data, address, type, mid);
    if (msg === undefined) {
      this.peers.releaseIfUnused(peer);
      return;
    }
    const slot = this.dedup.insert(peer, mid, type === MessageType.CON, now);
    onRequest.call(this.sink, msg, peer, slot);
  }

  #onResponse(data: Buffer, address: PeerAddress, ctx: unknown, type: MessageType, mid: number): void {
    const onResponse = this.sink.onResponse;
    if (type === MessageType.RST) {
      this.stats.malformed++;
      return;
    }
    if (type === MessageType.ACK) {
      const tx = this.#findTransmission(address, ctx, mid);
      const peer = tx === undefined ? undefined : this.peers.get(address, ctx);
      if (peer === undefined || tx === undefined) {
        // A late or duplicate piggybacked response: the exchange is over.
        this.stats.unmatched++;
        return;
      }
      const msg = this.#decode(data, address, type, mid);
      if (msg === undefined) return;
      this.peers.retain(peer);
      this.#finish(tx);
      tx.owner.onAcknowledged(tx);
      onResponse?.call(this.sink, msg, peer, true);
      this.peers.release(peer);
      return;
    }
    const now = this.clock.now();
    const peer = this.peers.get(address, ctx);
    const dup = this.dedup.lookup(peer, mid, now);
    if (dup >= 0) {
      this.#duplicate(dup, address, type, mid);
      return;
    }
    const msg = this.#decode(data, address, type, mid);
    if (msg === undefined) {
      this.peers.releaseIfUnused(peer);
      return;
    }
    const slot = this.dedup.insert(peer, mid, type === MessageType.CON, now);
    const verdict = onResponse === undefined ? Verdict.Reject : onResponse.call(this.sink, msg, peer, false);
    if (verdict === Verdict.Reject) {
      const rst = this.sendEmpty(address, MessageType.RST, mid);
      if (type === MessageType.CON) this.dedup.setReply(slot, rst);
      else this.dedup.setState(slot, DedupState.Silent);
    } else if (type === MessageType.CON) {
      this.dedup.setReply(slot, this.sendEmpty(address, MessageType.ACK, mid));
    } else this.dedup.setState(slot, DedupState.Silent);
  }
}
