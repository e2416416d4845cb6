import {
  type AuthPacket,
  type ConnackPacket,
  type ConnackProperties,
  type ConnectPacket,
  Decoder,
  type DisconnectPacket,
  type DisconnectProperties,
  MqttPacketError,
  type Packet,
  type ProtocolVersion,
  type PublishPacket,
  type PublishProperties,
  type QoS,
  reasonCodeName,
  type SubackPacket,
  type Subscription,
  topicFilterProblem,
  topicNameProblem,
  type UnsubackPacket,
  type UserProperties,
} from '@iotwire/mqtt-packet';
import type { AuthChallenge } from './auth.js';
import { type Clock, systemClock } from './clock.js';
import { Completion, resolved } from './completion.js';
import { runConfig } from './config-shim.js';
import { TypedEmitter } from './emitter.js';
import { clientError, MqttClientError } from './errors.js';
import type {
  ConnectedEvent,
  ConnectionStatusEvent,
  DisconnectedEvent,
  LogEvent,
  MessageAckEvent,
  MqttClientEvents,
  ServerCertificateVerdict,
  SubscribedEvent,
  UnsubscribedEvent,
} from './events.js';
import { IncomingFlows, OutgoingFlows, OutgoingMessage, type PublishResult } from './flows.js';
import { KeepAlive } from './keep-alive.js';
import { MessageState, MqttMessage, toBytes } from './message.js';
import { type BaseClientOptions, connectPropertiesOf, type LogLevel } from './options.js';
import { resolveQueueOptions } from './outbound-queue.js';
import { ReconnectPolicy } from './reconnect.js';
import { RequestTracker } from './request.js';
import { loadMessage, parseSession, type SessionSnapshot, storeMessage } from './session.js';
import { type ConnectionState, ConnectionStateMachine } from './state.js';
import { buildSubscriptions, type SubscribeOptions, type SubscriptionRequest, splitFilters } from './subscribe-request.js';
import { type SubscriptionRecord, SubscriptionRegistry } from './subscriptions.js';
import { IncomingTopicAliases, OutgoingTopicAliases, TopicAliasError } from './topic-alias.js';
import { throttle } from './transport/throttled.js';
import type { ByteStream, Connector, ConnectReporter, TlsInfo } from './transport/types.js';
import { parseUrl, type Target, targetFor } from './url.js';
import { PacketWriter } from './writer.js';

export type {
  ConnectedEvent,
  ConnectionStatusEvent,
  DisconnectedEvent,
  LogEvent,
  MessageAckEvent,
  MqttClientEvents,
  PublishResult,
  ServerCertificateVerdict,
  SubscribedEvent,
  SubscribeOptions,
  SubscriptionRequest,
  UnsubscribedEvent,
};

/** CONNACK outcome of connect(). */
export interface ConnectResult {
  sessionPresent: boolean;
  reasonCode: number;
  properties: ConnackProperties | undefined;
}

export interface PublishOptions {
  qos?: QoS;
  retain?: boolean;
  /** DUP flag for a first transmission (the client sets it itself on redelivery). */
  dup?: boolean;
  /** MQTT 5 properties (merged over `defaultPublishProperties`). */
  properties?: PublishProperties;
}

export interface SubscribeResult {
  topicFilter: string;
  /** Granted QoS, or the failure code (>= 0x80). */
  reasonCode: number;
}

export interface UnsubscribeOptions {
  userProperties?: UserProperties;
  delimiter?: string;
}

export interface DisconnectOptions {
  /** MQTT 5 reason code: 0x00 normal (default), 0x04 with Will message, … */
  reasonCode?: number;
  properties?: DisconnectProperties;
}

export interface RequestOptions extends PublishOptions {
  /** Response topic; default the client's (subscribed once, automatically). */
  responseTopic?: string;
  timeoutMs?: number;
}

const QOS0_DONE: Completion<PublishResult> = resolved({ packetId: -1, reasonCode: 0 });

interface PendingAck {
  resolve(p: SubackPacket | UnsubackPacket): void;
  reject(e: unknown): void;
  kind: 'suback' | 'unsuback';
  filters: string[];
}

let generatedIds = 0;

/**
 * The MQTT client. It composes the protocol pieces (state machine, keep-alive, packet ids,
 * flows, aliases, session, reconnect policy, outbound queue, transport) and owns none of
 * their logic. `C` is the platform's connector options (Node: TLS and socket options).
 */
export class MqttClientBase<O extends BaseClientOptions = BaseClientOptions> extends TypedEmitter<MqttClientEvents> {
  #options: O;
  readonly #initialOptions: O;
  readonly #connector: Connector<O>;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #machine: ConnectionStateMachine;
  readonly #keepAlive: KeepAlive;
  readonly #writer = new PacketWriter();
  #flows: OutgoingFlows;
  readonly #incoming = new IncomingFlows();
  readonly #sendAliases = new OutgoingTopicAliases();
  readonly #recvAliases = new IncomingTopicAliases();
  readonly #subscriptions = new SubscriptionRegistry();
  #reconnect: ReconnectPolicy;
  readonly #requests = new RequestTracker();
  #responseSubscription: Promise<unknown> | undefined;

  #stream: ByteStream | undefined;
  #decoder: Decoder | undefined;
  #version: ProtocolVersion = 4;
  #clientId = '';
  #connack: ConnackPacket | undefined;
  /** Set by disconnect()/interrupt(): the close is ours, no reconnection. */
  #closing = false;
  #abort: AbortController | undefined;
  #connectWaiter: { resolve(p: ConnackPacket): void; reject(e: unknown): void } | undefined;
  #pendingAcks = new Map<number, PendingAck>();
  #whenConnected: (() => void)[] = [];
  #closeReason: { error?: MqttClientError; reasonCode?: number; properties?: DisconnectProperties; normal: boolean } | undefined;
  #closed: (() => void)[] = [];
  #authInProgress = false;
  #reauthWaiter: { resolve(): void; reject(e: unknown): void } | undefined;
  #republishTimer: unknown;
  #sentAt = new WeakMap<OutgoingMessage, number>();
  #serverMaxQoS: QoS = 2;
  #autoAlias = false;
  readonly #connectorCache = new Map<string, unknown>();
  #retainAvailable = true;
  #sessionExpiry = 0;
  #tls: TlsInfo | undefined;
  #serverCertificate: ServerCertificateVerdict | undefined;
  #lastDisconnect: { reasonCode: number; properties: DisconnectProperties | undefined } | undefined;
  readonly #onUnobserved = (err: unknown) => this.emit('error', err as MqttClientError);

  constructor(options: O, connector: Connector<O>) {
    super();
    this.#initialOptions = { ...options };
    this.#options = { ...options };
    this.#connector = connector;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? Math.random;
    this.#machine = new ConnectionStateMachine((from, to) => {
      if (this.has('stateChange')) this.emit('stateChange', { from, to });
    });
    this.#keepAlive = new KeepAlive(this.#clock, {
      sendPing: () => this.#send({ type: 'pingreq' }, true),
      onTimeout: () => this.#lose(clientError('ERR_KEEPALIVE_TIMEOUT', `no PINGRESP within ${this.#keepAlive.intervalSeconds} s`)),
    });
    this.#flows = this.#makeFlows();
    this.#reconnect = this.#makeReconnect();
    this.#writer.onFlush = () => this.#keepAlive.sent();
    this.#writer.onBackpressure = () => {};
    this.#validateOptions(options);
  }

  #makeFlows(): OutgoingFlows {
    return new OutgoingFlows(resolveQueueOptions(this.#options.queue), {
      sendPublish: (msg) => this.#sendPublish(msg),
      sendPubrel: (id) => this.#send({ type: 'pubrel', packetId: id }),
      sentQoS0: (msg) => {
        if (this.has('messageOut')) this.emit('messageOut', msg);
      },
      finished: (msg, reasonCode, properties) => {
        if (this.has('messageAck')) {
          const index = this.#flows.indexOf(msg);
          const e: MessageAckEvent = { packetId: msg.packetId, direction: 0, index, responseCode: reasonCode, message: msg };
          if (properties) e.properties = properties;
          this.emit('messageAck', e);
        }
        if (this.has('messageOut')) this.emit('messageOut', msg);
      },
    });
  }

  #makeReconnect(): ReconnectPolicy {
    const r = this.#options.reconnect;
    return new ReconnectPolicy(
      r === true ? { enabled: true } : r ? { enabled: true, ...r } : { enabled: false },
      this.#clock,
      this.#random,
    );
  }

  #validateOptions(o: BaseClientOptions): void {
    const bad = (m: string) => {
      throw clientError('ERR_INVALID_ARGUMENT', m);
    };
    if (o.protocolVersion !== undefined && o.protocolVersion !== 4 && o.protocolVersion !== 5)
      bad('protocolVersion must be 4 (3.1.1) or 5 (5.0)');
    if (o.keepAlive !== undefined && !(Number.isInteger(o.keepAlive) && o.keepAlive >= 0 && o.keepAlive <= 65_535))
      bad('keepAlive must be 0..65535 s');
    if (o.will && (o.will.qos ?? 0) > 2) bad('will.qos must be 0..2');
    if (o.maxTransferRate !== undefined && !(o.maxTransferRate >= 0 && Number.isFinite(o.maxTransferRate)))
      bad('maxTransferRate must be a number of bytes per second (0 = unlimited)');
    if (o.url) parseUrl(o.url);
  }

  // ---------------------------------------------------------------- getters

  get options(): Readonly<O> {
    return this.#options;
  }
  /** The link state (the toolkit's Connected). */
  get connected(): boolean {
    return this.#machine.state === 'connected';
  }
  get state(): ConnectionState {
    return this.#machine.state;
  }
  /** Client id in use (generated or assigned by the server once connected). */
  get clientId(): string {
    return this.#clientId || this.#options.clientId || '';
  }
  get protocolVersion(): 4 | 5 {
    return this.#options.protocolVersion ?? 4;
  }
  get sessionPresent(): boolean {
    return this.#connack?.sessionPresent ?? false;
  }
  /** CONNACK properties of the current/last connection (absent keys mean the spec defaults). */
  get connackProperties(): ConnackProperties | undefined {
    return this.#connack?.properties;
  }
  /** The toolkit's ServerTopicAliasMax: aliases we may send on this connection. */
  get serverTopicAliasMaximum(): number {
    return this.#sendAliases.maximum;
  }
  /** Keep-alive in effect (the server's Server Keep Alive when it sent one). */
  get keepAliveInterval(): number {
    return this.#keepAlive.intervalSeconds;
  }
  /** Session expiry in effect (the server's when it overrode ours). */
  get sessionExpiryInterval(): number {
    return this.#sessionExpiry;
  }
  /** Last packet id used for a publish (OutgoingPacketId). */
  get outgoingPacketId(): number {
    return this.#flows.ids.last;
  }
  /** Snapshot of unfinished outgoing QoS 1/2 messages (OutgoingMessages), in order. */
  get outgoingMessages(): readonly MqttMessage[] {
    return [...this.#flows.inflight.values()];
  }
  /** Messages waiting to be sent (offline or beyond the Receive Maximum). */
  get queuedMessages(): readonly MqttMessage[] {
    return this.#flows.queue.toArray();
  }
  /** Snapshot of unfinished incoming QoS 2 messages (IncomingMessages). */
  get incomingMessages(): readonly MqttMessage[] {
    return [...this.#incoming.pending.values()];
  }
  /** Subscriptions granted by the server (restored after a lost session). */
  get subscriptions(): readonly SubscriptionRecord[] {
    return this.#subscriptions.list();
  }
  /** ReadyToSend: connected and the transport not pushing back. */
  get readyToSend(): boolean {
    return this.connected && !(this.#stream?.needDrain ?? true);
  }
  get localAddress(): string | undefined {
    return this.#stream?.localAddress;
  }
  get localPort(): number | undefined {
    return this.#stream?.localPort;
  }
  get remoteAddress(): string | undefined {
    return this.#stream?.remoteAddress;
  }
  get remotePort(): number | undefined {
    return this.#stream?.remotePort;
  }
  /** Negotiated TLS facts (SSLNegotiated*), when secure. */
  get tlsInfo(): TlsInfo | undefined {
    return this.#tls;
  }
  /** The server certificate verdict of the last secure connection (SSLServerCert). */
  get serverCertificate(): ServerCertificateVerdict | undefined {
    return this.#serverCertificate;
  }
  /** The DISCONNECT the server sent last (DisconnectReasonCode / DisconnectProperties). */
  get lastServerDisconnect(): { reasonCode: number; properties: DisconnectProperties | undefined } | undefined {
    return this.#lastDisconnect;
  }

  // ---------------------------------------------------------------- connect

  /** Connects (the toolkit's Connect). Resolves on CONNACK success; rejects with a typed error. */
  async connect(): Promise<ConnectResult> {
    if (this.#machine.state === 'connected') throw clientError('ERR_ALREADY_CONNECTED', 'already connected');
    if (this.#machine.state === 'connecting' || this.#machine.state === 'disconnecting')
      throw clientError('ERR_ALREADY_CONNECTING', 'a connection attempt is in progress');
    this.#reconnect.cancel();
    this.#closing = false;
    return this.#open(false);
  }

  /**
   * The toolkit's Config: `"NAME=VALUE"` sets a documented setting (mapped onto the typed
   * options; returns `''`), `"NAME"` reads one. See config-shim.ts for the table.
   */
  config(configurationString: string): string {
    return runConfig(
      {
        client: this,
        options: () => this.#options,
        update: (next) => {
          const reconnectChanged = next.reconnect !== this.#options.reconnect;
          this.#validateOptions(next);
          this.#options = next as O;
          if (reconnectChanged) this.#reconnect = this.#makeReconnect();
        },
        node: this.hasNodeTransports,
      },
      configurationString,
    );
  }

  /** Whether TLS, socket and proxy options apply (the Node client). */
  protected get hasNodeTransports(): boolean {
    return false;
  }

  /** Sets host and port, then connects (ConnectTo). `host` may carry a scheme. */
  connectTo(host: string, port?: number): Promise<ConnectResult> {
    this.#options = { ...this.#options, host, ...(port !== undefined ? { port } : {}) };
    delete this.#options.url;
    return this.connect();
  }

  #target(): Target {
    const o = this.#options;
    if (o.url) {
      const t = parseUrl(o.url);
      if (o.wsPath !== undefined && (t.protocol === 'ws' || t.protocol === 'wss') && t.path === '/mqtt') t.path = o.wsPath;
      return t;
    }
    return targetFor(o.host ?? 'localhost', o.port, o.secure ?? false, o.wsPath);
  }

  #generateClientId(): string {
    const r = Math.floor(this.#random() * 0xffff_ffff)
      .toString(16)
      .padStart(8, '0');
    return `iotwire-${r}${(generatedIds++).toString(16)}`;
  }

  async #open(isReconnect: boolean): Promise<ConnectResult> {
    const o = this.#options;
    this.#machine.move('connecting');
    this.#version = o.protocolVersion ?? 4;
    const clean = o.clean ?? true;
    let clientId = o.clientId ?? '';
    if (!clientId) {
      if (this.#clientId && (!clean || isReconnect)) clientId = this.#clientId;
      else if (clean) clientId = this.#generateClientId();
      else if (this.#version === 4) {
        this.#machine.move('disconnected');
        throw clientError(
          'ERR_INVALID_ARGUMENT',
          'MQTT 3.1.1 needs a client id when clean is false (the server would refuse it with 0x02)',
        );
      }
    }
    this.#clientId = clientId;
    const abort = new AbortController();
    this.#abort = abort;
    const timeoutMs = o.connectTimeoutMs ?? 30_000;
    const timer =
      timeoutMs > 0
        ? this.#clock.setTimeout(() => abort.abort(clientError('ERR_TIMEOUT', `no connection within ${timeoutMs} ms`)), timeoutMs)
        : undefined;
    let target: Target | undefined;
    try {
      target = this.#target();
      this.#log(1, 'Info', `connecting to ${target.protocol}://${target.host}:${target.port}${isReconnect ? ' (reconnect)' : ''}`);
      const stream = throttle(
        await this.#connector(target, o, abort.signal, this.#reporter(), this.#connectorCache),
        o.maxTransferRate,
        this.#clock,
      );
      if (abort.signal.aborted) {
        stream.destroy();
        throw abort.signal.reason;
      }
      const connack = await this.#handshake(stream, target, clientId, clean, abort.signal);
      if (timer !== undefined) this.#clock.clearTimeout(timer);
      return this.#established(connack, isReconnect);
    } catch (e) {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
      const err = e instanceof MqttClientError ? e : clientError('ERR_TRANSPORT', (e as Error)?.message ?? String(e), { cause: e });
      this.#teardownStream();
      this.#abort = undefined;
      if (this.has('connected')) {
        this.emit('connected', {
          statusCode: err.code === 'ERR_CONNECTION_REFUSED' ? (err.reasonCode ?? err.errorCode) : err.errorCode,
          description: err.message,
          sessionPresent: false,
          reasonCode: err.code === 'ERR_CONNECTION_REFUSED' ? err.reasonCode : undefined,
          properties: this.#connack?.properties,
          reconnect: isReconnect,
          error: err,
        });
      }
      this.#log(1, isReconnect ? 'Reconnect' : 'Info', `connection attempt failed: ${err.message}`);
      this.#notifyClosed();
      if (isReconnect && !this.#closing && this.#machine.is('connecting')) {
        this.#machine.move('reconnecting');
        this.#scheduleReconnect();
      } else if (this.#machine.state !== 'disconnected') {
        this.#machine.move('disconnected');
        this.#rejectWhenConnected(err);
      }
      throw err;
    }
  }

  #reporter(): ConnectReporter {
    return {
      status: (connectionEvent, statusCode, description) => {
        if (this.has('connectionStatus')) this.emit('connectionStatus', { connectionEvent, statusCode, description });
      },
      sslStatus: (message) => {
        if (this.has('sslStatus')) this.emit('sslStatus', { message });
        this.#log(2, 'Info', message);
      },
      verifyServer: (verdict) => {
        const v = verdict as ServerCertificateVerdict;
        this.#serverCertificate = v;
        this.emit('sslServerAuthentication', v);
        return v.accept;
      },
      log: (level, message) => this.#log(level, 'Info', message),
    };
  }

  #handshake(stream: ByteStream, _target: Target, clientId: string, clean: boolean, signal: AbortSignal): Promise<ConnackPacket> {
    const o = this.#options;
    this.#stream = stream;
    this.#tls = stream.tls;
    this.#closeReason = undefined;
    const decoder = new Decoder((p) => this.#onPacket(p), {
      protocolVersion: this.#version,
      side: 'client',
      ...(o.maximumPacketSize ? { maxPacketSize: o.maximumPacketSize } : {}),
    });
    this.#decoder = decoder;
    this.#writer.attach(stream, this.#version);
    return new Promise<ConnackPacket>((resolve, reject) => {
      const onAbort = () => {
        this.#connectWaiter = undefined;
        reject(signal.reason instanceof Error ? signal.reason : clientError('ERR_INTERRUPTED', 'connect aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#connectWaiter = {
        resolve: (p) => {
          signal.removeEventListener('abort', onAbort);
          this.#connectWaiter = undefined;
          resolve(p);
        },
        reject: (e) => {
          signal.removeEventListener('abort', onAbort);
          this.#connectWaiter = undefined;
          reject(e);
        },
      };
      stream.start({
        data: (chunk) => this.#onData(chunk),
        drain: () => {
          if (this.connected) this.emit('readyToSend');
        },
        close: (err) => this.#onClose(err),
      });
      this.#buildConnect(clientId, clean).then(
        (connect) => {
          if (this.#stream !== stream) return;
          try {
            this.#send(connect);
            this.#writer.flush();
          } catch (err) {
            this.#connectWaiter?.reject(this.#wrapCodecError(err, 'ERR_INVALID_ARGUMENT'));
          }
        },
        (err) => this.#connectWaiter?.reject(err),
      );
    });
  }

  async #buildConnect(clientId: string, clean: boolean): Promise<ConnectPacket> {
    const o = this.#options;
    const packet: ConnectPacket = { type: 'connect', protocolVersion: this.#version, clean, keepAlive: o.keepAlive ?? 60, clientId };
    if (o.username !== undefined && o.username !== '') packet.username = o.username;
    if (o.password !== undefined && (typeof o.password !== 'string' || o.password !== '')) {
      if (this.#version === 4 && packet.username === undefined)
        throw clientError('ERR_INVALID_ARGUMENT', 'MQTT 3.1.1 does not allow a password without a username');
      packet.password = toBytes(o.password);
    }
    if (o.will?.topic) {
      const problem = topicNameProblem(o.will.topic);
      if (problem) throw clientError('ERR_TOPIC_NAME_INVALID', `will topic: ${problem}`);
      packet.will = { topic: o.will.topic, payload: toBytes(o.will.payload ?? ''), qos: o.will.qos ?? 0, retain: o.will.retain ?? false };
      if (this.#version === 5 && o.will.properties) packet.will.properties = o.will.properties;
    }
    if (this.#version === 5) {
      const props = connectPropertiesOf(o) ?? {};
      if (o.auth) {
        props.authenticationMethod = o.auth.method;
        const data = await o.auth.initialData?.();
        if (data) props.authenticationData = data;
        this.#authInProgress = true;
      }
      if (Object.keys(props).length) packet.properties = props;
    }
    return packet;
  }

  #established(connack: ConnackPacket, isReconnect: boolean): ConnectResult {
    const o = this.#options;
    const p = connack.properties;
    this.#connack = connack;
    this.#abort = undefined;
    if (p?.assignedClientIdentifier) this.#clientId = p.assignedClientIdentifier;
    this.#sessionExpiry = p?.sessionExpiryInterval ?? o.sessionExpiryInterval ?? 0;
    this.#serverMaxQoS = (p?.maximumQoS ?? 2) as QoS;
    this.#retainAvailable = p?.retainAvailable ?? true;
    this.#writer.maxPacketSize = p?.maximumPacketSize ?? Number.POSITIVE_INFINITY;
    this.#sendAliases.reset(this.#version === 5 ? (p?.topicAliasMaximum ?? 0) : 0);
    this.#autoAlias = this.#version === 5 && o.topicAliases !== 'off' && this.#sendAliases.maximum > 0;
    this.#recvAliases.reset(this.#version === 5 ? (o.topicAliasMaximum ?? 0) : 0);
    const keepAlive = p?.serverKeepAlive ?? o.keepAlive ?? 60;
    this.#keepAlive.start(keepAlive, o.pingTimeoutMs);
    this.#machine.move('connected');
    this.#reconnect.succeeded();
    if (!connack.sessionPresent) this.#incoming.clear();
    const quota = this.#version === 5 ? (p?.receiveMaximum ?? 65_535) : (o.maxInflight ?? 65_535);
    this.#flows.connected(connack.sessionPresent, quota);
    this.#startRepublishTimer();
    this.#log(
      1,
      isReconnect ? 'Reconnect' : 'Info',
      `connected as ${this.#clientId} (session present: ${connack.sessionPresent}, keep-alive ${keepAlive} s)`,
    );
    if (this.has('connectionStatus'))
      this.emit('connectionStatus', { connectionEvent: 'mqttConnected', statusCode: 0, description: 'CONNACK accepted' });
    if (this.has('connected')) {
      this.emit('connected', {
        statusCode: 0,
        description: 'OK',
        sessionPresent: connack.sessionPresent,
        reasonCode: connack.reasonCode,
        properties: p,
        reconnect: isReconnect,
      });
    }
    if (!connack.sessionPresent && (o.resubscribe ?? true) && this.#subscriptions.size > 0 && this.connected) this.#restoreSubscriptions();
    const waiting = this.#whenConnected;
    this.#whenConnected = [];
    for (const fn of waiting) if (this.connected) fn();
    if (this.connected) this.emit('readyToSend');
    return { sessionPresent: connack.sessionPresent, reasonCode: connack.reasonCode, properties: p };
  }

  #restoreSubscriptions(): void {
    for (const g of this.#subscriptions.restoreGroups()) {
      this.#log(1, 'Session', `server has no session: re-subscribing ${g.subscriptions.map((s) => s.topicFilter).join(', ')}`);
      this.#sendSubscribe(g.subscriptions, g.subscriptionIdentifier, g.userProperties, true).catch((err: MqttClientError) => {
        if (err.code !== 'ERR_CONNECTION_LOST' && err.code !== 'ERR_DISCONNECTED') this.emit('error', err);
      });
    }
  }

  // ---------------------------------------------------------------- inbound

  #onData(chunk: Buffer): void {
    const decoder = this.#decoder;
    if (!decoder) return;
    this.#keepAlive.received();
    try {
      decoder.push(chunk);
    } catch (err) {
      if (this.#decoder !== decoder) return;
      if (err instanceof MqttPacketError) {
        const code = err.reasonCode === 0x81 || err.reasonCode === 0x95 ? 'ERR_MALFORMED_PACKET' : 'ERR_PROTOCOL';
        this.#protocolViolation(
          clientError(code, `bad packet from the server: ${err.message}`, { reasonCode: err.reasonCode, cause: err }),
          err.reasonCode,
        );
      } else if (err instanceof TopicAliasError) {
        this.#protocolViolation(clientError('ERR_PROTOCOL', err.message, { reasonCode: err.reasonCode }), err.reasonCode);
      } else if (err instanceof MqttClientError && err.reasonCode !== undefined) {
        this.#protocolViolation(err, err.reasonCode);
      } else {
        // Our own bug must not take the host down: report it and drop the connection.
        this.#protocolViolation(
          clientError('ERR_PROTOCOL', `internal error handling a packet: ${(err as Error)?.message}`, { cause: err, reasonCode: 0x83 }),
          0x83,
        );
      }
    }
  }

  #onPacket(p: Packet): void {
    if (this.#options.logLevel === 3) this.#log(3, 'Packet', `in ${describe(p)}`);
    switch (p.type) {
      case 'publish':
        this.#onPublish(p);
        return;
      case 'puback':
        if (!this.#flows.puback(p.packetId, p.reasonCode ?? 0, p.properties))
          this.#log(2, 'Info', `PUBACK for unknown packet id ${p.packetId}`);
        return;
      case 'pubrec':
        if (this.#flows.pubrec(p.packetId, p.reasonCode ?? 0, p.properties) === 'unknown') {
          this.#send({ type: 'pubrel', packetId: p.packetId, reasonCode: 0x92 });
        }
        return;
      case 'pubrel':
        this.#onPubrel(p.packetId);
        return;
      case 'pubcomp':
        if (!this.#flows.pubcomp(p.packetId, p.reasonCode ?? 0, p.properties))
          this.#log(2, 'Info', `PUBCOMP for unknown packet id ${p.packetId}`);
        return;
      case 'suback':
      case 'unsuback':
        this.#onSubOrUnsubAck(p);
        return;
      case 'pingresp':
        this.#keepAlive.pong();
        return;
      case 'connack':
        this.#onConnack(p);
        return;
      case 'disconnect':
        this.#onServerDisconnect(p);
        return;
      case 'auth':
        this.#onAuth(p);
        return;
      default:
        throw clientError('ERR_PROTOCOL', `unexpected ${p.type.toUpperCase()} from the server`, { reasonCode: 0x82 });
    }
  }

  #onConnack(p: ConnackPacket): void {
    const waiter = this.#connectWaiter;
    if (!waiter) throw clientError('ERR_PROTOCOL', 'CONNACK on an established connection', { reasonCode: 0x82 });
    if (p.reasonCode !== 0) {
      this.#connack = p;
      const name = reasonCodeName(p.reasonCode, 'connack', this.#version) ?? 'refused';
      const reason = p.properties?.reasonString ? ` (${p.properties.reasonString})` : '';
      waiter.reject(
        clientError('ERR_CONNECTION_REFUSED', `server refused the connection: 0x${p.reasonCode.toString(16)} ${name}${reason}`, {
          reasonCode: p.reasonCode,
        }),
      );
      return;
    }
    const auth = this.#options.auth;
    if (this.#authInProgress && auth) {
      this.#authInProgress = false;
      if (p.properties?.authenticationMethod !== undefined && p.properties.authenticationMethod !== auth.method) {
        throw clientError('ERR_PROTOCOL', 'CONNACK carries a different authentication method', { reasonCode: 0x82 });
      }
      // Hold packets until the application has checked the server's final data.
      this.#decoder?.pause();
      Promise.resolve()
        .then(() => auth.complete?.({ reasonCode: 0, data: p.properties?.authenticationData, properties: p.properties }))
        .then(
          () => {
            waiter.resolve(p);
            this.#decoder?.resume();
          },
          (err) => {
            this.#sendDisconnectAndClose(0x87);
            waiter.reject(clientError('ERR_AUTH_FAILED', `server authentication refused: ${(err as Error).message}`, { cause: err }));
          },
        );
      return;
    }
    waiter.resolve(p);
  }

  #onAuth(p: AuthPacket): void {
    const auth = this.#options.auth;
    const duringConnect = this.#connectWaiter !== undefined;
    if (!auth || (!duringConnect && !this.#reauthWaiter)) {
      throw clientError('ERR_PROTOCOL', 'AUTH without an authentication exchange in progress', { reasonCode: 0x82 });
    }
    if (p.properties?.authenticationMethod !== auth.method) {
      throw clientError('ERR_PROTOCOL', 'AUTH with a different authentication method', { reasonCode: 0x82 });
    }
    const challenge: AuthChallenge = { reasonCode: p.reasonCode, data: p.properties?.authenticationData, properties: p.properties };
    if (p.reasonCode === 0x00) {
      // Re-authentication finished.
      const w = this.#reauthWaiter;
      this.#reauthWaiter = undefined;
      Promise.resolve()
        .then(() => auth.complete?.(challenge))
        .then(
          () => w?.resolve(),
          (err) => {
            w?.reject(clientError('ERR_AUTH_FAILED', (err as Error).message, { cause: err }));
            this.#sendDisconnectAndClose(0x87);
          },
        );
      return;
    }
    if (p.reasonCode !== 0x18)
      throw clientError('ERR_PROTOCOL', `AUTH with reason code 0x${p.reasonCode.toString(16)} from the server`, { reasonCode: 0x82 });
    const stream = this.#stream;
    Promise.resolve()
      .then(() => auth.respond(challenge))
      .then(
        (data) => {
          if (this.#stream !== stream) return;
          this.#send({
            type: 'auth',
            reasonCode: 0x18,
            properties: data ? { authenticationMethod: auth.method, authenticationData: data } : { authenticationMethod: auth.method },
          });
        },
        (err) => {
          const e = clientError('ERR_AUTH_FAILED', `authentication aborted: ${(err as Error).message}`, { cause: err });
          if (this.#connectWaiter) this.#connectWaiter.reject(e);
          else if (this.#reauthWaiter) {
            this.#reauthWaiter.reject(e);
            this.#reauthWaiter = undefined;
          }
          this.#sendDisconnectAndClose(0x87);
        },
      );
  }

  /** MQTT 5 re-authentication (AUTH 0x19) on a live connection. Resolves on AUTH Success. */
  async reauthenticate(): Promise<void> {
    const auth = this.#options.auth;
    if (!auth || this.#version !== 5) throw clientError('ERR_NOT_SUPPORTED', 'reauthenticate() needs MQTT 5 and the auth option');
    if (!this.connected) throw clientError('ERR_NOT_CONNECTED', 'not connected');
    if (this.#reauthWaiter) throw clientError('ERR_ALREADY_CONNECTING', 'a re-authentication is in progress');
    const data = await auth.initialData?.();
    return new Promise<void>((resolve, reject) => {
      this.#reauthWaiter = { resolve, reject };
      this.#send({
        type: 'auth',
        reasonCode: 0x19,
        properties: data ? { authenticationMethod: auth.method, authenticationData: data } : { authenticationMethod: auth.method },
      });
    });
  }

  #onPublish(p: PublishPacket): void {
    if (this.#connectWaiter) throw clientError('ERR_PROTOCOL', 'PUBLISH before CONNACK', { reasonCode: 0x82 });
    let topic = p.topic;
    let props = p.properties;
    if (this.#version === 5 && props?.topicAlias !== undefined) {
      topic = this.#recvAliases.resolve(p.topic, props.topicAlias);
    }
    const msg = new MqttMessage(topic, p.payload, p.qos, p.retain, p.dup, props, p.packetId ?? 0);
    if (p.qos === 0) {
      this.#deliver(msg);
      return;
    }
    const id = p.packetId as number;
    if (p.qos === 1) {
      msg.state = MessageState.SendPuback;
      this.#send({ type: 'puback', packetId: id });
      msg.state = MessageState.InDone;
      if (this.has('messageAck')) {
        this.#incoming.pending.set(-1, msg);
        const index = this.#incoming.pending.size - 1;
        this.emit('messageAck', { packetId: id, direction: 1, index, responseCode: 0, message: msg });
        this.#incoming.pending.delete(-1);
      }
      this.#deliver(msg);
      return;
    }
    // QoS 2
    if (this.#incoming.has(id) || this.#incoming.isRedelivery(id, p.dup, topic, p.payload)) {
      this.#send({ type: 'pubrec', packetId: id });
      return;
    }
    const max = this.#version === 5 ? (this.#options.receiveMaximum ?? 65_535) : 65_535;
    if (this.#incoming.pending.size >= max) {
      throw clientError('ERR_PROTOCOL', `server exceeded our Receive Maximum of ${max}`, { reasonCode: 0x93 });
    }
    msg.state = MessageState.SendPubrec;
    if (props?.topicAlias !== undefined) {
      props = { ...props };
      msg.properties = props;
    }
    this.#incoming.hold(msg);
    this.#send({ type: 'pubrec', packetId: id });
  }

  #onPubrel(id: number): void {
    const msg = this.#incoming.release(id);
    if (!msg) {
      const ghost = this.#incoming.releaseGhost(id);
      this.#send({ type: 'pubcomp', packetId: id, reasonCode: ghost || this.#version !== 5 ? 0 : 0x92 });
      return;
    }
    this.#send({ type: 'pubcomp', packetId: id });
    this.#incoming.completed(msg);
    msg.state = MessageState.InDone;
    if (this.has('messageAck')) {
      this.emit('messageAck', { packetId: id, direction: 1, index: this.#incoming.indexOf(msg), responseCode: 0, message: msg });
    }
    this.#incoming.remove(id);
    this.#deliver(msg);
  }

  #deliver(msg: MqttMessage): void {
    if (this.#requests.pending > 0 && this.#requests.offer(msg)) return;
    this.emit('messageIn', msg);
  }

  #onSubOrUnsubAck(p: SubackPacket | UnsubackPacket): void {
    const pending = this.#pendingAcks.get(p.packetId);
    if (!pending || pending.kind !== p.type) {
      throw clientError('ERR_PROTOCOL', `${p.type.toUpperCase()} for unknown packet id ${p.packetId}`, { reasonCode: 0x82 });
    }
    if (p.type === 'suback' || this.#version === 5) {
      if (p.reasonCodes.length !== pending.filters.length) {
        throw clientError(
          'ERR_PROTOCOL',
          `${p.type.toUpperCase()} has ${p.reasonCodes.length} codes for ${pending.filters.length} filters`,
          {
            reasonCode: 0x82,
          },
        );
      }
    }
    this.#pendingAcks.delete(p.packetId);
    this.#flows.ids.release(p.packetId);
    pending.resolve(p);
  }

  #onServerDisconnect(p: DisconnectPacket): void {
    const reasonCode = p.reasonCode ?? 0;
    this.#lastDisconnect = { reasonCode, properties: p.properties };
    const text = p.properties?.reasonString ? `: ${p.properties.reasonString}` : '';
    const ref = p.properties?.serverReference ? ` (use another server: ${p.properties.serverReference})` : '';
    this.#closeReason = {
      reasonCode,
      properties: p.properties,
      normal: reasonCode === 0,
      error: clientError(
        'ERR_SERVER_DISCONNECT',
        `server sent DISCONNECT 0x${reasonCode.toString(16)} ${reasonCodeName(reasonCode, 'disconnect') ?? ''}${text}${ref}`,
        { reasonCode },
      ),
    };
    this.#decoder = undefined;
    this.#stream?.destroy();
  }

  // ---------------------------------------------------------------- outbound

  #send(p: Packet, urgent = false): void {
    if (this.#options.logLevel === 3) this.#log(3, 'Packet', `out ${describe(p)}`);
    if (urgent) this.#writer.writeUrgent(p);
    else this.#writer.write(p);
  }

  #sendPublish(msg: OutgoingMessage): void {
    this.#send(this.#version === 5 ? this.#wire(msg) : msg);
    if (this.#republishTimer !== undefined) this.#sentAt.set(msg, this.#clock.now());
  }

  /**
   * The PUBLISH as it goes on the wire in 5.0: an explicit alias is validated against this
   * connection's map (dropped if the server no longer allows it), otherwise an alias is
   * assigned automatically; an established alias replaces the topic with ''.
   */
  #wire(p: PublishPacket): PublishPacket {
    const aliases = this.#sendAliases;
    const explicit = p.properties?.topicAlias;
    if (explicit !== undefined) {
      if (explicit > aliases.maximum || explicit < 1) {
        const { topicAlias: _drop, ...rest } = p.properties as PublishProperties;
        return { ...withoutProperties(p), ...(Object.keys(rest).length ? { properties: rest } : {}) };
      }
      if (p.topic === '') return p;
      return aliases.use(explicit, p.topic) ? { ...withoutProperties(p), topic: '', properties: p.properties } : p;
    }
    if (!this.#autoAlias) return p;
    const problem = topicNameProblem(p.topic);
    if (problem) throw clientError('ERR_TOPIC_NAME_INVALID', `invalid topic name ${JSON.stringify(p.topic)}: ${problem}`);
    const a = aliases.assign(p.topic) as { alias: number; known: boolean };
    return { ...withoutProperties(p), topic: a.known ? '' : p.topic, properties: { ...p.properties, topicAlias: a.alias } };
  }

  #effectiveProperties(options: PublishOptions | undefined): PublishProperties | undefined {
    const d = this.#options.defaultPublishProperties;
    const p = options?.properties;
    if (!d) return p;
    if (!p) return d;
    return { ...d, ...p };
  }

  /**
   * Publishes (PublishData / PublishMessage). Resolves when the flow completes: at once for
   * QoS 0, on PUBACK for QoS 1, on PUBCOMP for QoS 2; rejects with ERR_PUBLISH_FAILED
   * carrying the reason code on a failing ack. Offline (or beyond the server's Receive
   * Maximum) QoS 1/2 messages wait in the bounded queue; QoS 0 is not queued unless
   * `queue.queueQoS0`. The returned promise is created lazily: publishing without awaiting
   * allocates no promise, and an unobserved failure is reported as an `error` event.
   */
  publish(topic: string, payload: string | Uint8Array, options?: PublishOptions): Promise<PublishResult> {
    const qos = options?.qos ?? 0;
    const retain = options?.retain ?? false;
    const properties = this.protocolVersion === 5 ? this.#effectiveProperties(options) : undefined;
    try {
      if (qos !== 0 && qos !== 1 && qos !== 2) throw clientError('ERR_QOS_INVALID', `invalid QoS ${String(qos)}`);
      const bytes = toBytes(payload);
      if (this.#machine.state === 'connected') {
        if (qos > this.#serverMaxQoS)
          throw clientError('ERR_QOS_INVALID', `QoS ${qos} above the server's Maximum QoS ${this.#serverMaxQoS}`, { reasonCode: 0x9b });
        if (retain && !this.#retainAvailable)
          throw clientError('ERR_NOT_SUPPORTED', 'the server does not support retained messages', { reasonCode: 0x9a });
        if (qos === 0) return this.#publishQoS0(topic, bytes, retain, options?.dup ?? false, properties);
      }
      return this.#publishQueued(topic, bytes, qos, retain, options?.dup ?? false, properties);
    } catch (err) {
      const c = new Completion<PublishResult>(this.#onUnobserved);
      c.reject(this.#wrapCodecError(err, 'ERR_TOPIC_NAME_INVALID'));
      return c;
    }
  }

  #publishQoS0(
    topic: string,
    payload: Uint8Array,
    retain: boolean,
    dup: boolean,
    properties: PublishProperties | undefined,
  ): Promise<PublishResult> {
    let packet: PublishPacket = { type: 'publish', topic, payload, qos: 0, retain, dup, properties };
    if (this.#version === 5) {
      if (topic === '' && properties?.topicAlias !== undefined && this.#sendAliases.topicOf(properties.topicAlias) === undefined) {
        throw clientError('ERR_TOPIC_NAME_INVALID', `topic alias ${properties.topicAlias} is not established`);
      }
      packet = this.#wire(packet);
    }
    this.#send(packet);
    if (this.has('messageOut')) this.emit('messageOut', new MqttMessage(topic, payload, 0, retain, dup, properties));
    return QOS0_DONE;
  }

  #publishQueued(
    topic: string,
    payload: Uint8Array,
    qos: QoS,
    retain: boolean,
    dup: boolean,
    properties: PublishProperties | undefined,
  ): Promise<PublishResult> {
    if (topic === '' && properties?.topicAlias !== undefined && this.connected) {
      // An alias-only publish: store the real topic (resends after reconnect need it).
      topic = this.#sendAliases.topicOf(properties.topicAlias) ?? '';
    }
    const problem = topicNameProblem(topic);
    if (problem) throw clientError('ERR_TOPIC_NAME_INVALID', `invalid topic name ${JSON.stringify(topic)}: ${problem}`);
    if (qos === 0 && !this.#flows.queue.options.queueQoS0) {
      throw clientError('ERR_NOT_CONNECTED', 'not connected (QoS 0 messages are not queued; see queue.queueQoS0)');
    }
    if (qos === 0) {
      // A queued QoS 0 message rides the QoS 1/2 queue but is sent as QoS 0 when it leaves.
      const msg = new OutgoingMessage(topic, payload, 0, retain, dup, properties, this.#onUnobserved);
      this.#queue(msg);
      return msg.completion;
    }
    const msg = new OutgoingMessage(topic, payload, qos, retain, dup, properties, this.#onUnobserved);
    if (this.connected) {
      this.#admit(msg);
    } else {
      this.#queue(msg);
    }
    return msg.completion;
  }

  #admit(msg: OutgoingMessage): void {
    const dropped = this.#flows.submit(msg);
    for (const d of dropped) d.completion.reject(clientError('ERR_QUEUE_DROPPED', `queued message to ${d.topic} dropped to make room`));
  }

  #queue(msg: OutgoingMessage): void {
    const dropped = this.#flows.queue.push(msg);
    for (const d of dropped) d.completion.reject(clientError('ERR_QUEUE_DROPPED', `queued message to ${d.topic} dropped to make room`));
  }

  /** The toolkit's PublishMessage(topic, QOS, message). */
  publishMessage(topic: string, qos: QoS, message: string, options?: Omit<PublishOptions, 'qos'>): Promise<PublishResult> {
    return this.publish(topic, message, { ...options, qos });
  }

  /** The toolkit's PublishData(topic, QOS, data). */
  publishData(topic: string, qos: QoS, data: Uint8Array, options?: Omit<PublishOptions, 'qos'>): Promise<PublishResult> {
    return this.publish(topic, data, { ...options, qos });
  }

  /** Writes raw bytes, bypassing the state machines (SendCustomPacket; diagnostics). */
  sendRawPacket(bytes: Uint8Array): void {
    if (!this.#stream || !this.connected) throw clientError('ERR_NOT_CONNECTED', 'not connected');
    this.#writer.flush();
    this.#stream.write(bytes);
  }

  // ---------------------------------------------------------------- subscribe

  /**
   * Subscribes one or more filters (a delimited string, an array, or per-filter requests).
   * Resolves with one result per filter when the SUBACK arrives; rejects with
   * ERR_SUBSCRIBE_FAILED (reason code of the first filter) only when every filter failed.
   */
  subscribe(filters: string | readonly (string | SubscriptionRequest)[], options: SubscribeOptions = {}): Promise<SubscribeResult[]> {
    let subs: Subscription[];
    try {
      subs = this.#subscriptionsOf(filters, options);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#whenUp(() => this.#sendSubscribe(subs, options.subscriptionIdentifier, options.userProperties, false));
  }

  #subscriptionsOf(filters: string | readonly (string | SubscriptionRequest)[], o: SubscribeOptions): Subscription[] {
    return buildSubscriptions(filters, o, this.protocolVersion === 5, this.connected ? this.#connack?.properties : undefined);
  }

  /** Runs `op` now when connected, after the connection when one is being made, else fails. */
  #whenUp<T>(op: () => Promise<T>): Promise<T> {
    if (this.connected) return op();
    if (this.#machine.is('connecting', 'reconnecting')) {
      return new Promise<T>((resolve, reject) => {
        const run = () => op().then(resolve, reject);
        (run as { reject?: (e: unknown) => void }).reject = reject;
        this.#whenConnected.push(run);
      });
    }
    return Promise.reject(clientError('ERR_NOT_CONNECTED', 'not connected'));
  }

  #rejectWhenConnected(err: unknown): void {
    const waiting = this.#whenConnected;
    this.#whenConnected = [];
    for (const fn of waiting) (fn as { reject?: (e: unknown) => void }).reject?.(err);
  }

  #sendSubscribe(
    subs: Subscription[],
    subscriptionIdentifier: number | undefined,
    userProperties: UserProperties | undefined,
    restored: boolean,
  ) {
    const packetId = this.#flows.ids.allocate();
    const properties: { subscriptionIdentifier?: number; userProperties?: UserProperties } = {};
    if (subscriptionIdentifier !== undefined) properties.subscriptionIdentifier = subscriptionIdentifier;
    if (userProperties?.length) properties.userProperties = userProperties;
    const filters = subs.map((s) => s.topicFilter);
    return new Promise<SubscribeResult[]>((resolve, reject) => {
      this.#pendingAcks.set(packetId, {
        kind: 'suback',
        filters,
        reject,
        resolve: (ack) => {
          const suback = ack as SubackPacket;
          const results: SubscribeResult[] = [];
          for (let i = 0; i < subs.length; i++) {
            const s = subs[i] as Subscription;
            const code = suback.reasonCodes[i] as number;
            results.push({ topicFilter: s.topicFilter, reasonCode: code });
            if (code < 0x80) {
              const rec: SubscriptionRecord = { ...s };
              if (subscriptionIdentifier !== undefined) rec.subscriptionIdentifier = subscriptionIdentifier;
              if (userProperties?.length) rec.userProperties = userProperties;
              this.#subscriptions.granted(rec);
            } else if (restored) {
              this.#subscriptions.removed(s.topicFilter);
            }
            if (this.has('subscribed')) {
              const e: SubscribedEvent = { topicFilter: s.topicFilter, qos: code < 0x80 ? code : 0, responseCode: code, restored };
              if (suback.properties?.reasonString) e.reasonString = suback.properties.reasonString;
              this.emit('subscribed', e);
            }
          }
          if (results.every((r) => r.reasonCode >= 0x80)) {
            const first = results[0]?.reasonCode ?? 0x80;
            const err = clientError(
              'ERR_SUBSCRIBE_FAILED',
              `subscription refused: 0x${first.toString(16)} ${reasonCodeName(first, 'suback', this.#version) ?? ''}`,
              {
                reasonCode: first,
              },
            );
            (err as MqttClientError & { results?: SubscribeResult[] }).results = results;
            reject(err);
          } else resolve(results);
        },
      });
      try {
        this.#send({ type: 'subscribe', packetId, subscriptions: subs, ...(Object.keys(properties).length ? { properties } : {}) });
      } catch (err) {
        this.#pendingAcks.delete(packetId);
        this.#flows.ids.release(packetId);
        reject(this.#wrapCodecError(err, 'ERR_TOPIC_FILTER_INVALID'));
      }
    });
  }

  /** Unsubscribes (exact filter strings). Resolves with per-filter codes on UNSUBACK. */
  unsubscribe(filters: string | readonly string[], options: UnsubscribeOptions = {}): Promise<UnsubscribedEvent> {
    const list = typeof filters === 'string' ? splitFilters(filters, options.delimiter ?? ',') : [...filters];
    if (list.length === 0) return Promise.reject(clientError('ERR_TOPIC_FILTER_INVALID', 'no topic filter given'));
    for (const f of list) {
      const problem = topicFilterProblem(f);
      if (problem) return Promise.reject(clientError('ERR_TOPIC_FILTER_INVALID', `invalid topic filter ${JSON.stringify(f)}: ${problem}`));
    }
    return this.#whenUp(
      () =>
        new Promise<UnsubscribedEvent>((resolve, reject) => {
          const packetId = this.#flows.ids.allocate();
          this.#pendingAcks.set(packetId, {
            kind: 'unsuback',
            filters: list,
            reject,
            resolve: (ack) => {
              const codes = this.#version === 5 ? (ack as UnsubackPacket).reasonCodes : list.map(() => 0);
              list.forEach((f, i) => {
                if ((codes[i] ?? 0) < 0x80) this.#subscriptions.removed(f);
              });
              const e: UnsubscribedEvent = { topicFilters: list, responseCode: codes.find((c) => c >= 0x80) ?? 0, reasonCodes: codes };
              if (this.has('unsubscribed')) this.emit('unsubscribed', e);
              if (codes.every((c) => c >= 0x80)) {
                reject(
                  clientError('ERR_UNSUBSCRIBE_FAILED', `unsubscribe refused: 0x${(codes[0] ?? 0x80).toString(16)}`, {
                    reasonCode: codes[0],
                  }),
                );
              } else resolve(e);
            },
          });
          const properties = options.userProperties?.length ? { userProperties: options.userProperties } : undefined;
          this.#send({ type: 'unsubscribe', packetId, topicFilters: list, ...(properties ? { properties } : {}) });
        }),
    );
  }

  // ---------------------------------------------------------------- request / response

  #defaultResponseTopic(): string {
    const base = this.#options.responseTopic;
    if (base) return base;
    const info = this.#connack?.properties?.responseInformation;
    return `${info ? info.replace(/\/$/, '') : 'responses'}/${this.clientId}`;
  }

  /**
   * MQTT 5 request/response: publishes with a Response Topic and fresh Correlation Data
   * and resolves with the matching response (subscribing to the response topic once).
   */
  async request(topic: string, payload: string | Uint8Array, options: RequestOptions = {}): Promise<MqttMessage> {
    if (this.protocolVersion !== 5) throw clientError('ERR_NOT_SUPPORTED', 'request/response needs MQTT 5');
    const responseTopic = options.responseTopic ?? this.#defaultResponseTopic();
    if (!options.responseTopic) {
      this.#responseSubscription ??= this.subscribe(responseTopic, { qos: options.qos ?? 1 }).catch((err) => {
        this.#responseSubscription = undefined;
        throw err;
      });
      await this.#responseSubscription;
    }
    const correlationData = this.#requests.nextCorrelation();
    const response = this.#requests.wait(correlationData, options.timeoutMs ?? this.#options.requestTimeoutMs ?? 30_000);
    const properties: PublishProperties = { ...options.properties, responseTopic, correlationData };
    this.publish(topic, payload, { ...options, properties }).then(undefined, (err) => this.#requests.cancel(correlationData, err));
    return response;
  }

  /** Answers a request message: publishes to its Response Topic with its Correlation Data. */
  respond(requestMessage: MqttMessage, payload: string | Uint8Array, options: PublishOptions = {}): Promise<PublishResult> {
    const topic = requestMessage.responseTopic;
    if (!topic) return Promise.reject(clientError('ERR_INVALID_ARGUMENT', 'the message has no response topic'));
    const properties: PublishProperties = { ...options.properties };
    if (requestMessage.correlationData) properties.correlationData = requestMessage.correlationData;
    return this.publish(topic, payload, { ...options, properties });
  }

  // ---------------------------------------------------------------- close

  /**
   * Graceful close (Disconnect): flushes, sends DISCONNECT (5.0: with `reasonCode` and
   * properties; 0x04 asks the server to publish the Will anyway) and closes. Cancels a
   * pending reconnection. When the session does not outlive the connection, queued and
   * in-flight messages are rejected with ERR_DISCONNECTED; otherwise they are kept for the
   * next connect() (and for saveSession()).
   */
  async disconnect(options: DisconnectOptions = {}): Promise<void> {
    this.#reconnect.cancel();
    this.#closing = true;
    const state = this.#machine.state;
    if (state === 'disconnected') {
      this.#endSessionIfVolatile();
      return;
    }
    if (state === 'reconnecting') {
      this.#machine.move('disconnected');
      this.#rejectWhenConnected(clientError('ERR_DISCONNECTED', 'disconnect() called'));
      this.#endSessionIfVolatile();
      return;
    }
    if (state === 'connecting') {
      this.#abort?.abort(clientError('ERR_DISCONNECTED', 'disconnect() called while connecting'));
      await this.#waitClosed();
      this.#endSessionIfVolatile();
      return;
    }
    if (state === 'disconnecting') return this.#waitClosed();
    const packet: DisconnectPacket = { type: 'disconnect' };
    if (this.#version === 5) {
      if (options.reasonCode !== undefined) packet.reasonCode = options.reasonCode;
      if (options.properties) {
        const sei = options.properties.sessionExpiryInterval;
        if (sei !== undefined && sei !== 0 && (this.#options.sessionExpiryInterval ?? 0) === 0) {
          this.#closing = false;
          throw clientError(
            'ERR_INVALID_ARGUMENT',
            'cannot set a non-zero session expiry at DISCONNECT when CONNECT sent 0 [MQTT-3.14.2-2]',
          );
        }
        packet.properties = options.properties;
        if (sei !== undefined) this.#sessionExpiry = sei;
      }
    }
    this.#machine.move('disconnecting');
    this.#closeReason = { normal: true, reasonCode: packet.reasonCode ?? 0 };
    const closed = this.#waitClosed();
    try {
      this.#send(packet);
      this.#writer.flush();
    } catch (err) {
      this.emit('error', this.#wrapCodecError(err, 'ERR_INVALID_ARGUMENT'));
    }
    this.#keepAlive.stop();
    this.#stream?.end();
    const stream = this.#stream;
    const t = this.#clock.setTimeout(() => stream?.destroy(), 5000);
    await closed;
    this.#clock.clearTimeout(t);
    this.#endSessionIfVolatile();
  }

  #sessionPersists(): boolean {
    if (this.#version === 5) return this.#sessionExpiry > 0;
    return this.#options.clean === false;
  }

  #endSessionIfVolatile(): void {
    if (this.#sessionPersists()) return;
    const err = clientError('ERR_DISCONNECTED', 'disconnected; the session ended with the connection');
    this.#flows.abortAll(err);
    this.#incoming.clear();
    this.#requests.rejectAll(err);
    // The application ended the session: do not resurrect its subscriptions on a later connect.
    this.#subscriptions.clear();
    this.#responseSubscription = undefined;
  }

  /** Aborts whatever is in progress and drops the connection without DISCONNECT (Interrupt). */
  interrupt(): void {
    this.#reconnect.cancel();
    this.#closing = true;
    const err = clientError('ERR_INTERRUPTED', 'interrupted');
    this.#abort?.abort(err);
    if (this.#machine.state === 'reconnecting') this.#machine.move('disconnected');
    this.#rejectWhenConnected(err);
    if (this.#stream) {
      this.#closeReason = { normal: false, error: err };
      this.#stream.destroy();
    }
  }

  /** Resets every option to the constructor's values and forgets all state (disconnecting first). */
  async reset(): Promise<void> {
    this.interrupt();
    await this.#waitClosed();
    const err = clientError('ERR_INTERRUPTED', 'reset()');
    this.#flows.abortAll(err);
    this.#incoming.clear();
    this.#subscriptions.clear();
    this.#requests.rejectAll(err);
    this.#options = { ...this.#initialOptions };
    this.#flows = this.#makeFlows();
    this.#reconnect = this.#makeReconnect();
    this.#clientId = '';
    this.#connack = undefined;
    this.#responseSubscription = undefined;
    this.#lastDisconnect = undefined;
    this.#serverCertificate = undefined;
    this.#tls = undefined;
  }

  /** Resolves once the connection is fully closed. */
  #waitClosed(): Promise<void> {
    if (!this.#stream && !this.#machine.is('connecting', 'disconnecting')) return Promise.resolve();
    return new Promise<void>((resolve) => this.#closed.push(resolve));
  }

  /** Closes after a server protocol violation: error event, DISCONNECT with the reason (5.0). */
  #protocolViolation(err: MqttClientError, reasonCode: number): void {
    if (this.#connectWaiter) this.#connectWaiter.reject(err);
    else this.emit('error', err);
    this.#closeReason = { normal: false, error: err, reasonCode };
    this.#sendDisconnectAndClose(reasonCode);
  }

  #sendDisconnectAndClose(reasonCode: number): void {
    this.#decoder = undefined;
    if (this.#version === 5 && this.#stream) {
      try {
        this.#writer.flush();
        this.#send({ type: 'disconnect', reasonCode });
        this.#writer.flush();
      } catch {
        // closing anyway
      }
      this.#stream.end();
      const stream = this.#stream;
      this.#clock.setTimeout(() => stream.destroy(), 1000);
    } else {
      this.#stream?.destroy();
    }
  }

  /** Drops the link after a local verdict (keep-alive timeout). */
  #lose(err: MqttClientError): void {
    this.#closeReason = { normal: false, error: err };
    this.#stream?.destroy();
  }

  #teardownStream(): void {
    this.#keepAlive.stop();
    this.#stopRepublishTimer();
    this.#writer.detach();
    this.#decoder = undefined;
    const s = this.#stream;
    this.#stream = undefined;
    s?.destroy();
  }

  #onClose(transportError?: Error): void {
    const wasConnected = this.#machine.state === 'connected' || this.#machine.state === 'disconnecting';
    const reason = this.#closeReason;
    this.#closeReason = undefined;
    const stream = this.#stream;
    this.#teardownStream();
    if (!stream) return;
    const lossError =
      reason?.error ??
      (transportError instanceof MqttClientError
        ? transportError
        : clientError(
            'ERR_CONNECTION_LOST',
            transportError ? `connection lost: ${transportError.message}` : 'connection closed by the server',
            {
              cause: transportError,
            },
          ));
    if (this.#connectWaiter) {
      this.#connectWaiter.reject(lossError);
      this.#notifyClosed();
      return;
    }
    if (!wasConnected) {
      this.#notifyClosed();
      return;
    }
    this.#flows.disconnected();
    const pending = [...this.#pendingAcks.values()];
    // Packet ids of SUBSCRIBE/UNSUBSCRIBE die with the connection; publish ids stay (session).
    for (const id of this.#pendingAcks.keys()) this.#flows.ids.release(id);
    this.#pendingAcks.clear();
    const lostErr = this.#closing
      ? clientError('ERR_DISCONNECTED', 'disconnected')
      : clientError('ERR_CONNECTION_LOST', lossError.message, { cause: lossError });
    for (const p of pending) p.reject(lostErr);
    if (this.#reauthWaiter) {
      this.#reauthWaiter.reject(lostErr);
      this.#reauthWaiter = undefined;
    }
    const normal = this.#closing || (reason?.normal ?? false);
    const willReconnect = !this.#closing && this.#reconnect.enabled && this.#reconnect.attempt < this.#reconnect.maxAttempts;
    this.#machine.move(willReconnect ? 'reconnecting' : 'disconnected');
    if (this.has('connectionStatus'))
      this.emit('connectionStatus', {
        connectionEvent: 'remoteHostDisconnected',
        statusCode: normal ? 0 : lossError.errorCode,
        description: lossError.message,
      });
    this.#log(1, 'Info', `disconnected: ${normal && !reason?.error ? 'OK' : lossError.message}`);
    if (this.has('disconnected')) {
      const e: DisconnectedEvent = {
        statusCode: normal && (reason?.reasonCode ?? 0) < 0x80 ? 0 : lossError.errorCode,
        description: normal && !reason?.error ? 'OK' : lossError.message,
        reasonCode: reason?.reasonCode,
        properties: reason?.properties,
        willReconnect,
      };
      if (!(this.#closing && !reason?.error)) e.error = lossError;
      this.emit('disconnected', e);
    }
    if (willReconnect) this.#scheduleReconnect();
    this.#notifyClosed();
  }

  #notifyClosed(): void {
    const waiting = this.#closed;
    this.#closed = [];
    for (const fn of waiting) fn();
  }

  #scheduleReconnect(): void {
    const delay = this.#reconnect.schedule(() => {
      if (this.#machine.state !== 'reconnecting') return;
      this.#open(true).catch(() => {
        // reported through events; the next attempt is scheduled by #open
      });
    });
    if (delay === undefined) {
      this.#log(1, 'Reconnect', `giving up after ${this.#reconnect.attempt} attempts`);
      if (this.#machine.state === 'reconnecting') this.#machine.move('disconnected');
      this.#rejectWhenConnected(clientError('ERR_NOT_CONNECTED', 'reconnection abandoned'));
    } else {
      this.#log(1, 'Reconnect', `reconnecting in ${delay} ms (attempt ${this.#reconnect.attempt})`);
    }
  }

  // ---------------------------------------------------------------- republish (3.1.1)

  #startRepublishTimer(): void {
    this.#stopRepublishTimer();
    const sec = this.#options.republishInterval ?? 0;
    if (this.#version !== 4 || sec <= 0) return;
    const ms = sec * 1000;
    const tick = () => {
      if (!this.connected) return;
      const now = this.#clock.now();
      const n = this.#flows.republishUnacked((m) => now - (this.#sentAt.get(m) ?? now) >= ms);
      if (n) this.#log(2, 'Info', `republished ${n} unacknowledged messages`);
      this.#republishTimer = this.#clock.setTimeout(tick, Math.max(250, ms / 4));
    };
    this.#republishTimer = this.#clock.setTimeout(tick, Math.max(250, ms / 4));
  }

  #stopRepublishTimer(): void {
    if (this.#republishTimer !== undefined) this.#clock.clearTimeout(this.#republishTimer);
    this.#republishTimer = undefined;
  }

  // ---------------------------------------------------------------- session

  /** The session state as versioned JSON (SaveSession); also written to the session store when configured. */
  async saveSession(): Promise<string> {
    const snapshot: SessionSnapshot = {
      format: 'mqtt-session',
      v: 1,
      protocolVersion: this.protocolVersion,
      clientId: this.clientId,
      savedAt: new Date().toISOString(),
      sessionExpiryInterval: this.#sessionExpiry || (this.#options.sessionExpiryInterval ?? 0),
      outgoing: [...this.#flows.inflight.values()].map(storeMessage),
      incoming: [...this.#incoming.pending.values()].map(storeMessage),
      queued: this.#flows.queue.toArray().map(storeMessage),
      subscriptions: this.#subscriptions.list(),
    };
    const text = JSON.stringify(snapshot);
    if (this.#options.sessionStore) await this.#options.sessionStore.save(text);
    this.#log(
      1,
      'Session',
      `session saved: ${snapshot.outgoing.length} outgoing, ${snapshot.incoming.length} incoming, ${snapshot.queued.length} queued`,
    );
    return text;
  }

  /**
   * Loads session state (RestoreSession) and sets clean to false. With a session store the
   * stored text is used and `state` ignored. Works before connecting and while connected
   * (restored messages are resent at once).
   */
  async restoreSession(state?: string): Promise<void> {
    let text = state;
    if (this.#options.sessionStore) text = (await this.#options.sessionStore.load()) ?? text;
    if (text === undefined) throw clientError('ERR_SESSION_FORMAT', 'no session state to restore');
    const s = parseSession(text);
    const own = this.#options.clientId || this.#clientId;
    if (own && s.clientId && own !== s.clientId)
      throw clientError('ERR_SESSION_FORMAT', `session belongs to client ${s.clientId}, not ${own}`);
    this.#options = { ...this.#options, clean: false, ...(s.clientId && !this.#options.clientId ? { clientId: s.clientId } : {}) };
    if (s.clientId) this.#clientId = s.clientId;
    const resend: OutgoingMessage[] = [];
    for (const stored of s.outgoing) {
      const base = loadMessage(stored);
      const m = new OutgoingMessage(base.topic, base.payload, base.qos, base.retain, base.dup, base.properties, this.#onUnobserved);
      m.packetId = base.packetId;
      m.state = base.state;
      if (this.#flows.restore(m)) resend.push(m);
    }
    for (const stored of s.incoming) {
      const m = loadMessage(stored);
      if (!this.#incoming.has(m.packetId)) this.#incoming.hold(m);
    }
    for (const stored of s.queued) {
      const base = loadMessage(stored);
      const m = new OutgoingMessage(base.topic, base.payload, base.qos, base.retain, false, base.properties, this.#onUnobserved);
      this.#queue(m);
    }
    for (const sub of s.subscriptions) if (!this.#subscriptions.has(sub.topicFilter)) this.#subscriptions.granted(sub);
    this.#log(1, 'Session', `session restored: ${s.outgoing.length} outgoing, ${s.incoming.length} incoming, ${s.queued.length} queued`);
    if (this.connected) this.#flows.queueResend(resend);
  }

  // ---------------------------------------------------------------- helpers

  #wrapCodecError(err: unknown, fallback: MqttClientError['code']): MqttClientError {
    if (err instanceof MqttClientError) return err;
    if (err instanceof MqttPacketError) {
      const map: Record<string, MqttClientError['code']> = {
        ERR_TOPIC_NAME_INVALID: 'ERR_TOPIC_NAME_INVALID',
        ERR_TOPIC_NAME_EMPTY: 'ERR_TOPIC_NAME_INVALID',
        ERR_TOPIC_FILTER_INVALID: 'ERR_TOPIC_FILTER_INVALID',
        ERR_NO_LOCAL_SHARED: 'ERR_TOPIC_FILTER_INVALID',
        ERR_QOS_INVALID: 'ERR_QOS_INVALID',
      };
      return clientError(map[err.code] ?? 'ERR_INVALID_ARGUMENT', err.message, { cause: err, reasonCode: err.reasonCode });
    }
    return clientError(fallback, (err as Error)?.message ?? String(err), { cause: err });
  }

  #log(level: LogLevel, logType: LogEvent['logType'], message: string): void {
    if ((this.#options.logLevel ?? 1) >= level && this.has('log')) this.emit('log', { logLevel: level, message, logType });
  }

  /** No-op kept for parity with the toolkit's DoEvents: the event loop dispatches events. */
  doEvents(): Promise<void> {
    return Promise.resolve();
  }
}

function withoutProperties(msg: PublishPacket): PublishPacket {
  const p: PublishPacket = { type: 'publish', topic: msg.topic, payload: msg.payload, qos: msg.qos, retain: msg.retain, dup: msg.dup };
  if (msg.qos > 0) p.packetId = msg.packetId;
  return p;
}

function describe(p: Packet): string {
  switch (p.type) {
    case 'connect':
      return `CONNECT clientId=${p.clientId} clean=${p.clean} keepAlive=${p.keepAlive}${p.username !== undefined ? ` user=${p.username}` : ''}${p.password !== undefined ? ' password=****' : ''}`;
    case 'publish':
      return `PUBLISH topic=${p.topic} qos=${p.qos}${p.packetId ? ` id=${p.packetId}` : ''} retain=${p.retain} dup=${p.dup} bytes=${p.payload.length}`;
    case 'puback':
    case 'pubrec':
    case 'pubrel':
    case 'pubcomp':
      return `${p.type.toUpperCase()} id=${p.packetId}${p.reasonCode ? ` rc=0x${p.reasonCode.toString(16)}` : ''}`;
    default:
      return p.type.toUpperCase();
  }
}
