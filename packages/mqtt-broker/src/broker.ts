/**
 * MqttBroker: the public face. Listeners, the `connections` / `sessions` / `messages` /
 * `listeners` collections, typed events, hooks, the in-process publish API, session JSON
 * export/import, and the lifecycle (startListening / stopListening / shutdown / disconnect).
 */

import { EventEmitter } from 'node:events';
import { type PublishProperties, type QoS, validateTopicName } from '@iotwire/mqtt-packet';
import type { CertificateVerdict } from '@iotwire/tls';
import type { ClusterFigures } from './cluster/sys.js';
import { ConnState, MqttConnection } from './connection.js';
import { BrokerCore, type BrokerOptions } from './core.js';
import { BrokerError, BrokerErrorCode } from './errors.js';
import type { BrokerConnectionInfo, BrokerEvents, ConnectionId, PublishRequest, SslClientAuthenticationEvent } from './events.js';
import { type BrokerHook, runChain } from './hooks.js';
import type { BrokerLimits } from './limits.js';
import {
  type BrokerListenerInfo,
  type BrokerListenerOptions,
  type ListenerHost,
  type ListenerRuntime,
  normalizeListener,
  TcpListener,
  WsListener,
} from './listeners.js';
import { BrokerMessage, type MessageInfo, messageInfo } from './message.js';
import { fromStoredMessage } from './persistence.js';
import { runPublishHooks } from './publish-flow.js';
import { type UpdateOptionsResult, updateOptions } from './reconfigure.js';
import { exportSession, importSession, restoreStoredSession, type SessionInfo, sessionInfo } from './session-json.js';
import type { BrokerStats } from './stats.js';
import type { BrokerFigures } from './sys-topics.js';
import type { ByteStream, ListenerProtocol } from './transport.js';

export interface PublishOptions {
  topic: string;
  payload?: Uint8Array | string;
  qos?: QoS;
  retain?: boolean;
  properties?: PublishProperties;
}

const MESSAGE_EVENTS = new Set<string>([
  'messageReceiving',
  'messageReceived',
  'incomingMessageStatus',
  'messageSending',
  'messageSent',
  'outgoingMessageStatus',
]);

export class MqttBroker extends EventEmitter<BrokerEvents> {
  readonly #core: BrokerCore;
  readonly #options: BrokerOptions;
  readonly #listeners: ListenerRuntime[] = [];
  #listening = false;
  #loaded = false;
  #storageOpen = false;

  constructor(options: BrokerOptions = {}) {
    super();
    this.#core = new BrokerCore(this as unknown as EventEmitter<BrokerEvents>, options);
    this.#options = options;
    // The per-message events cost nothing while nobody listens: flags are refreshed here only.
    (this as EventEmitter).on('newListener', (name: string | symbol) => {
      if (typeof name === 'string' && MESSAGE_EVENTS.has(name)) {
        if (name.startsWith('messageRec') || name === 'incomingMessageStatus') this.#core.inEvents = true;
        else this.#core.outEvents = true;
      }
    });
    (this as EventEmitter).on('removeListener', (name: string | symbol) => {
      if (typeof name === 'string' && MESSAGE_EVENTS.has(name)) this.#core.refreshEventFlags();
    });
  }

  // --- properties ---------------------------------------------------------------------
  /** Connected clients by connection id (from accept until `disconnected`). */
  /** Running counters (bytes, packets, messages, connections) for `$SYS` topics and metrics. */
  get stats(): Readonly<BrokerStats> {
    return this.#core.stats;
  }

  get connections(): ReadonlyMap<ConnectionId, BrokerConnectionInfo> {
    return this.#core.connections;
  }
  /** Sessions by client id (a snapshot). */
  get sessions(): ReadonlyMap<string, SessionInfo> {
    const m = new Map<string, SessionInfo>();
    for (const [id, s] of this.#core.sessions) m.set(id, sessionInfo(s));
    return m;
  }
  /** Retained messages by topic (a snapshot). */
  /**
   * Counts for `$SYS` topics and metrics, read straight from the broker's structures: no
   * snapshot copies, so it stays cheap with many sessions (O(sessions), no allocation per session).
   */
  figures(): BrokerFigures {
    const core = this.#core;
    const byProtocol: Record<ListenerProtocol, number> = { tcp: 0, tls: 0, ws: 0, wss: 0 };
    for (const c of core.connections.values()) byProtocol[c.protocol]++;
    let connected = 0;
    let subscriptions = 0;
    let shared = 0;
    let stored = 0;
    let storedBytes = 0;
    for (const s of core.sessions.values()) {
      if (s.connection !== null) connected++;
      if (s.hasSubscriptions) {
        subscriptions += s.subscriptions.size;
        for (const f of s.subscriptions.keys()) if (f.startsWith('$share/')) shared++;
      }
      stored += s.queue.length;
      for (const o of s.queue) storedBytes += o.message.payload.length;
      const inflight = s.inflightOrNone;
      if (inflight !== undefined) {
        stored += inflight.size;
        for (const o of inflight.values()) storedBytes += o.message.payload.length;
      }
    }
    return {
      connections: core.connections.size,
      connectionsByProtocol: byProtocol,
      clientsConnected: connected,
      clientsTotal: core.sessions.size,
      clientsDisconnected: core.sessions.size - connected,
      subscriptions,
      sharedSubscriptions: shared,
      retainedMessages: core.retained.size,
      retainedBytes: core.retained.bytes,
      storedMessages: stored,
      storedBytes,
    };
  }

  get messages(): ReadonlyMap<string, MessageInfo> {
    const m = new Map<string, MessageInfo>();
    for (const msg of this.#core.retained.values()) m.set(msg.topic, messageInfo(msg));
    return m;
  }
  /**
   * Configured listeners (the toolkit's Listeners); ports are the bound ones once listening.
   * Not named `listeners`: that is EventEmitter's method.
   */
  get brokerListeners(): readonly BrokerListenerInfo[] {
    return this.#listeners.map((l) => l.info);
  }
  /** This node's id in a Redis cluster (`cluster` option), else undefined. */
  get clusterNodeId(): string | undefined {
    return this.#core.cluster?.id;
  }
  /** Figures of the whole Redis cluster as of this node's last heartbeat, else undefined. */
  get clusterFigures(): ClusterFigures | undefined {
    return this.#core.cluster?.figures;
  }

  get listening(): boolean {
    return this.#listening;
  }
  get limits(): Readonly<BrokerLimits> {
    return this.#core.limits;
  }
  /** Seconds without traffic before a client is dropped; 0 = off. Applies at once. */
  get defaultIdleTimeout(): number {
    return this.#core.options.defaultIdleTimeout;
  }
  set defaultIdleTimeout(seconds: number) {
    if (!Number.isInteger(seconds) || seconds < 0)
      throw new BrokerError(BrokerErrorCode.InvalidArgument, `defaultIdleTimeout must be an integer >= 0`);
    this.#core.options.defaultIdleTimeout = seconds;
  }

  // --- configuration ------------------------------------------------------------------
  /**
   * Changes options while clients stay connected (configuration reload, SIGHUP): `limits`
   * (all but `maxPacketSize`), `defaultIdleTimeout`, `logLevel`, `allowAnonymous`,
   * `maxKeepAlive`, `maxSessionExpiryInterval`, `queueQos0Offline`, `willOnDisconnect`,
   * `willOnShutdown`, `responseInformation`, `clientIdPrefix`. Options that were advertised to
   * connected clients or that build the broker (storage, cluster, hooks, Maximum QoS, …) are
   * not applied: the result lists those whose value differs under `restartRequired`.
   * Everything is validated first (`ERR_INVALID_ARGUMENT`); on error nothing changes.
   */
  updateOptions(partial: Partial<BrokerOptions>): UpdateOptionsResult {
    const r = updateOptions(this.#core, partial, this.#options);
    if (r.applied.length > 0) this.#core.log(1, 'Info', '', `options updated: ${r.applied.join(', ')}`);
    return r;
  }

  /** Adds a listener (before startListening). Not named addListener: that is EventEmitter's. */
  addBrokerListener(options: BrokerListenerOptions): BrokerListenerInfo {
    if (this.#listening) throw new BrokerError(BrokerErrorCode.InvalidState, 'listeners must be added before startListening()');
    const o = normalizeListener(options);
    const host = this.#host();
    const l = o.protocol === 'tcp' || o.protocol === 'tls' ? new TcpListener(o, host) : new WsListener(o, host);
    this.#listeners.push(l);
    return l.info;
  }

  /** Adds a hook after the existing ones. */
  addHook(hook: BrokerHook): void {
    this.#core.addHook(hook);
  }

  /** Removes a hook (e.g. when a reloaded configuration drops the password file). False if it was not added. */
  removeHook(hook: BrokerHook): boolean {
    return this.#core.removeHook(hook);
  }

  /** The hooks, in the order they run. */
  get hooks(): readonly BrokerHook[] {
    return [...this.#core.hooks];
  }

  // --- lifecycle ----------------------------------------------------------------------
  /** Opens storage (first time: loads sessions and retained messages) and starts every listener. */
  async startListening(): Promise<void> {
    if (this.#listening) throw new BrokerError(BrokerErrorCode.InvalidState, 'already listening');
    if (this.#listeners.length === 0) throw new BrokerError(BrokerErrorCode.InvalidState, 'no listeners: call addBrokerListener() first');
    await this.#openStorage();
    const started: ListenerRuntime[] = [];
    try {
      for (const l of this.#listeners) {
        await l.start();
        started.push(l);
      }
    } catch (err) {
      // All or nothing: a failed bind closes the listeners already started.
      await Promise.all(started.map((l) => l.stop()));
      throw err;
    }
    this.#listening = true;
    this.#core.startTimers();
  }

  /** Stops accepting connections; connected clients stay. */
  async stopListening(): Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    await Promise.all(this.#listeners.map((l) => l.stop()));
  }

  /** stopListening, then every client is disconnected (5.0: DISCONNECT 0x8B); sessions are kept. */
  async shutdown(): Promise<void> {
    await this.stopListening();
    const conns = [...this.#core.connections.values()];
    await Promise.all(conns.map((c) => this.#closeConnection(c, 'server shutdown', 0x8b, this.#core.options.willOnShutdown)));
    this.#core.stopTimers();
    if (this.#core.persister) await this.#core.persister.flush();
  }

  /** shutdown() and close the storage backend. */
  async close(): Promise<void> {
    await this.shutdown();
    for (const s of this.#core.sessions.values()) s.clearTimers();
    if (this.#core.persister && this.#storageOpen) {
      this.#storageOpen = false;
      if (this.#core.cluster !== null) await this.#core.cluster.stop();
      else await this.#core.persister.storage.close();
    }
  }

  /** Disconnects one client (5.0: DISCONNECT 0x98 Administrative action). Resolves once it is gone. */
  async disconnect(connectionId: ConnectionId): Promise<void> {
    const c = this.#core.connections.get(connectionId);
    if (c === undefined) throw new BrokerError(BrokerErrorCode.UnknownConnection, `unknown connection id ${JSON.stringify(connectionId)}`);
    await this.#closeConnection(c, 'disconnected by the application', 0x98, this.#core.options.willOnDisconnect);
  }

  #closeConnection(c: MqttConnection, reason: string, reasonCode: number, publishWill: boolean): Promise<void> {
    if (c.state === ConnState.Closed) return Promise.resolve();
    const done = new Promise<void>((resolve) => {
      const on = (e: { connectionId: string }) => {
        if (e.connectionId === c.connectionId) {
          this.off('disconnected', on);
          resolve();
        }
      };
      this.on('disconnected', on);
    });
    if (!publishWill) c.graceful = true;
    c.close(reason, reasonCode, reason);
    return done;
  }

  /** The event loop does the work; resolves after pending I/O callbacks (toolkit DoEvents). */
  doEvents(): Promise<void> {
    return new Promise((r) => setImmediate(r));
  }

  // --- in-process API -----------------------------------------------------------------
  /**
   * Publishes a message as the broker itself (no client): `authorizePublish` / `onPublish`
   * hooks see `client: undefined`. Resolves with the number of sessions it went to.
   */
  async publish(options: PublishOptions): Promise<number> {
    const qos = options.qos ?? 0;
    if (qos !== 0 && qos !== 1 && qos !== 2) throw new BrokerError(BrokerErrorCode.InvalidArgument, `qos must be 0, 1 or 2`);
    try {
      validateTopicName(options.topic, { maxLength: this.#core.limits.maxTopicLength, maxLevels: this.#core.limits.maxTopicLevels });
    } catch (err) {
      throw new BrokerError(BrokerErrorCode.InvalidTopic, (err as Error).message, { cause: err, reasonCode: 0x90 });
    }
    const payload = typeof options.payload === 'string' ? Buffer.from(options.payload) : Buffer.from(options.payload ?? new Uint8Array(0));
    const props = options.properties;
    if (props?.topicAlias !== undefined || props?.subscriptionIdentifiers !== undefined) {
      throw new BrokerError(
        BrokerErrorCode.InvalidArgument,
        'topicAlias and subscriptionIdentifiers are per connection, not for publish()',
      );
    }
    const core = this.#core;
    core.stats.messagesPublishedInternally++;
    const req: PublishRequest = { topic: options.topic, payload, qos, retain: options.retain ?? false, properties: props };
    return await new Promise<number>((resolve, reject) => {
      const p = runPublishHooks(core, undefined, req, undefined, (accepted, final, reasonCode) => {
        if (!accepted) {
          reject(new BrokerError(BrokerErrorCode.Protocol, 'publish refused by a hook', { reasonCode }));
          return;
        }
        const mei = final.properties?.messageExpiryInterval;
        const msg = new BrokerMessage(
          core.nextMessageId(),
          final.topic,
          final.payload,
          final.qos,
          final.retain,
          final.properties,
          mei !== undefined ? Date.now() + mei * 1000 : 0,
          '',
        );
        resolve(core.publishMessage(msg, ''));
      });
      void p;
    });
  }

  /** Sets or replaces a retained message without delivering it (empty payload deletes). */
  setRetained(topic: string, payload: Uint8Array | string, qos: QoS = 0, properties?: PublishProperties): void {
    validateTopicName(topic);
    const p = typeof payload === 'string' ? Buffer.from(payload) : Buffer.from(payload);
    this.#core.storeRetained(new BrokerMessage(this.#core.nextMessageId(), topic, p, qos, true, properties, 0, ''));
  }

  deleteRetained(topic: string): boolean {
    const had = this.#core.retained.get(topic) !== undefined;
    if (had) this.#core.storeRetained(new BrokerMessage(0, topic, Buffer.alloc(0), 0, true, undefined, 0, ''));
    return had;
  }

  // --- session JSON -------------------------------------------------------------------
  /** The client's session as JSON (ClientId, Subscriptions, IncomingMessages, OutgoingMessages; payloads in hex). */
  saveSession(clientId: string): string {
    const s = this.#core.sessions.get(clientId);
    if (s === undefined) throw new BrokerError(BrokerErrorCode.InvalidArgument, `no session for client id ${JSON.stringify(clientId)}`);
    return exportSession(s);
  }

  /**
   * Restores a session saved by {@link saveSession}, replacing any stored one. Refused while
   * that client is connected. Its subscriptions are routed at once, so messages for it queue.
   */
  loadSession(json: string): void {
    importSession(this.#core, json);
  }

  // --- internals ----------------------------------------------------------------------
  async #openStorage(): Promise<void> {
    const core = this.#core;
    if (!core.persister) return;
    const storage = core.persister.storage;
    if (core.cluster !== null) {
      // Clustered: retained messages and this node's sessions come from Redis as it joins.
      if (!this.#storageOpen) {
        await core.cluster.start();
        this.#storageOpen = true;
        this.#loaded = true;
      }
      return;
    }
    if (!this.#storageOpen) {
      await storage.open();
      this.#storageOpen = true;
    }
    if (this.#loaded) return;
    this.#loaded = true;
    for (const m of await storage.loadRetained()) {
      core.seeMessageId(m.messageId);
      core.retained.set(fromStoredMessage(m));
    }
    for (const s of await storage.loadSessions()) restoreStoredSession(core, s);
  }

  #host(): ListenerHost {
    const core = this.#core;
    const self = this;
    return {
      get maxConnections() {
        return core.limits.maxConnections;
      },
      get maxPacketSize() {
        return core.limits.maxPacketSize;
      },
      get maxSendBuffer() {
        return core.limits.maxSendBuffer;
      },
      connectionCount: () => core.connections.size,
      nextId: () => core.nextConnectionId(),
      connectionRequest(protocol: ListenerProtocol, address, port, localAddress, localPort) {
        if (self.listenerCount('connectionRequest') === 0) return true;
        const args = { address, port, localAddress, localPort, protocol, accept: true };
        const r = runChain(
          self.rawListeners('connectionRequest') as ((a: typeof args) => unknown)[],
          args,
          () => {},
          (a, err) => {
            a.accept = false;
            core.internalError(undefined, err);
          },
        );
        return r === undefined ? args.accept : r.then(() => args.accept);
      },
      accepted(stream: ByteStream, id: string) {
        const conn = new MqttConnection(id, stream, core);
        core.connections.set(id, conn);
        core.stats.connectionsAccepted++;
        if (core.connections.size > core.stats.connectionsMaximum) core.stats.connectionsMaximum = core.connections.size;
        core.log(2, 'Info', id, `${stream.protocol} connection from ${stream.remoteAddress}:${stream.remotePort}`);
        core.safeEmit('connected', { connectionId: id, statusCode: 0, description: 'OK', clientId: '' });
      },
      failed(id, statusCode, description) {
        core.safeEmit('connected', { connectionId: id, statusCode, description, clientId: '' });
      },
      sslStatus(id, message) {
        if (self.listenerCount('sslStatus') > 0) core.safeEmit('sslStatus', { connectionId: id, message });
      },
      sslClientAuthentication(id, verdict: CertificateVerdict) {
        if (self.listenerCount('sslClientAuthentication') === 0) return verdict.accept;
        const args: SslClientAuthenticationEvent = {
          connectionId: id,
          certEncoded: verdict.certEncoded,
          certEncodedB: verdict.certEncodedB,
          certSubject: verdict.subject,
          certIssuer: verdict.issuer,
          status: verdict.status,
          verdict,
          accept: verdict.accept,
        };
        const r = runChain(
          self.rawListeners('sslClientAuthentication') as ((a: SslClientAuthenticationEvent) => unknown)[],
          args,
          () => {},
          (a, err) => {
            a.accept = false;
            core.internalError(undefined, err);
          },
        );
        return r === undefined ? args.accept : r.then(() => args.accept);
      },
      error(err) {
        core.reportError(err);
      },
    };
  }
}

export type { BrokerOptions };
