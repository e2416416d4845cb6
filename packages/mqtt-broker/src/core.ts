/**
 * The broker's shared state and the glue between its rooms: connections, sessions, the
 * subscription index and route cache, the retained store, hooks and event flags, output
 * batching, timers (keep-alive, CONNECT timeout, idle timeout) and persistence.
 */

import type { EventEmitter } from 'node:events';
import { type ConnackProperties, MqttPacketError, type Packet, type QoS, validateTopicName } from '@iotwire/mqtt-packet';
import { ClusterNode } from './cluster/cluster.js';
import { ClusterIndex } from './cluster/cluster-index.js';
import { type ClusterOptions, resolveClusterOptions } from './cluster/options.js';
import { handleAuth, handleConnect } from './connect-flow.js';
import { ConnState, type MqttConnection } from './connection.js';
import { buildRoute, fanOut, onPuback, onPubcomp, onPubrec, pump, type Route } from './delivery.js';
import { BrokerError, BrokerErrorCode } from './errors.js';
import type { BrokerEvents, LogLevel, PublishRequest } from './events.js';
import type { AuthorizeDeliveryArgs, BrokerHook } from './hooks.js';
import { type BrokerLimits, resolveLimits } from './limits.js';
import { BrokerMessage } from './message.js';
import { Persister, sessionMeta, storedMessage } from './persistence.js';
import { handlePublish, handlePubrel, runPublishHooks } from './publish-flow.js';
import { RetainedStore } from './retained.js';
import { NEVER_EXPIRES, type Outgoing, type Session, type Subscription } from './session.js';
import { BrokerStats } from './stats.js';
import type { BrokerStorage } from './storage/types.js';
import { handleSubscribe, handleUnsubscribe } from './subscribe-flow.js';
import { type SubscriptionIndex, TopicTrie } from './subscription-index.js';

export interface BrokerOptions {
  /** Resource limits (see {@link BrokerLimits}); each has a safe default. */
  limits?: Partial<BrokerLimits>;
  /** Seconds without traffic in either direction before a client is dropped; 0 (default) = off. */
  defaultIdleTimeout?: number;
  /** Verbosity of the `log` event: 0 none, 1 info (default), 2 verbose, 3 debug (packets). */
  logLevel?: LogLevel;
  /** Durable backend for persistent sessions and retained messages. Default: none (memory only). */
  storage?: BrokerStorage;
  /**
   * Scale-out: this broker is one node of a cluster on Redis (see the README's "Cluster").
   * Session state and retained messages then live in Redis; `storage` must not be set.
   */
  cluster?: ClusterOptions;
  /** Hooks, run in this order (more can be added with `addHook`). */
  hooks?: BrokerHook[];
  /** Highest QoS supported (CONNACK Maximum QoS). Default 2. */
  maximumQoS?: 0 | 1 | 2;
  /** Retained messages supported. Default true. */
  retainAvailable?: boolean;
  wildcardSubscriptionAvailable?: boolean;
  subscriptionIdentifiersAvailable?: boolean;
  sharedSubscriptionAvailable?: boolean;
  /** Topic aliases a 5.0 client may use towards us (CONNACK Topic Alias Maximum). Default 100; 0 = none. */
  topicAliasMaximum?: number;
  /** Unacknowledged inbound QoS 1/2 PUBLISH a 5.0 client may have (CONNACK Receive Maximum). Default 65535. */
  receiveMaximum?: number;
  /** Longest Keep Alive accepted; longer (or 0) is replaced by it (5.0 Server Keep Alive). Default 0 = any. */
  maxKeepAlive?: number;
  /** Cap on Session Expiry Interval (seconds). 3.1.1 persistent sessions get this too. Default: never expire. */
  maxSessionExpiryInterval?: number;
  /** Queue QoS 0 messages for offline persistent sessions. Default false (allowed by the spec). */
  queueQos0Offline?: boolean;
  /** Publish the Will when the application calls `disconnect(id)`. Default true. */
  willOnDisconnect?: boolean;
  /** Publish the Wills of connected clients on `shutdown()`. Default false. */
  willOnShutdown?: boolean;
  /** Response Information returned to 5.0 clients that request it. Default none. */
  responseInformation?: string;
  /** Prefix of assigned client identifiers. Default `'iotwire-'`. */
  clientIdPrefix?: string;
  /**
   * Accept clients that present no credentials (no user name, no password, no certificate
   * identity, no enhanced authentication). Default true. When false, they are refused with
   * "not authorized" (3.1.1 0x05, 5.0 0x87) whatever the hooks say. (`passwordFileAuth`
   * refuses them too unless its own `allowAnonymous` is set.)
   */
  allowAnonymous?: boolean;
}

export interface ResolvedOptions {
  defaultIdleTimeout: number;
  logLevel: LogLevel;
  maximumQoS: 0 | 1 | 2;
  retainAvailable: boolean;
  wildcardSubscriptionAvailable: boolean;
  subscriptionIdentifiersAvailable: boolean;
  sharedSubscriptionAvailable: boolean;
  topicAliasMaximum: number;
  receiveMaximum: number;
  maxKeepAlive: number;
  maxSessionExpiryInterval: number;
  queueQos0Offline: boolean;
  willOnDisconnect: boolean;
  willOnShutdown: boolean;
  responseInformation: string | undefined;
  clientIdPrefix: string;
  allowAnonymous: boolean;
}

function int(name: string, v: number | undefined, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new BrokerError(BrokerErrorCode.InvalidArgument, `${name} must be an integer in ${min}..${max}, got ${String(v)}`);
  }
  return v;
}

export function resolveOptions(o: BrokerOptions): ResolvedOptions {
  return {
    defaultIdleTimeout: int('defaultIdleTimeout', o.defaultIdleTimeout, 0, 0, 2_147_483),
    logLevel: int('logLevel', o.logLevel, 1, 0, 3) as LogLevel,
    maximumQoS: int('maximumQoS', o.maximumQoS, 2, 0, 2) as 0 | 1 | 2,
    retainAvailable: o.retainAvailable ?? true,
    wildcardSubscriptionAvailable: o.wildcardSubscriptionAvailable ?? true,
    subscriptionIdentifiersAvailable: o.subscriptionIdentifiersAvailable ?? true,
    sharedSubscriptionAvailable: o.sharedSubscriptionAvailable ?? true,
    topicAliasMaximum: int('topicAliasMaximum', o.topicAliasMaximum, 100, 0, 65_535),
    receiveMaximum: int('receiveMaximum', o.receiveMaximum, 65_535, 1, 65_535),
    maxKeepAlive: int('maxKeepAlive', o.maxKeepAlive, 0, 0, 65_535),
    maxSessionExpiryInterval: int('maxSessionExpiryInterval', o.maxSessionExpiryInterval, NEVER_EXPIRES, 0, NEVER_EXPIRES),
    queueQos0Offline: o.queueQos0Offline ?? false,
    willOnDisconnect: o.willOnDisconnect ?? true,
    willOnShutdown: o.willOnShutdown ?? false,
    responseInformation: o.responseInformation,
    clientIdPrefix: o.clientIdPrefix ?? 'iotwire-',
    allowAnonymous: o.allowAnonymous ?? true,
  };
}

const ROUTE_CACHE_MAX = 10_000;
const SWEEP_MS = 500;
/** Largest safe message id before wrapping (JSON-safe, below 2^53). */
const MAX_MESSAGE_ID = Number.MAX_SAFE_INTEGER;

type Emitter = EventEmitter<BrokerEvents>;

export class BrokerCore {
  readonly limits: BrokerLimits;
  readonly options: ResolvedOptions;
  readonly connections = new Map<string, MqttConnection>();
  readonly sessions = new Map<string, Session>();
  readonly index: SubscriptionIndex<Subscription>;
  /** This broker's node of a Redis cluster, when `cluster` is set. */
  readonly cluster: ClusterNode | null = null;
  readonly retained = new RetainedStore();
  readonly stats = new BrokerStats();
  readonly hooks: BrokerHook[] = [];
  persister: Persister | null = null;
  /** Per-message events have listeners (checked once per message, not per emit). */
  inEvents = false;
  outEvents = false;
  /** Hooks per step, rebuilt on addHook. */
  authenticateSteps: ((a: never) => unknown)[] = [];
  publishAuthSteps: ((a: never) => unknown)[] = [];
  publishInterceptSteps: ((a: never) => unknown)[] = [];
  subscribeSteps: ((a: never) => unknown)[] = [];
  deliverySteps: ((a: AuthorizeDeliveryArgs) => unknown)[] = [];
  readonly #deliveryArgs = { clientId: '', userName: '', topic: '', qos: 0 as QoS, retain: false };
  /** CONNACK properties that are the same for every 5.0 client. */
  connackBase: ConnackProperties;

  #routeCache = new Map<string, Route>();
  #routeGen = -1;
  #dirty: MqttConnection[] = [];
  #flushScheduled = false;
  #messageId = 0;
  #connectionSeq = 0;
  #sweep: NodeJS.Timeout | undefined;

  constructor(
    readonly emitter: Emitter,
    options: BrokerOptions,
  ) {
    this.limits = resolveLimits(options.limits);
    this.options = resolveOptions(options);
    if (options.cluster !== undefined) {
      if (options.storage !== undefined)
        throw new BrokerError(
          BrokerErrorCode.InvalidArgument,
          'a clustered broker keeps its sessions in Redis: do not set storage with cluster',
        );
      const o = resolveClusterOptions(options.cluster);
      this.index = new ClusterIndex((key, present) => this.cluster?.filterChanged(key, present));
      this.cluster = new ClusterNode(this, o);
      this.persister = new Persister(this.cluster.storage, (err) => this.storageError(err));
    } else {
      this.index = new TopicTrie<Subscription>();
      if (options.storage) this.persister = new Persister(options.storage, (err) => this.storageError(err));
    }
    for (const h of options.hooks ?? []) this.addHook(h);
    this.connackBase = this.#connackBase();
  }

  /** Rebuilds what derives from options (after updateOptions). */
  optionsChanged(): void {
    this.connackBase = this.#connackBase();
  }

  #connackBase(): ConnackProperties {
    const o = this.options;
    const p: ConnackProperties = {};
    if (o.receiveMaximum !== 65_535) p.receiveMaximum = o.receiveMaximum;
    if (o.maximumQoS < 2) p.maximumQoS = o.maximumQoS as 0 | 1;
    if (!o.retainAvailable) p.retainAvailable = false;
    if (this.limits.maxPacketSize < 268_435_460) p.maximumPacketSize = this.limits.maxPacketSize;
    if (o.topicAliasMaximum > 0) p.topicAliasMaximum = o.topicAliasMaximum;
    if (!o.wildcardSubscriptionAvailable) p.wildcardSubscriptionAvailable = false;
    if (!o.subscriptionIdentifiersAvailable) p.subscriptionIdentifiersAvailable = false;
    if (!o.sharedSubscriptionAvailable) p.sharedSubscriptionAvailable = false;
    return p;
  }

  addHook(hook: BrokerHook): void {
    this.hooks.push(hook);
    this.#rebuildSteps();
  }

  /** Removes a hook added before; false when it was not there. */
  removeHook(hook: BrokerHook): boolean {
    const i = this.hooks.indexOf(hook);
    if (i < 0) return false;
    this.hooks.splice(i, 1);
    this.#rebuildSteps();
    return true;
  }

  #rebuildSteps(): void {
    const steps = <K extends keyof BrokerHook>(k: K) =>
      this.hooks.filter((h) => typeof h[k] === 'function').map((h) => (h[k] as (a: never) => unknown).bind(h));
    this.authenticateSteps = steps('authenticate');
    this.publishAuthSteps = steps('authorizePublish');
    this.publishInterceptSteps = steps('onPublish');
    this.subscribeSteps = steps('authorizeSubscribe');
    this.deliverySteps = steps('authorizeDelivery') as ((a: AuthorizeDeliveryArgs) => unknown)[];
  }

  /** `authorizeDelivery` hooks: may this session get a copy of `msg`? (A throwing hook withholds it.) */
  mayDeliver(session: Session, msg: BrokerMessage): boolean {
    const a = this.#deliveryArgs;
    a.clientId = session.clientId;
    a.userName = session.connection !== null ? session.connection.userName : session.userName;
    a.topic = msg.topic;
    a.qos = msg.qos;
    a.retain = msg.retain;
    const steps = this.deliverySteps;
    for (let i = 0; i < steps.length; i++) {
      try {
        if ((steps[i] as (a: AuthorizeDeliveryArgs) => unknown)(a) === false) return false;
      } catch (err) {
        this.reportError(new BrokerError(BrokerErrorCode.Hook, `authorizeDelivery hook threw: ${(err as Error)?.message}`, { cause: err }));
        return false;
      }
    }
    return true;
  }

  /** Recomputes the per-message event flags (called when listeners change). */
  refreshEventFlags(): void {
    const e = this.emitter;
    this.inEvents = e.listenerCount('messageReceiving') + e.listenerCount('messageReceived') + e.listenerCount('incomingMessageStatus') > 0;
    this.outEvents = e.listenerCount('messageSending') + e.listenerCount('messageSent') + e.listenerCount('outgoingMessageStatus') > 0;
  }

  nextMessageId(): number {
    if (this.#messageId >= MAX_MESSAGE_ID) this.#messageId = 0;
    return ++this.#messageId;
  }
  /** Keeps new ids above ids loaded from storage or JSON. */
  seeMessageId(id: number): void {
    if (id > this.#messageId && id < MAX_MESSAGE_ID) this.#messageId = id;
  }
  nextConnectionId(): string {
    return String(++this.#connectionSeq);
  }

  // --- timers ---------------------------------------------------------------------------
  startTimers(): void {
    if (this.#sweep) return;
    this.#sweep = setInterval(() => this.sweep(Date.now()), SWEEP_MS);
    this.#sweep.unref();
  }
  stopTimers(): void {
    if (this.#sweep) clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  /** Keep-alive (1.5x) [MQTT-3.1.2-24], CONNECT timeout and idle timeout checks. */
  sweep(now: number): void {
    const idle = this.options.defaultIdleTimeout * 1000;
    for (const c of this.connections.values()) {
      if (c.state === ConnState.AwaitConnect) {
        if (now - c.openedAt > this.limits.connectTimeout) c.destroy('CONNECT timeout');
        continue;
      }
      if (c.state >= ConnState.Closing) continue;
      if (c.keepAlive > 0 && now - c.lastRx > c.keepAlive * 1500) {
        this.log(2, 'Session', c.connectionId, `keep-alive timeout (${c.keepAlive} s)`);
        c.close('keep-alive timeout', 0x8d);
        continue;
      }
      if (idle > 0 && now - Math.max(c.lastRx, c.lastTx) > idle) c.close('idle timeout', 0x8d);
    }
  }

  // --- output batching ------------------------------------------------------------------
  markDirty(conn: MqttConnection): void {
    this.#dirty.push(conn);
    if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      process.nextTick(this.#flush);
    }
  }
  #flush = (): void => {
    this.#flushScheduled = false;
    const list = this.#dirty;
    // Writes may mark more connections dirty (drain → pump); they go to the next round.
    this.#dirty = [];
    for (let i = 0; i < list.length; i++) (list[i] as MqttConnection).flush();
  };

  // --- packets --------------------------------------------------------------------------
  dispatch(conn: MqttConnection, p: Packet): void {
    if (this.options.logLevel >= 3) this.log(3, 'Frame', conn.connectionId, `received ${p.type.toUpperCase()}`);
    if (conn.state === ConnState.Connecting && p.type !== 'auth' && p.type !== 'disconnect') {
      // Until CONNACK only the AUTH exchange may continue [MQTT-3.1.4-?] (5.0 §4.12).
      this.protocolViolation(conn, 'packet before CONNACK', 0x82);
      return;
    }
    const session = conn.session;
    switch (p.type) {
      case 'publish':
        handlePublish(this, conn, p);
        return;
      case 'puback':
        if (session) onPuback(this, conn, session, p.packetId);
        return;
      case 'pubrec':
        if (session) onPubrec(this, conn, session, p.packetId, p.reasonCode ?? 0);
        return;
      case 'pubrel':
        handlePubrel(this, conn, p.packetId);
        return;
      case 'pubcomp':
        if (session) onPubcomp(this, session, p.packetId);
        return;
      case 'pingreq':
        conn.sendPingresp();
        return;
      case 'subscribe':
        handleSubscribe(this, conn, p);
        return;
      case 'unsubscribe':
        handleUnsubscribe(this, conn, p);
        return;
      case 'connect':
        handleConnect(this, conn, p);
        return;
      case 'disconnect':
        this.#handleDisconnect(conn, p.reasonCode ?? 0, p.properties?.sessionExpiryInterval);
        return;
      case 'auth':
        handleAuth(this, conn, p);
        return;
      default:
        // The decoder (side 'server') already rejects server-to-client packets.
        this.protocolViolation(conn, `unexpected ${p.type}`, 0x82);
    }
  }

  #handleDisconnect(conn: MqttConnection, reasonCode: number, expiry: number | undefined): void {
    if (expiry !== undefined && conn.session !== null) {
      if (conn.connectExpiry === 0 && expiry !== 0) {
        // [MQTT-3.14.2-2]: cannot turn an expiring-at-close session into a persistent one.
        this.protocolViolation(conn, 'Session Expiry Interval set on DISCONNECT after 0 in CONNECT', 0x82);
        return;
      }
      conn.session.expiryInterval = Math.min(expiry, this.options.maxSessionExpiryInterval);
    }
    // 0x04 Disconnect with Will Message keeps the Will; anything else discards it [MQTT-3.14.4-3].
    conn.graceful = reasonCode !== 0x04;
    conn.state = ConnState.Closing;
    conn.closeReason = 'client DISCONNECT';
    conn.stream.end();
  }

  /** A packet the decoder rejected: close with the right answer for the level and phase. */
  packetError(conn: MqttConnection, err: MqttPacketError): void {
    this.clientError(conn, err.message, err.code === 'ERR_TOPIC_NAME_INVALID' || err.code === 'ERR_TOPIC_FILTER_INVALID' ? 601 : 600, err);
    if (conn.state === ConnState.AwaitConnect && err.packetType === 'connect') {
      const v = err.protocolVersion;
      if (v === 5) {
        conn.version = 5;
        conn.close(err.message, err.reasonCode, err.message);
        return;
      }
      // 3.1/3.1.1: CONNACK only for an unacceptable level (0x01) or client id (0x02) [MQTT-3.1.2-2] [MQTT-3.1.3-9].
      const rc = err.code === 'ERR_UNSUPPORTED_PROTOCOL_VERSION' ? 1 : err.code === 'ERR_CLIENT_ID_INVALID' ? 2 : 0;
      if (rc !== 0) {
        conn.version = v ?? 4;
        conn.write(Buffer.from([0x20, 0x02, 0x00, rc]));
      }
      conn.close(err.message);
      return;
    }
    conn.close(err.message, err.reasonCode, err.message);
  }

  /** A client broke a rule the decoder cannot see. */
  protocolViolation(conn: MqttConnection, message: string, reasonCode: number, errorCode = 600): void {
    this.clientError(conn, message, errorCode, new MqttPacketError('ERR_UNEXPECTED_PACKET', reasonCode, message));
    conn.close(message, reasonCode, message);
  }

  clientError(conn: MqttConnection, description: string, errorCode: number, cause: Error): void {
    // Client mistakes are reported to `error` listeners if any, else logged (no process warning per bad client).
    if (this.emitter.listenerCount('error') > 0) {
      const error = new BrokerError(errorCode === 601 ? BrokerErrorCode.InvalidTopic : BrokerErrorCode.Protocol, description, {
        errorCode,
        connectionId: conn.connectionId,
        cause,
        ...((cause as MqttPacketError).reasonCode !== undefined ? { reasonCode: (cause as MqttPacketError).reasonCode } : {}),
      });
      this.emitter.emit('error', { connectionId: conn.connectionId, errorCode, description, error });
    } else this.log(1, 'Info', conn.connectionId, `protocol error (${errorCode}): ${description}`);
  }

  /** Our own bug or a throwing handler while handling a connection: report, close that connection only. */
  internalError(conn: MqttConnection | undefined, err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.reportError(
      new BrokerError(BrokerErrorCode.Hook, `internal error: ${error.message}`, { cause: error, connectionId: conn?.connectionId }),
    );
    if (conn) conn.close('internal error', 0x80);
  }

  storageError(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.reportError(new BrokerError(BrokerErrorCode.Storage, `storage: ${error.message}`, { cause: error }));
  }

  reportError(error: BrokerError): void {
    const event = { connectionId: error.connectionId ?? '', errorCode: error.errorCode, description: error.message, error };
    if (this.emitter.listenerCount('error') > 0) {
      try {
        this.emitter.emit('error', event);
      } catch (e) {
        process.emitWarning(e instanceof Error ? e : String(e));
      }
    } else process.emitWarning(error);
  }

  log(level: LogLevel, logType: 'Info' | 'Session' | 'Frame', connectionId: string, message: string): void {
    if (level > this.options.logLevel || this.emitter.listenerCount('log') === 0) return;
    this.emitter.emit('log', { connectionId, logLevel: level, message, logType });
  }

  /** Emits an event; a throwing listener is reported and does not break the broker. */
  safeEmit<K extends keyof BrokerEvents>(name: K, ...args: BrokerEvents[K]): void {
    try {
      (this.emitter.emit as (n: string, ...a: unknown[]) => boolean)(name, ...args);
    } catch (err) {
      this.reportError(new BrokerError(BrokerErrorCode.Hook, `${name} listener threw: ${(err as Error)?.message}`, { cause: err }));
    }
  }

  // --- routing --------------------------------------------------------------------------
  route(topic: string): Route {
    const gen = this.index.generation;
    if (gen !== this.#routeGen) {
      this.#routeCache.clear();
      this.#routeGen = gen;
    }
    let r = this.#routeCache.get(topic);
    if (r === undefined) {
      const m = this.index.match(topic);
      r = buildRoute(m.subscriptions, m.shared);
      if (this.#routeCache.size >= ROUTE_CACHE_MAX) this.#routeCache.clear();
      this.#routeCache.set(topic, r);
    }
    return r;
  }

  /** Stores a retained message (or deletes on empty payload) and fans the message out. */
  publishMessage(msg: BrokerMessage, publisher: string): number {
    if (msg.retain) this.storeRetained(msg);
    const route = this.route(msg.topic);
    if (this.cluster !== null) return this.cluster.route(msg, route, publisher);
    return fanOut(this, route, msg, publisher);
  }

  storeRetained(msg: BrokerMessage): void {
    const changed = this.retained.set(msg);
    if (changed && this.persister) {
      this.persister.push(
        msg.payload.length === 0 ? { type: 'deleteRetained', topic: msg.topic } : { type: 'putRetained', message: storedMessage(msg) },
      );
    }
  }

  /** Changes pushed to storage so far; see {@link gateSince}. */
  opsMark(): number {
    return (this.persister === null ? 0 : this.persister.pushed) + (this.cluster === null ? 0 : this.cluster.queued);
  }

  /**
   * Holds `conn`'s output (its acknowledgements, in order) until the storage batch carrying the
   * changes pushed since `mark` is durable. Nothing happens for clean sessions, QoS 0 or a
   * non-durable backend: no changes were pushed, or nothing is worth waiting for.
   */
  gateSince(conn: MqttConnection, mark: number): void {
    if (this.opsMark() === mark) return;
    const p = this.persister;
    if (p?.durable) p.gate(conn);
    // Clustered: also until the forwards to other nodes are in Redis.
    this.cluster?.gate(conn);
  }

  pump(session: Session): void {
    pump(this, session);
  }

  // --- message events -------------------------------------------------------------------
  outSending(session: Session, out: Outgoing): void {
    this.safeEmit('messageSending', {
      connectionId: session.connection?.connectionId ?? '',
      clientId: session.clientId,
      messageId: out.messageId,
      topic: out.message.topic,
      dup: out.dup,
      qos: out.qos,
      retain: out.retain,
      packetId: out.qos === 0 ? -1 : out.packetId,
    });
  }
  outStatus(session: Session, out: Outgoing, state: number): void {
    this.safeEmit('outgoingMessageStatus', {
      connectionId: session.connection?.connectionId ?? '',
      clientId: session.clientId,
      messageId: out.messageId,
      topic: out.message.topic,
      dup: out.dup,
      qos: out.qos,
      retain: out.retain,
      packetId: out.qos === 0 ? -1 : out.packetId,
      state,
    });
  }
  outSent(session: Session, out: Outgoing): void {
    this.safeEmit('messageSent', {
      connectionId: session.connection?.connectionId ?? '',
      clientId: session.clientId,
      messageId: out.messageId,
    });
  }
  messageDropped(session: Session, out: Outgoing, why: string): void {
    this.stats.messagesDropped++;
    this.log(2, 'Session', session.connection?.connectionId ?? '', `message ${out.messageId} to ${session.clientId} dropped: ${why}`);
  }

  // --- connection end and sessions ------------------------------------------------------
  connectionClosed(conn: MqttConnection, statusCode: number, description: string): void {
    this.connections.delete(conn.connectionId);
    if (this.cluster !== null && conn.clientId !== '') this.cluster.connectionClosed(conn);
    const session = conn.session;
    conn.session = null;
    if (session !== null && session.connection === conn) {
      session.connection = null;
      session.disconnectedAt = Date.now();
      this.#endConnection(conn, session);
    }
    for (const h of this.hooks) {
      if (h.onDisconnect && conn.clientId) {
        try {
          h.onDisconnect({ client: conn, graceful: conn.graceful, reason: conn.closeReason || description });
        } catch (err) {
          this.reportError(new BrokerError(BrokerErrorCode.Hook, `onDisconnect hook threw: ${(err as Error)?.message}`, { cause: err }));
        }
      }
    }
    this.log(1, 'Info', conn.connectionId, `disconnected${conn.clientId ? ` (${conn.clientId})` : ''}: ${conn.closeReason || description}`);
    this.safeEmit('disconnected', { connectionId: conn.connectionId, statusCode, description, clientId: conn.clientId });
  }

  /** The connection of a session ended: Will, then session end or expiry timer. */
  #endConnection(conn: MqttConnection, session: Session): void {
    const will = conn.will;
    conn.will = undefined;
    if (will !== undefined && !conn.graceful) {
      if (conn.willDelay > 0 && session.expiryInterval > 0) {
        const delay = Math.min(conn.willDelay, session.expiryInterval);
        const pending = { message: will, delay, timer: undefined as NodeJS.Timeout | undefined };
        pending.timer = setTimeout(() => {
          if (session.will === pending) {
            session.will = undefined;
            this.publishWill(will);
          }
        }, delay * 1000);
        pending.timer.unref?.();
        session.will = pending;
      } else this.publishWill(will);
    }
    if (session.expiryInterval === 0) {
      this.removeSession(session, 'clean session ended');
      return;
    }
    if (session.expiryInterval !== NEVER_EXPIRES) {
      session.expiryTimer = setTimeout(() => {
        if (session.connection === null && this.sessions.get(session.clientId) === session) {
          this.stats.sessionsExpired++;
          this.removeSession(session, 'session expired');
        }
      }, session.expiryInterval * 1000);
      session.expiryTimer.unref?.();
    }
    if (this.persister) this.persister.push({ type: 'putSession', session: sessionMeta(session) });
  }

  /** `done` runs once the Will is routed or refused by the publish hooks (the cluster acknowledges it then). */
  publishWill(will: BrokerMessage, done?: () => void): void {
    // The Will's Message Expiry Interval runs from its publication (5.0 §3.1.3.2.4).
    const mei = will.properties?.messageExpiryInterval;
    const expiresAt = mei !== undefined ? Date.now() + mei * 1000 : 0;
    const msg = new BrokerMessage(
      this.nextMessageId(),
      will.topic,
      will.payload,
      will.qos,
      will.retain,
      will.properties,
      expiresAt,
      will.senderId,
    );
    if (this.publishAuthSteps.length === 0 && this.publishInterceptSteps.length === 0) {
      this.publishMessage(msg, msg.senderId);
      done?.();
      return;
    }
    const req: PublishRequest = { topic: msg.topic, payload: msg.payload, qos: msg.qos, retain: msg.retain, properties: msg.properties };
    const owner = { clientId: will.senderId, userName: will.publisherUser };
    runPublishHooks(this, undefined, req, owner, (accepted, finalReq) => {
      if (!accepted) {
        done?.();
        return;
      }
      this.publishMessage(
        new BrokerMessage(
          msg.id,
          finalReq.topic,
          finalReq.payload,
          finalReq.qos,
          finalReq.retain,
          finalReq.properties,
          msg.expiresAt,
          msg.senderId,
        ),
        msg.senderId,
      );
      done?.();
    });
  }

  /** Ends a session: pending Will, subscriptions, SessionRemoved (before it leaves `sessions`). */
  removeSession(session: Session, why: string): void {
    session.clearTimers();
    const pending = session.will;
    session.will = undefined;
    if (pending !== undefined) this.publishWill(pending.message);
    if (session.hasSubscriptions) {
      for (const sub of session.subscriptions.values()) this.index.remove(session.clientId, sub.topicFilter, sub.shareName);
      session.subscriptions.clear();
    }
    if (this.sessions.get(session.clientId) === session) {
      this.safeEmit('sessionRemoved', { clientId: session.clientId });
      this.sessions.delete(session.clientId);
      this.log(2, 'Session', session.connection?.connectionId ?? '', `session ${session.clientId} removed: ${why}`);
    }
    if (this.persister) this.persister.push({ type: 'deleteSession', clientId: session.clientId });
    this.cluster?.sessionEnded(session.clientId);
  }

  /** Validates a topic name against the limits (throws ERR_TOPIC_NAME_INVALID). */
  checkTopic(topic: string): void {
    validateTopicName(topic, { maxLength: this.limits.maxTopicLength, maxLevels: this.limits.maxTopicLevels });
  }
}
