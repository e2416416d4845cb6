import type { PeerAddress } from '@iotwire/udp';
import type { RecordCipher } from './aead.js';
import { AlertDescription, AlertLevel, alertName, HandshakeType } from './constants.js';
import { DtlsError } from './errors.js';
import { FlightTimer } from './flight.js';
import { type FlightItem, type PlannedRecord, planFlight, Reassembler } from './fragmentation.js';
import { type HandshakeFragment, readHandshakeFragments } from './handshake-messages.js';
import type { Handshake, HandshakeContext, HandshakeResult } from './handshake-types.js';
import { keyLogLine } from './key-schedule.js';
import type { ResolvedCommon } from './options.js';
import { type InboundRecord, MAX_SEQUENCE, parseRecords, recordSize, type WriteState, writeRecord } from './record-codec.js';
import { ContentType } from './record-header.js';
import { ReplayWindow } from './replay-window.js';
import type { DtlsSecurityContext, DtlsSessionInfo } from './session-info.js';
import type { DtlsStats } from './stats.js';
import type { CertificateVerdict } from './verdict.js';

/** Why a connection ended. */
export type CloseReason =
  | 'close_notify'
  | 'alert'
  | 'handshake_failed'
  | 'timeout'
  | 'idle'
  | 'evicted'
  | 'replaced'
  | 'local'
  | 'endpoint_closed'
  | 'sequence_exhausted';

/** What a connection needs from the endpoint that owns it. */
export interface ConnectionHost {
  readonly config: ResolvedCommon;
  readonly stats: DtlsStats;
  /** Hands a datagram to the transport; failures are the host's to count. */
  transmit(data: Buffer, peer: PeerAddress): Promise<void>;
  /** Hands a datagram to the transport without a completion Promise; false if it was refused. */
  transmitNow(data: Buffer, peer: PeerAddress): boolean;
  /** True if anyone listens to `sslStatus` (avoids building strings for nobody). */
  readonly wantsStatus: boolean;
  status(message: string, peer: PeerAddress): void;
  keylog(line: string, peer: PeerAddress): void;
  verdict(v: CertificateVerdict): Promise<boolean>;
  established(conn: Connection): void;
  applicationData(conn: Connection, data: Buffer): void;
  closed(conn: Connection, reason: CloseReason, error?: DtlsError): void;
}

let serials = 0;

/** Records of the next epoch that may arrive before the peer's CCS (reordering); briefly held. */
const MAX_EARLY_RECORDS = 16;

/**
 * One DTLS association with one peer: record protection per epoch, anti-replay, handshake
 * reassembly, flight retransmission, alerts and application data. The handshake logic itself
 * lives in the client/server state machines; this class is the plumbing they run on.
 */
export class Connection implements HandshakeContext {
  readonly serial = ++serials;
  state: 'handshaking' | 'established' | 'closed' = 'handshaking';
  /** Last time a record was authenticated from, or sent to, the peer. */
  lastActive: number;
  info: DtlsSessionInfo | undefined;
  /** The `DatagramInfo` handed out with every received message (one object per session and epoch). */
  messageInfo: { readonly securityContext: DtlsSecurityContext } | undefined;

  handshake: Handshake | undefined;
  /** The ClientHello random of the handshake that made (or is making) this connection. */
  clientRandom: Buffer | undefined;
  readonly #host: ConnectionHost;
  readonly #cfg: ResolvedCommon;
  readonly #reassembler: Reassembler;

  // Read side.
  #readEpoch = 0;
  #readCipher: RecordCipher | undefined;
  #readWindow: ReplayWindow;
  /** Epoch-0 window kept after the switch, to recognise the peer's retransmitted flights. */
  #prevWindow: ReplayWindow | undefined;
  #pendingRead: RecordCipher | undefined;
  #ccsReceived = false;
  #early: InboundRecord[] = [];

  // Write side.
  readonly #write = new Map<number, WriteState>();
  #writeEpoch = 0;

  // Flights.
  #flight: { items: FlightItem[]; final: boolean; plans: Map<number, PlannedRecord[][]> } | undefined;
  /** message_seq of the peer message whose re-arrival means our last flight was lost. */
  #trigger = -1;
  readonly #timer: FlightTimer;
  #handshakeTimer: unknown;
  #pumping = false;

  constructor(
    host: ConnectionHost,
    readonly peer: PeerAddress,
    readonly peerKey: string,
    readonly role: 'client' | 'server',
    options: { initialWriteSeq?: number; initialReceiveSeq?: number } = {},
  ) {
    this.#host = host;
    this.#cfg = host.config;
    this.lastActive = this.#cfg.timers.now();
    this.#reassembler = new Reassembler(this.#cfg.maxHandshakeMessageSize);
    this.#reassembler.nextSeq = options.initialReceiveSeq ?? 0;
    this.#readWindow = new ReplayWindow(this.#cfg.replayWindow);
    this.#write.set(0, { epoch: 0, seq: options.initialWriteSeq ?? 0, cipher: undefined });
    this.#timer = new FlightTimer(
      this.#cfg.timers,
      this.#cfg.retransmit,
      (attempt) => {
        this.#host.stats.retransmissions++;
        const mtu = attempt >= this.#cfg.retransmit.backoffAfter ? Math.min(this.#cfg.mtu, this.#cfg.retransmit.backoffMtu) : this.#cfg.mtu;
        this.status(`flight timer expired: retransmission ${attempt} (datagrams <= ${mtu} bytes)`);
        this.#transmitFlight(mtu);
      },
      () => this.#timeout('flight retransmissions exhausted'),
    );
    this.#handshakeTimer = this.#cfg.timers.setTimeout(() => this.#timeout('handshake timeout'), this.#cfg.handshakeTimeoutMs);
  }

  get readEpoch(): number {
    return this.#readEpoch;
  }
  get writeEpoch(): number {
    return this.#writeEpoch;
  }
  /** The next handshake message_seq expected from the peer. */
  get nextReceiveSeq(): number {
    return this.#reassembler.nextSeq;
  }

  // -------------------------------------------------------------------------------------------
  // Inbound

  /** Processes one datagram from the peer. */
  handleDatagram(datagram: Buffer): void {
    if (this.state === 'closed') return;
    const outcome = parseRecords(datagram, this.#recordCallback, this.#invalidCallback);
    if (outcome === 'truncated') this.#host.stats.dropped.truncated++;
  }

  // Bound once: no closure allocation per datagram.
  readonly #recordCallback = (r: InboundRecord): void => this.#onRecord(r);
  readonly #invalidCallback = (): void => {
    this.#host.stats.dropped.malformed++;
  };

  #onRecord(r: InboundRecord): void {
    if (this.state === 'closed') return;
    const stats = this.#host.stats;
    stats.recordsIn++;
    if (this.#cfg.logPackets)
      this.status(`record in: type ${r.type} epoch ${r.epoch} seq ${r.sequence} ${r.fragment.length} bytes ${r.fragment.toString('hex')}`);
    if (r.epoch === this.#readEpoch) {
      if (!this.#readWindow.check(r.sequence)) {
        stats.dropped.replayed++;
        return;
      }
      let plain: Buffer | undefined = r.fragment;
      if (this.#readCipher) {
        plain = this.#readCipher.open(r.epoch, r.sequence, r.type, r.version, r.fragment);
        if (!plain) {
          stats.dropped.badMac++;
          return;
        }
      }
      this.#readWindow.accept(r.sequence);
      if (r.epoch > 0) this.lastActive = this.#cfg.timers.now();
      this.#dispatch(r.type, plain, r.epoch);
      return;
    }
    if (r.epoch === this.#readEpoch + 1 && this.state === 'handshaking') {
      // Arrived before the peer's ChangeCipherSpec was processed: hold briefly (bounded).
      if (this.#early.length < MAX_EARLY_RECORDS) this.#early.push({ ...r, fragment: Buffer.from(r.fragment) });
      else stats.dropped.badEpoch++;
      return;
    }
    if (r.epoch === 0 && this.#prevWindow && r.type === ContentType.Handshake) {
      // A retransmission of the peer's epoch-0 flight after we switched epochs.
      if (!this.#prevWindow.check(r.sequence)) {
        stats.dropped.replayed++;
        return;
      }
      this.#prevWindow.accept(r.sequence);
      this.#onHandshakeRecord(r.fragment, 0);
      return;
    }
    stats.dropped.badEpoch++;
  }

  #dispatch(type: number, plain: Buffer, epoch: number): void {
    switch (type) {
      case ContentType.Handshake:
        this.#onHandshakeRecord(plain, epoch);
        return;
      case ContentType.ChangeCipherSpec:
        this.#onChangeCipherSpec(plain);
        return;
      case ContentType.Alert:
        this.#onAlert(plain, epoch);
        return;
      case ContentType.ApplicationData:
        if (epoch === 0 || this.state !== 'established') {
          this.#host.stats.dropped.unexpected++;
          return;
        }
        // The peer is sending in the new epoch, so it has our final flight: release it.
        if (this.#flight?.final) this.#flight = undefined;
        this.#host.applicationData(this, plain);
        return;
    }
  }

  #onHandshakeRecord(plain: Buffer, epoch: number): void {
    let fragments: HandshakeFragment[];
    try {
      fragments = readHandshakeFragments(plain);
    } catch (err) {
      // Unauthenticated garbage is dropped; an authenticated malformed message is fatal.
      if (epoch === 0) this.#host.stats.dropped.malformed++;
      else this.#fail(err);
      return;
    }
    for (const f of fragments) {
      if (this.state === 'closed') return;
      if (this.state === 'established' && this.#isRenegotiation(f, epoch)) {
        this.#refuseRenegotiation(f);
        continue;
      }
      if (f.messageSeq < this.#reassembler.nextSeq) {
        this.#onOldFragment(f);
        continue;
      }
      if (this.state === 'established') {
        this.#host.stats.dropped.unexpected++;
        continue;
      }
      const outcome = this.#reassembler.add(f, epoch);
      if (outcome === 'dropped') {
        this.#host.stats.dropped.fragments++;
        continue;
      }
      // The peer's next flight is arriving: our outstanding flight got through.
      this.#timer.stop();
    }
    void this.#pump();
  }

  /** A message we already processed: if it ends the peer's previous flight, ours was lost. */
  #onOldFragment(f: HandshakeFragment): void {
    if (f.messageSeq === this.#trigger && f.fragmentOffset === 0 && this.#flight) {
      this.#host.stats.retransmissions++;
      this.status('peer retransmitted its flight: retransmitting ours');
      this.#transmitFlight(this.#cfg.mtu);
    }
  }

  #isRenegotiation(f: HandshakeFragment, epoch: number): boolean {
    return (
      epoch > 0 &&
      ((this.role === 'server' && f.type === HandshakeType.ClientHello) ||
        (this.role === 'client' && f.type === HandshakeType.HelloRequest))
    );
  }

  /** RFC 7925 §17: renegotiation is not supported; tell the peer and keep the session. */
  #refuseRenegotiation(f: HandshakeFragment): void {
    if (f.fragmentOffset !== 0) return;
    this.#host.stats.renegotiationsRefused++;
    this.status('renegotiation refused (no_renegotiation)');
    this.sendAlert(AlertLevel.Warning, AlertDescription.NoRenegotiation);
  }

  #onChangeCipherSpec(plain: Buffer): void {
    if (plain.length !== 1 || plain[0] !== 1) {
      this.#host.stats.dropped.malformed++;
      return;
    }
    if (this.state !== 'handshaking' || this.#ccsReceived) {
      this.#host.stats.dropped.unexpected++;
      return;
    }
    this.#ccsReceived = true;
    this.#timer.stop();
    void this.#pump();
  }

  #onAlert(plain: Buffer, epoch: number): void {
    const stats = this.#host.stats;
    if (plain.length !== 2) {
      stats.dropped.malformed++;
      return;
    }
    // After the handshake, unprotected alerts could be forged by anyone on the path: ignore them.
    if (epoch === 0 && this.state === 'established') {
      stats.dropped.unexpected++;
      return;
    }
    stats.alertsReceived++;
    const level = plain[0]!;
    const desc = plain[1]!;
    this.status(`alert received: ${level === AlertLevel.Fatal ? 'fatal' : 'warning'} ${alertName(desc)}`);
    if (desc === AlertDescription.CloseNotify) {
      if (this.state === 'established') this.sendAlert(AlertLevel.Warning, AlertDescription.CloseNotify);
      this.#close(
        'close_notify',
        this.state === 'handshaking' ? new DtlsError('ERR_DTLS_SESSION_CLOSED', 'peer closed during the handshake', desc) : undefined,
      );
      return;
    }
    if (level === AlertLevel.Fatal) {
      this.#close('alert', new DtlsError('ERR_DTLS_ALERT_RECEIVED', `peer sent fatal alert ${alertName(desc)}`, desc));
    }
    // Warnings (e.g. no_renegotiation) need no action.
  }

  /** Feeds complete messages to the handshake in order; async steps (verdicts, PSK lookup) are awaited. */
  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      for (;;) {
        if (this.state !== 'handshaking' || !this.handshake) break;
        if (this.#ccsReceived && this.#readEpoch === 0 && this.#pendingRead) {
          this.#switchReadEpoch();
          continue;
        }
        const msg = this.#reassembler.take();
        if (!msg) break;
        await this.handshake.handle(msg);
      }
    } catch (err) {
      this.#fail(err);
    } finally {
      this.#pumping = false;
    }
  }

  #switchReadEpoch(): void {
    this.#prevWindow = this.#readWindow;
    this.#readWindow = new ReplayWindow(this.#cfg.replayWindow);
    this.#readCipher = this.#pendingRead;
    this.#pendingRead = undefined;
    this.#readEpoch++;
    this.status(`ChangeCipherSpec received: reading epoch ${this.#readEpoch}`);
    const early = this.#early;
    this.#early = [];
    for (const r of early) this.#onRecord(r);
  }

  // -------------------------------------------------------------------------------------------
  // HandshakeContext

  sendFlight(items: FlightItem[], final: boolean): void {
    this.#flight = { items, final, plans: new Map() };
    this.#trigger = this.#reassembler.nextSeq - 1;
    for (const it of items) if (it.kind === 'ccs') this.#writeEpoch = it.epoch + 1;
    this.#transmitFlight(this.#cfg.mtu);
    if (final) this.#timer.stop();
    else this.#timer.start();
  }

  setPendingKeys(read: RecordCipher, write: RecordCipher): void {
    this.#pendingRead = read;
    this.#write.set(this.#writeEpoch + 1, { epoch: this.#writeEpoch + 1, seq: 0, cipher: write });
  }

  resetReplayWindow(): void {
    if (this.#readEpoch === 0) this.#readWindow.reset();
  }

  status(message: string): void {
    if (this.#host.wantsStatus) this.#host.status(message, this.peer);
  }

  keylog(clientRandom: Buffer, masterSecret: Buffer): void {
    this.#host.keylog(keyLogLine(clientRandom, masterSecret), this.peer);
  }

  verdict(v: CertificateVerdict): Promise<boolean> {
    return this.#host.verdict(v);
  }

  complete(result: HandshakeResult): void {
    if (this.state !== 'handshaking') return;
    this.#cfg.timers.clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = undefined;
    if (!this.#flight?.final) {
      this.#timer.stop();
      this.#flight = undefined;
    }
    this.#early = [];
    this.#reassembler.clear();
    this.handshake = undefined;
    this.state = 'established';
    this.lastActive = this.#cfg.timers.now();
    const securityContext: DtlsSecurityContext = Object.freeze({ kind: 'dtls', sessionSerial: this.serial, epoch: this.#writeEpoch });
    this.messageInfo = Object.freeze({ securityContext });
    const s = result.suite;
    this.info = Object.freeze({
      peer: this.peer,
      role: this.role,
      version: 'DTLSv1.2',
      cipherSuite: s.name,
      cipher: s.cipher,
      cipherStrength: s.strength,
      keyExchange: s.keyExchange,
      keyExchangeStrength: result.group === 'x25519' ? 255 : result.group === 'secp256r1' ? 256 : (result.pskKeyBits ?? 0),
      group: result.group,
      sessionId: result.sessionId.toString('hex'),
      resumed: result.resumed,
      extendedMasterSecret: result.extendedMasterSecret,
      pskIdentity: result.pskIdentity,
      pskIdentityHint: result.pskIdentityHint,
      peerCertificates: result.peerCertificates,
      peerPublicKey: result.peerPublicKey,
      peerRawPublicKeyIdentity: result.peerRawPublicKeyIdentity,
      servername: result.servername,
      epoch: this.#writeEpoch,
      securityContext,
    });
    this.status(`handshake complete: ${s.name}${result.resumed ? ' (resumed)' : ''}`);
    this.#host.established(this);
  }

  // -------------------------------------------------------------------------------------------
  // Outbound

  #transmitFlight(mtu: number): void {
    const flight = this.#flight;
    if (!flight || this.state === 'closed') return;
    let plan = flight.plans.get(mtu);
    if (!plan) {
      plan = planFlight(flight.items, mtu, (epoch) => recordSize(this.#writeState(epoch), 0));
      flight.plans.set(mtu, plan);
    }
    for (const datagram of plan) {
      let size = 0;
      for (const r of datagram) size += recordSize(this.#writeState(r.epoch), r.payload.length);
      const out = Buffer.allocUnsafe(size);
      let off = 0;
      for (const r of datagram) off += this.#writeOne(out, off, this.#writeState(r.epoch), r.type, r.payload);
      this.#sendBestEffort(out);
    }
  }

  #writeState(epoch: number): WriteState {
    const s = this.#write.get(epoch);
    if (!s) throw new DtlsError('ERR_DTLS_HANDSHAKE_FAILURE', `no keys for epoch ${epoch}`, AlertDescription.InternalError);
    return s;
  }

  #writeOne(out: Buffer, off: number, state: WriteState, type: number, payload: Uint8Array): number {
    if (this.#cfg.logPackets) this.status(`record out: type ${type} epoch ${state.epoch} seq ${state.seq} ${payload.length} bytes`);
    this.#host.stats.recordsOut++;
    return writeRecord(out, off, state, type, payload);
  }

  #send(data: Buffer): Promise<void> {
    return this.#host.transmit(data, this.peer);
  }

  /** Fire-and-forget send for handshake flights and alerts (a lost datagram is what retransmission is for). */
  #sendBestEffort(data: Buffer): void {
    this.#host.transmitNow(data, this.peer);
  }

  /** Sends an alert in the current write epoch (best effort). */
  sendAlert(level: number, description: number): void {
    const state = this.#write.get(this.#writeEpoch);
    if (!state) return;
    const payload = Buffer.from([level, description]);
    const out = Buffer.allocUnsafe(recordSize(state, 2));
    this.#writeOne(out, 0, state, ContentType.Alert, payload);
    this.#host.stats.alertsSent++;
    this.status(`alert sent: ${level === AlertLevel.Fatal ? 'fatal' : 'warning'} ${alertName(description)}`);
    this.#sendBestEffort(out);
  }

  /** Protects and sends one application datagram; resolves once the transport took it. */
  sendApplicationData(data: Uint8Array): Promise<void> {
    const record = this.#protect(data);
    return record instanceof DtlsError ? Promise.reject(record) : this.#send(record);
  }

  /** Protects and sends one application datagram with no Promise; false if it could not go. */
  trySendApplicationData(data: Uint8Array): boolean {
    const record = this.#protect(data);
    return record instanceof DtlsError ? false : this.#host.transmitNow(record, this.peer);
  }

  /** One application-data record in the current epoch, or why there can be none. */
  #protect(data: Uint8Array): Buffer | DtlsError {
    if (this.state !== 'established') return new DtlsError('ERR_DTLS_NO_SESSION', `no established session with ${this.peerKey}`);
    if (data.length > 16384) return new DtlsError('ERR_DTLS_MESSAGE_TOO_LARGE', `${data.length} bytes exceed the 16384-byte record limit`);
    const state = this.#write.get(this.#writeEpoch)!;
    if (state.seq >= MAX_SEQUENCE) {
      this.#close('sequence_exhausted');
      return new DtlsError('ERR_DTLS_SESSION_CLOSED', 'sequence numbers exhausted; the session must be renewed');
    }
    const out = Buffer.allocUnsafe(recordSize(state, data.length));
    this.#host.stats.recordsOut++;
    writeRecord(out, 0, state, ContentType.ApplicationData, data);
    this.lastActive = this.#cfg.timers.now();
    return out;
  }

  // -------------------------------------------------------------------------------------------
  // Teardown

  /** Sends close_notify (if established) and closes. */
  closeNotify(reason: CloseReason = 'local'): void {
    if (this.state === 'closed') return;
    if (this.state === 'established') this.sendAlert(AlertLevel.Warning, AlertDescription.CloseNotify);
    this.#close(reason);
  }

  /** Closes without telling the peer. */
  drop(reason: CloseReason, error?: DtlsError): void {
    this.#close(reason, error);
  }

  #timeout(why: string): void {
    if (this.state !== 'handshaking') return;
    this.#host.stats.handshakes.timedOut++;
    this.status(`handshake abandoned: ${why}`);
    this.#close('timeout', new DtlsError('ERR_DTLS_HANDSHAKE_TIMEOUT', `${why} with ${this.peerKey}`));
  }

  #fail(err: unknown): void {
    if (this.state === 'closed') return;
    const e =
      err instanceof DtlsError
        ? err
        : new DtlsError('ERR_DTLS_HANDSHAKE_FAILURE', `internal error: ${(err as Error)?.message ?? err}`, AlertDescription.InternalError, {
            cause: err,
          });
    if (e.alert !== undefined && e.code !== 'ERR_DTLS_ALERT_RECEIVED') this.sendAlert(AlertLevel.Fatal, e.alert);
    this.status(`handshake failed: ${e.message}`);
    this.#close(this.state === 'handshaking' ? 'handshake_failed' : 'alert', e);
  }

  #close(reason: CloseReason, error?: DtlsError): void {
    if (this.state === 'closed') return;
    const wasHandshaking = this.state === 'handshaking';
    this.state = 'closed';
    this.#timer.stop();
    if (this.#handshakeTimer !== undefined) this.#cfg.timers.clearTimeout(this.#handshakeTimer);
    this.#flight = undefined;
    this.#early = [];
    this.#reassembler.clear();
    this.handshake = undefined;
    this.#host.closed(
      this,
      reason,
      error ?? (wasHandshaking ? new DtlsError('ERR_DTLS_SESSION_CLOSED', `handshake with ${this.peerKey} ended: ${reason}`) : undefined),
    );
  }
}
