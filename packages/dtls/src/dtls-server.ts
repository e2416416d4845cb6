import type { PeerAddress } from '@iotwire/udp';
import { peerKey } from '@iotwire/udp';
import { Connection } from './connection.js';
import { HandshakeType } from './constants.js';
import { CookieJar } from './cookie.js';
import { DtlsEndpointBase, type DtlsEndpointEvents } from './endpoint-base.js';
import { DtlsError } from './errors.js';
import {
  type ClientHello,
  decodeClientHello,
  encodeHelloVerifyRequest,
  readHandshakeFragments,
  writeHandshakeHeader,
} from './handshake-messages.js';
import { LruCache } from './lru.js';
import { type DtlsServerOptions, type ResolvedServer, resolveServerOptions } from './options.js';
import { ContentType, DTLS_1_0, RECORD_HEADER_SIZE, writeRecordHeader } from './record-header.js';
import { ServerHandshake, type ServerSessionEntry } from './server-handshake.js';
import type { CertificateVerdict } from './verdict.js';

export interface DtlsServerEvents extends DtlsEndpointEvents {
  /** Seed `SSLClientAuthentication`: a client presented a certificate (or raw public key). */
  sslClientAuthentication: [verdict: CertificateVerdict];
}

/** Where the first record of a datagram is an epoch-0 ClientHello, its key fields. */
interface HelloPeek {
  recordSeq: number;
  random: Buffer;
}

/**
 * A DTLS 1.2 server endpoint (RFC 6347) over a datagram endpoint. Application data comes out of
 * `'message'` per peer and goes in through `send(data, peer)`, exactly like `UdpEndpoint`, so a
 * CoAP server runs over it unchanged.
 *
 * New peers go through a stateless HelloVerifyRequest cookie exchange first: until a ClientHello
 * carries a valid cookie nothing is allocated for the peer. Sessions live in a bounded table
 * keyed by peer address, with idle expiry and least-recently-active eviction.
 */
export class DtlsServer extends DtlsEndpointBase<DtlsServerEvents> {
  declare readonly config: ResolvedServer;
  readonly #cookies: CookieJar;
  readonly #cache: LruCache<ServerSessionEntry> | undefined;
  #sweep: unknown;

  constructor(options: DtlsServerOptions) {
    const config = resolveServerOptions(options);
    super(options, config, 5684);
    const t = config.timers;
    this.#cookies = new CookieJar(config.cookieLifetimeMs, () => t.now());
    this.#cache = config.sessionCache
      ? new LruCache(config.sessionCache.maxEntries, config.sessionCache.lifetimeMs, () => t.now())
      : undefined;
    this.#scheduleSweep();
  }

  send(data: Uint8Array, peer: PeerAddress): Promise<void> {
    if (this.isClosed) return Promise.reject(new DtlsError('ERR_DTLS_CLOSED', 'server is closed'));
    const c = this.connections.get(peerKey(peer));
    if (c?.state !== 'established') return Promise.reject(new DtlsError('ERR_DTLS_NO_SESSION', `no DTLS session with ${peerKey(peer)}`));
    return c.sendApplicationData(data);
  }

  trySend(data: Uint8Array, peer: PeerAddress): boolean {
    const c = this.isClosed ? undefined : this.connections.get(peerKey(peer));
    if (c?.state === 'established' && c.trySendApplicationData(data)) return true;
    this.droppedSends++;
    return false;
  }

  verdict(v: CertificateVerdict): Promise<boolean> {
    this.emit('sslClientAuthentication', v);
    return v.settle();
  }

  protected override onClosing(): void {
    if (this.#sweep !== undefined) this.config.timers.clearTimeout(this.#sweep);
    this.#sweep = undefined;
  }

  protected onDatagram(data: Buffer, peer: PeerAddress): void {
    if (this.isClosed) return;
    const key = peerKey(peer);
    const conn = this.connections.get(key);
    const hello = peekClientHello(data);
    if (conn && (!hello || (conn.clientRandom && hello.random.equals(conn.clientRandom)))) {
      // Ordinary traffic, or a retransmission of the ClientHello that started this connection.
      conn.handleDatagram(data);
      return;
    }
    if (!hello) {
      this.stats.dropped.noSession++;
      return;
    }
    this.#statelessHello(data, peer, key, hello, conn);
  }

  /**
   * RFC 6347 §4.2.1: answer a ClientHello without a valid cookie with a HelloVerifyRequest and
   * keep nothing. Only a ClientHello with a valid cookie creates a connection. A new association
   * from a peer that already has one (§4.2.8) replaces it once the cookie proves reachability.
   */
  #statelessHello(data: Buffer, peer: PeerAddress, key: string, peek: HelloPeek, existing: Connection | undefined): void {
    let ch: ClientHello;
    let messageSeq: number;
    try {
      const len = data.readUInt16BE(11);
      const frags = readHandshakeFragments(data.subarray(RECORD_HEADER_SIZE, RECORD_HEADER_SIZE + len));
      const f = frags[0]!;
      // Stateless means unfragmented: a ClientHello split over records is not reassembled before the cookie.
      if (f.fragmentOffset !== 0 || f.fragmentLength !== f.length) {
        this.stats.dropped.fragments++;
        return;
      }
      ch = decodeClientHello(f.fragment);
      messageSeq = f.messageSeq;
    } catch {
      this.stats.dropped.malformed++;
      return;
    }
    if (!this.#cookies.verify(key, ch)) {
      this.stats.recordsIn++;
      this.#sendHelloVerify(peer, key, ch, peek.recordSeq, messageSeq);
      return;
    }
    if (existing) existing.drop('replaced');
    this.#makeRoom();
    const conn = new Connection(this, peer, key, 'server', { initialWriteSeq: peek.recordSeq, initialReceiveSeq: messageSeq });
    conn.clientRandom = Buffer.from(ch.random);
    conn.handshake = new ServerHandshake(conn, this.config, this.#cache, messageSeq);
    this.connections.set(key, conn);
    this.stats.handshakes.started++;
    conn.status('ClientHello with valid cookie: handshake started');
    conn.handleDatagram(data);
  }

  #sendHelloVerify(peer: PeerAddress, key: string, ch: ClientHello, recordSeq: number, messageSeq: number): void {
    const body = encodeHelloVerifyRequest({ version: DTLS_1_0, cookie: this.#cookies.generate(key, ch) });
    const out = Buffer.allocUnsafe(RECORD_HEADER_SIZE + 12 + body.length);
    // RFC 6347 §4.2.1: DTLS 1.0 version, and the ClientHello's record sequence number.
    writeRecordHeader(out, 0, { type: ContentType.Handshake, version: DTLS_1_0, epoch: 0, sequence: recordSeq, length: 12 + body.length });
    writeHandshakeHeader(out, RECORD_HEADER_SIZE, {
      type: HandshakeType.HelloVerifyRequest,
      length: body.length,
      messageSeq,
      fragmentOffset: 0,
      fragmentLength: body.length,
    });
    body.copy(out, RECORD_HEADER_SIZE + 12);
    this.stats.handshakes.helloVerifyRequests++;
    this.stats.recordsOut++;
    if (this.wantsStatus) this.status('ClientHello without valid cookie: HelloVerifyRequest sent (no state kept)', peer);
    this.transmitNow(out, peer);
  }

  /** Keeps the table within `maxSessions`: evicts the least recently active connection. */
  #makeRoom(): void {
    if (this.connections.size < this.config.maxSessions) return;
    let victim: Connection | undefined;
    for (const c of this.connections.values()) if (!victim || c.lastActive < victim.lastActive) victim = c;
    victim?.closeNotify('evicted');
  }

  #scheduleSweep(): void {
    const t = this.config.timers;
    const every = Math.max(1000, Math.min(this.config.idleTimeoutMs / 2, 60_000));
    this.#sweep = t.setTimeout(() => {
      this.sweepIdle();
      if (!this.isClosed) this.#scheduleSweep();
    }, every);
  }

  /** Closes established sessions idle for longer than `idleTimeoutMs` (also runs periodically). */
  sweepIdle(): number {
    const now = this.config.timers.now();
    let n = 0;
    for (const c of [...this.connections.values()]) {
      if (c.state === 'established' && now - c.lastActive > this.config.idleTimeoutMs) {
        c.closeNotify('idle');
        n++;
      }
    }
    return n;
  }
}

/** Cheap check of a datagram's first record: an epoch-0 ClientHello whose first fragment starts the message. */
function peekClientHello(d: Buffer): HelloPeek | undefined {
  // header(13) + handshake header(12) + client_version(2) + random(32)
  if (d.length < RECORD_HEADER_SIZE + 12 + 34) return undefined;
  if (d[0] !== ContentType.Handshake || d[3] !== 0 || d[4] !== 0) return undefined;
  if (d[13] !== HandshakeType.ClientHello) return undefined;
  if (d.readUIntBE(13 + 6, 3) !== 0) return undefined; // fragment_offset
  const recordSeq = d.readUInt16BE(5) * 0x1_0000_0000 + d.readUInt32BE(7);
  return { recordSeq, random: d.subarray(RECORD_HEADER_SIZE + 12 + 2, RECORD_HEADER_SIZE + 12 + 34) };
}
