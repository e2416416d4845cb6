import type { X509Certificate } from 'node:crypto';
import { Decoder, encode, isValidReasonCode, MqttPacketError, type Packet, type ProtocolVersion, type QoS } from '@iotwire/mqtt-packet';
import type { BrokerCore } from './core.js';
import type { BrokerConnectionInfo } from './events.js';
import type { BrokerHook, EnhancedAuthArgs } from './hooks.js';
import type { BrokerMessage } from './message.js';
import type { Session } from './session.js';
import type { ByteStream, ListenerProtocol, StreamSink } from './transport.js';

/** Connection states. */
export enum ConnState {
  /** Socket open, waiting for CONNECT. */
  AwaitConnect = 0,
  /** CONNECT received; authentication (hooks, AUTH exchange) under way. */
  Connecting = 1,
  /** CONNACK (success) sent. */
  Connected = 2,
  /** We are closing it. */
  Closing = 3,
  Closed = 4,
}

/** An enhanced-authentication exchange in progress. */
export interface AuthExchange {
  hook: BrokerHook;
  method: string;
  step: number;
  reauth: boolean;
  state: Record<string, unknown>;
  /** Authentication data to put in the CONNACK/AUTH that ends the exchange. */
  finalData?: Uint8Array;
  /** Continues the CONNECT once the exchange succeeds. */
  onSuccess: () => void;
}

const PINGRESP = Buffer.from([0xd0, 0x00]);

/**
 * One client connection: the stream, the decoder, output batching, keep-alive bookkeeping and
 * the per-connection MQTT 5 state (topic aliases, the client's limits). The protocol flows
 * live in the *-flow modules; this class only carries bytes and state.
 */
export class MqttConnection implements StreamSink, BrokerConnectionInfo {
  state = ConnState.AwaitConnect;
  version: 0 | ProtocolVersion = 0;
  clientId = '';
  userName = '';
  keepAlive = 0;
  session: Session | null = null;
  /** Will Message from CONNECT (discarded on a normal DISCONNECT). */
  will: BrokerMessage | undefined;
  willDelay = 0;
  /** The client sent DISCONNECT without asking for its Will. */
  graceful = false;
  /** Publish the Will when this connection closes (cleared by DISCONNECT 0x00, shutdown…). */
  closeReason = '';
  openedAt: number;
  lastRx: number;
  lastTx: number;
  /** Outgoing QoS 1/2 window: min(client Receive Maximum, maxInflight). */
  sendQuota = 65_535;
  /** The client's Maximum Packet Size. */
  maxOutPacket = Number.POSITIVE_INFINITY;
  aliasOutMax = 0;
  aliasOut: Map<string, number> | null = null;
  aliasIn: Map<number, string> | null = null;
  /** MQTT 5 Request Problem Information (reason strings allowed). */
  problemInfo = true;
  /** CONNECT asked for a non-zero Session Expiry (DISCONNECT may then change it). */
  connectExpiry = 0;
  auth: AuthExchange | null = null;
  /** Enhanced-auth method and hook from CONNECT (re-authentication must use the same). */
  authMethod: string | undefined;
  authHook: BrokerHook | undefined;
  /** Above maxSendBuffer: deliveries queue in the session until drain. */
  congested = false;
  /** Input paused for an async hook. */
  #holds = 0;
  /** Output held until storage commits (acknowledgements that promise durability). */
  #outHolds = 0;
  /** The open storage batch this connection waits for (set by the Persister). */
  gatedBatch: unknown;
  /** CONNACK said Session Present: packets of earlier connections may be re-sent (recovery). */
  resumed = false;
  /** True when the user name came from the TLS client certificate (listener `certificateIdentity`). */
  userNameFromCertificate = false;
  // Output of the current I/O callback: usually one buffer; an array only for several.
  #first: Buffer | null = null;
  #more: Buffer[] | null = null;
  #outLen = 0;
  dirty = false;
  readonly decoder: Decoder;

  constructor(
    readonly connectionId: string,
    readonly stream: ByteStream,
    readonly core: BrokerCore,
  ) {
    this.openedAt = this.lastRx = this.lastTx = Date.now();
    this.decoder = new Decoder((p) => this.#onPacket(p), {
      side: 'server',
      maxPacketSize: core.limits.maxPacketSize,
      strictTopicFilters: false,
    });
    stream.sink = this;
  }

  // --- BrokerConnectionInfo ------------------------------------------------------------
  get protocolVersion(): number {
    return this.version;
  }
  get protocol(): ListenerProtocol {
    return this.stream.protocol;
  }
  get localHost(): string {
    return this.stream.localAddress;
  }
  get localPort(): number {
    return this.stream.localPort;
  }
  get remoteHost(): string {
    return this.stream.remoteAddress;
  }
  get remotePort(): number {
    return this.stream.remotePort;
  }

  /** The TLS client certificate, if one was presented (for hooks that authorize by certificate). */
  get peerCertificate(): X509Certificate | undefined {
    return this.stream.peerCertificate();
  }

  // --- StreamSink ----------------------------------------------------------------------
  data(chunk: Buffer): void {
    if (this.state >= ConnState.Closing) return;
    this.lastRx = Date.now();
    this.core.stats.bytesReceived += chunk.length;
    try {
      this.decoder.push(chunk);
    } catch (err) {
      if (err instanceof MqttPacketError) this.core.packetError(this, err);
      else this.core.internalError(this, err);
    }
  }

  drain(): void {
    if (this.congested && this.stream.writableLength < this.core.limits.maxSendBuffer) {
      this.congested = false;
      if (this.session !== null && this.state === ConnState.Connected) this.core.pump(this.session);
    }
  }

  closed(statusCode: number, description: string): void {
    if (this.state === ConnState.Closed) return;
    this.state = ConnState.Closed;
    this.#first = null;
    this.#more = null;
    this.#outLen = 0;
    this.core.connectionClosed(this, statusCode, description);
  }

  #onPacket(p: Packet): void {
    const stats = this.core.stats;
    stats.packetsReceived++;
    if (p.type === 'publish') {
      stats.messagesReceived++;
      stats.publishBytesReceived += p.payload.length;
    }
    this.core.dispatch(this, p);
  }

  // --- input control for async hooks -----------------------------------------------------
  /** Stops handling packets (and reading) until {@link release}; nests. */
  hold(): void {
    if (this.#holds++ === 0) {
      this.decoder.pause();
      this.stream.pause();
    }
  }
  release(): void {
    if (this.#holds === 0 || --this.#holds > 0) return;
    if (this.state >= ConnState.Closing) return;
    this.stream.resume();
    try {
      this.decoder.resume();
    } catch (err) {
      if (err instanceof MqttPacketError) this.core.packetError(this, err);
      else this.core.internalError(this, err);
    }
  }

  // --- output held for storage commits ---------------------------------------------------
  holdOutput(): void {
    this.#outHolds++;
  }
  releaseOutput(): void {
    if (this.#outHolds === 0 || --this.#outHolds > 0) return;
    if (this.#first !== null && !this.dirty && this.state !== ConnState.Closed) {
      this.dirty = true;
      this.core.markDirty(this);
    }
  }
  /** A commit failed: what was held acknowledges changes that are not durable. Never send it. */
  failOutput(reason: string): void {
    if (this.#outHolds > 0) this.#outHolds--;
    this.#first = null;
    this.#more = null;
    this.#outLen = 0;
    this.#outHolds = 0;
    this.close(reason, 0x80);
  }

  // --- output -------------------------------------------------------------------------
  /** Queues bytes for the next flush (end of the current I/O callback). */
  write(buf: Buffer): void {
    if (this.state >= ConnState.Closing) return;
    this.core.stats.packetsSent++;
    if (this.#first === null) this.#first = buf;
    else if (this.#more === null) this.#more = [buf];
    else this.#more.push(buf);
    this.#outLen += buf.length;
    if (!this.dirty) {
      this.dirty = true;
      this.core.markDirty(this);
    }
  }

  /** Encodes and queues a packet at this connection's protocol level. */
  send(packet: Packet): void {
    const v = this.version === 0 ? 4 : this.version;
    let data = encode(packet, v);
    if (data.length > this.maxOutPacket && packet.type !== 'publish' && 'properties' in packet && packet.properties !== undefined) {
      // Reason String and User Properties are the first to go rather than exceed the client's
      // Maximum Packet Size [MQTT-3.2.2-19] [MQTT-3.2.2-20] [MQTT-3.14.2-3] [MQTT-3.14.2-4] (and the acks').
      const { reasonString: _r, userProperties: _u, ...rest } = packet.properties as { reasonString?: string; userProperties?: unknown };
      data = encode({ ...packet, properties: rest } as Packet, v);
    }
    this.write(data);
  }

  sendPingresp(): void {
    this.write(PINGRESP);
  }

  /** 4-byte PUBACK/PUBREC/PUBREL/PUBCOMP with reason Success (or any code below 5.0). */
  sendAck(type: 0x40 | 0x50 | 0x62 | 0x70, packetId: number, reasonCode = 0): void {
    if (reasonCode === 0 || this.version !== 5) {
      const b = Buffer.allocUnsafe(4);
      b[0] = type;
      b[1] = 2;
      b[2] = packetId >>> 8;
      b[3] = packetId & 0xff;
      this.write(b);
      return;
    }
    const b = Buffer.allocUnsafe(5);
    b[0] = type;
    b[1] = 3;
    b[2] = packetId >>> 8;
    b[3] = packetId & 0xff;
    b[4] = reasonCode;
    this.write(b);
  }

  /**
   * Queues one PUBLISH for this client. Returns false when it was not sent because it exceeds
   * the client's Maximum Packet Size [MQTT-3.1.2-24] (the caller treats it as delivered).
   */
  writePublish(msg: BrokerMessage, qos: QoS, packetId: number, retain: boolean, dup: boolean, subIds: number[] | undefined): boolean {
    const v = this.version as ProtocolVersion;
    let buf: Buffer;
    if (v !== 5) {
      buf = msg.bytes(v, qos, packetId, retain, dup);
    } else {
      let mei: number | undefined;
      if (msg.expiresAt !== 0) {
        const left = msg.remainingSeconds(Date.now()) as number;
        mei = Math.max(left, 0);
      }
      let alias: number | undefined;
      let omit = false;
      let assigned = false;
      if (this.aliasOutMax > 0) {
        const map = (this.aliasOut ??= new Map());
        alias = map.get(msg.topic);
        if (alias !== undefined) omit = true;
        else if (map.size < this.aliasOutMax) {
          alias = map.size + 1;
          map.set(msg.topic, alias);
          assigned = true;
        }
      }
      if (subIds === undefined && alias === undefined && mei === undefined) buf = msg.bytes(5, qos, packetId, retain, dup);
      else
        buf = msg.template.encode(5, {
          qos,
          packetId: qos === 0 ? undefined : packetId,
          retain,
          dup,
          subscriptionIdentifiers: subIds,
          topicAlias: alias,
          omitTopic: omit,
          messageExpiryInterval: mei,
        });
      if (buf.length > this.maxOutPacket && assigned) this.aliasOut?.delete(msg.topic);
    }
    if (buf.length > this.maxOutPacket) return false;
    this.write(buf);
    const stats = this.core.stats;
    stats.messagesSent++;
    stats.publishBytesSent += msg.payload.length;
    return true;
  }

  /** Hands queued bytes to the stream (called by the broker once per I/O callback). */
  flush(): void {
    this.dirty = false;
    const first = this.#first;
    if (first === null || this.state === ConnState.Closed || this.#outHolds > 0) return;
    const more = this.#more;
    let data = first;
    if (more !== null) {
      more.unshift(first);
      data = Buffer.concat(more, this.#outLen);
    }
    this.#first = null;
    this.#more = null;
    this.#outLen = 0;
    this.lastTx = Date.now();
    this.core.stats.bytesSent += data.length;
    this.stream.write(data);
    if (this.stream.writableLength > this.core.limits.maxSendBuffer) this.congested = true;
  }

  // --- closing --------------------------------------------------------------------------
  /**
   * Closes the connection. With a reason code, a 5.0 client first gets DISCONNECT (or, before
   * CONNACK, a CONNACK with that code). `reason` is kept for the disconnected event and logs.
   */
  close(reason: string, reasonCode?: number, reasonString?: string): void {
    if (this.state >= ConnState.Closing) return;
    this.closeReason = reason;
    if (this.#outHolds > 0) {
      // Acknowledgements still waiting for a commit are not sent: the client re-sends.
      this.#first = null;
      this.#more = null;
      this.#outLen = 0;
      this.#outHolds = 0;
    }
    if (reasonCode !== undefined && this.version === 5) {
      const properties = reasonString !== undefined && this.problemInfo ? { reasonString } : undefined;
      if (this.state === ConnState.Connected) this.send({ type: 'disconnect', reasonCode, properties });
      // Before CONNACK only CONNACK codes exist (e.g. a shutdown while authenticating → 0x80).
      else
        this.send({
          type: 'connack',
          sessionPresent: false,
          reasonCode: isValidReasonCode('connack', reasonCode, 5) ? reasonCode : 0x80,
          properties,
        });
    }
    this.state = ConnState.Closing;
    this.flush();
    this.stream.end();
  }

  /** Immediate close (no more bytes). */
  destroy(reason: string): void {
    if (this.state === ConnState.Closed) return;
    if (this.state < ConnState.Closing) {
      this.state = ConnState.Closing;
      this.closeReason = reason;
    }
    this.stream.destroy();
  }

  /** Starts an enhanced-auth step: the args object for the hook. */
  authArgs(data: Buffer | undefined): EnhancedAuthArgs {
    const a = this.auth as AuthExchange;
    return { connection: this, clientId: this.clientId, method: a.method, data, step: a.step, reauthenticate: a.reauth, state: a.state };
  }
}
