/**
 * `$SYS/broker/...` topics as Mosquitto publishes them (sys_tree.c): static version once, then
 * every `interval` seconds the counters and gauges that changed, the 1/5/15-minute load
 * averages, and the uptime. Built only on the broker's public API (`stats`, `connections`,
 * `sessions`, `messages`, `publish()`), so embedders get it as well as `iotwire-broker`.
 */
import { createRequire } from 'node:module';
import type { MqttBroker } from './broker.js';
import type { ListenerProtocol } from './transport.js';

/** Figures derived from the broker's collections, shared by `$SYS` topics and metrics. */
export interface BrokerFigures {
  /** Transport connections (before and after CONNECT). */
  connections: number;
  connectionsByProtocol: Record<ListenerProtocol, number>;
  /** Sessions with a connected client. */
  clientsConnected: number;
  /** Sessions: connected clients plus disconnected persistent sessions. */
  clientsTotal: number;
  clientsDisconnected: number;
  subscriptions: number;
  sharedSubscriptions: number;
  retainedMessages: number;
  retainedBytes: number;
  /** QoS 1/2 copies held for sessions (in flight and queued). */
  storedMessages: number;
  storedBytes: number;
}

/** The broker's current figures ({@link MqttBroker.figures}); O(sessions), no copies. */
export function collectBrokerFigures(broker: MqttBroker): BrokerFigures {
  return broker.figures();
}

/** The version of this package (for `$SYS/broker/version` and metrics). */
export const BROKER_VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

export interface SysTopicsOptions {
  /** Seconds between updates (Mosquitto's `sys_interval`). Default 10; 0 publishes only the static topics. */
  interval?: number;
  /** Payload of `$SYS/broker/version`. Default `iotwire version <package version>`. */
  version?: string;
  /** QoS of the `$SYS` publishes. Default 0 (Mosquitto uses 2; subscribers cap it anyway). */
  qos?: 0 | 1 | 2;
  /**
   * Topic prefix. Default `$SYS/broker` (Mosquitto's). In a cluster each node's tree stays on
   * that node (never forwarded, its retained values not shared), so the default fits there too.
   */
  prefix?: string;
  /**
   * Publish retained (default true, as Mosquitto): a new subscriber gets every value at once,
   * and values are re-sent only when they change. With false every value is sent every round.
   */
  retain?: boolean;
  /** Clock in milliseconds (tests). Default `Date.now`. */
  now?: () => number;
  /** Heap figure for `$SYS/broker/heap/current`. Default `process.memoryUsage().heapUsed`. */
  heapUsed?: () => number;
  /** A publish failed (e.g. refused by a hook). Default: a process warning. */
  onError?: (err: Error) => void;
}

/** Exponentially damped moving average as Mosquitto's `calc_load`, per minute. */
export class LoadAverage {
  /** Current value (per minute). */
  value = 0;
  constructor(
    /** Averaging window in seconds: 60, 300 or 900. */
    readonly window: number,
  ) {}
  /** Folds in `delta` events over `elapsed` seconds; returns the new value. */
  update(delta: number, elapsed: number): number {
    const perMinute = elapsed > 0 ? (delta * 60) / elapsed : 0;
    const exponent = Math.exp(-elapsed / this.window);
    this.value = perMinute + exponent * (this.value - perMinute);
    return this.value;
  }
}

type LoadSource =
  | 'packetsReceived'
  | 'packetsSent'
  | 'messagesDropped'
  | 'messagesReceived'
  | 'messagesSent'
  | 'bytesReceived'
  | 'bytesSent'
  | 'sockets'
  | 'connections';

/** Load topics under `$SYS/broker/load/` and the counter each follows. */
const LOADS: readonly (readonly [string, LoadSource])[] = [
  ['messages/received', 'packetsReceived'],
  ['messages/sent', 'packetsSent'],
  ['publish/dropped', 'messagesDropped'],
  ['publish/received', 'messagesReceived'],
  ['publish/sent', 'messagesSent'],
  ['bytes/received', 'bytesReceived'],
  ['bytes/sent', 'bytesSent'],
  ['sockets', 'sockets'],
  ['connections', 'connections'],
];
const WINDOWS = [
  [60, '1min'],
  [300, '5min'],
  [900, '15min'],
] as const;

interface LoadTrack {
  topic: string;
  source: LoadSource;
  avg: LoadAverage;
  /** Last published text, so unchanged values (within 0.01) are not re-sent. */
  published: number;
}

/**
 * Publishes the `$SYS/broker/...` tree of a broker. Values are retained, so a new subscriber
 * gets the latest of each at once; like Mosquitto, a topic is re-published only when its value
 * changed, except the uptime, which is sent every interval (last, so a round is complete when
 * it arrives).
 */
export class SysTopics {
  readonly #broker: MqttBroker;
  readonly #now: () => number;
  readonly #heapUsed: () => number;
  readonly #onError: (err: Error) => void;
  readonly #qos: 0 | 1 | 2;
  readonly #version: string;
  readonly #prefix: string;
  readonly #retain: boolean;
  #interval: number;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #lastUpdate = 0;
  #last = new Map<string, string>();
  #prev: Record<LoadSource, number> | undefined;
  #connects = 0;
  #heapMax = 0;
  readonly #loads: LoadTrack[] = [];
  #round: Promise<void> = Promise.resolve();
  readonly #onSessionRequest = (): void => {
    this.#connects++;
  };

  constructor(broker: MqttBroker, options: SysTopicsOptions = {}) {
    this.#broker = broker;
    this.#now = options.now ?? Date.now;
    this.#heapUsed = options.heapUsed ?? (() => process.memoryUsage().heapUsed);
    this.#onError = options.onError ?? ((err) => process.emitWarning(err.message, { code: 'IOTWIRE_SYS_TOPICS' }));
    this.#qos = options.qos ?? 0;
    this.#version = options.version ?? `iotwire version ${BROKER_VERSION}`;
    this.#prefix = (options.prefix ?? '$SYS/broker').replace(/\/+$/, '');
    if (!this.#prefix.startsWith('$SYS') || /[#+]/.test(this.#prefix))
      throw new RangeError(`$SYS prefix must start with $SYS and have no wildcards, got ${this.#prefix}`);
    this.#retain = options.retain ?? true;
    this.#interval = checkInterval(options.interval ?? 10);
    for (const [window, suffix] of WINDOWS) {
      for (const [name, source] of LOADS) {
        this.#loads.push({ topic: `${this.#prefix}/load/${name}/${suffix}`, source, avg: new LoadAverage(window), published: Number.NaN });
      }
    }
  }

  /** Seconds between updates; setting it restarts the timer (0 stops periodic updates). */
  get interval(): number {
    return this.#interval;
  }
  set interval(seconds: number) {
    this.#interval = checkInterval(seconds);
    if (this.#running) this.#schedule();
  }

  /** The 1/5/15-minute load averages by topic (per minute), as last computed. */
  get loads(): ReadonlyMap<string, number> {
    return new Map(this.#loads.map((l) => [l.topic, l.avg.value]));
  }

  /** The topic prefix (`$SYS/broker` unless set). */
  get prefix(): string {
    return this.#prefix;
  }

  /** Publishes the version and (interval > 0) a first round, then one round per interval. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#broker.on('sessionRequest', this.#onSessionRequest);
    await this.#publish(`${this.#prefix}/version`, this.#version);
    if (this.#interval > 0) await this.update();
    this.#schedule();
  }

  /** Stops the timer (values already published stay retained). */
  stop(): void {
    this.#running = false;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#broker.off('sessionRequest', this.#onSessionRequest);
  }

  /** Publishes one round now (the timer calls this); rounds never overlap. */
  update(): Promise<void> {
    this.#round = this.#round.then(() => this.#update());
    return this.#round;
  }

  #schedule(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#interval === 0) return;
    this.#timer = setInterval(() => void this.update(), this.#interval * 1000);
    this.#timer.unref();
  }

  async #update(): Promise<void> {
    const now = this.#now();
    const stats = this.#broker.stats;
    const f = collectBrokerFigures(this.#broker);
    const heap = this.#heapUsed();
    if (heap > this.#heapMax) this.#heapMax = heap;
    const counters: Record<LoadSource, number> = {
      packetsReceived: stats.packetsReceived,
      packetsSent: stats.packetsSent,
      messagesDropped: stats.messagesDropped,
      messagesReceived: stats.messagesReceived,
      messagesSent: stats.messagesSent,
      bytesReceived: stats.bytesReceived,
      bytesSent: stats.bytesSent,
      sockets: stats.connectionsAccepted,
      connections: this.#connects,
    };

    const values: [string, string][] = [
      ['clients/total', String(f.clientsTotal)],
      ['clients/maximum', String(stats.connectionsMaximum)],
      ['clients/inactive', String(f.clientsDisconnected)],
      ['clients/disconnected', String(f.clientsDisconnected)],
      ['clients/active', String(f.clientsConnected)],
      ['clients/connected', String(f.clientsConnected)],
      ['clients/expired', String(stats.sessionsExpired)],
    ];
    for (const [k, v] of values) await this.#changed(`${this.#prefix}/${k}`, v);

    const prev = this.#prev;
    const initial = prev === undefined;
    const elapsed = initial ? 0 : Math.max(0, (now - this.#lastUpdate) / 1000);
    for (const l of this.#loads) {
      // The first round publishes the starting value (0.00), as Mosquitto's initial publish.
      if (!initial) l.avg.update(counters[l.source] - (prev as Record<LoadSource, number>)[l.source], elapsed);
      if (initial || !this.#retain || Math.abs(l.avg.value - l.published) >= 0.01) {
        l.published = l.avg.value;
        await this.#publish(l.topic, l.avg.value.toFixed(2));
      }
    }
    this.#prev = counters;
    this.#lastUpdate = now;

    const rest: [string, string][] = [
      ['messages/stored', String(f.storedMessages + f.retainedMessages)],
      ['store/messages/count', String(f.storedMessages + f.retainedMessages)],
      ['store/messages/bytes', String(f.storedBytes + f.retainedBytes)],
      ['subscriptions/count', String(f.subscriptions)],
      ['shared_subscriptions/count', String(f.sharedSubscriptions)],
      ['retained messages/count', String(f.retainedMessages)],
      ['heap/current', String(heap)],
      ['heap/maximum', String(this.#heapMax)],
      ['messages/received', String(stats.packetsReceived)],
      ['messages/sent', String(stats.packetsSent)],
      ['publish/messages/dropped', String(stats.messagesDropped)],
      ['publish/messages/received', String(stats.messagesReceived)],
      ['publish/messages/sent', String(stats.messagesSent)],
      ['publish/bytes/received', String(stats.publishBytesReceived)],
      ['publish/bytes/sent', String(stats.publishBytesSent)],
      ['bytes/received', String(stats.bytesReceived)],
      ['bytes/sent', String(stats.bytesSent)],
    ];
    for (const [k, v] of rest) await this.#changed(`${this.#prefix}/${k}`, v);
    // Clustered: this tree is the node's own (never forwarded); the cluster's figures beside it.
    const cf = this.#broker.clusterFigures;
    if (cf !== undefined) {
      const cluster: [string, string][] = [
        ['cluster/node', cf.nodeId],
        ['cluster/nodes', String(cf.nodes)],
        ['cluster/clients/connected', String(cf.clientsConnected)],
        ['cluster/clients/total', String(cf.clientsTotal)],
      ];
      for (const [k, v] of cluster) await this.#changed(`${this.#prefix}/${k}`, v);
    }
    // Not retained: a new subscriber learns the static version from the next round.
    if (!this.#retain) await this.#publish(`${this.#prefix}/version`, this.#version);
    const uptime = Math.max(0, Math.floor((now - stats.startedAt) / 1000));
    await this.#publish(`${this.#prefix}/uptime`, `${uptime} seconds`);
  }

  async #changed(topic: string, value: string): Promise<void> {
    if (this.#retain && this.#last.get(topic) === value) return;
    this.#last.set(topic, value);
    await this.#publish(topic, value);
  }

  async #publish(topic: string, payload: string): Promise<void> {
    try {
      await this.#broker.publish({ topic, payload, qos: this.#qos, retain: this.#retain });
    } catch (err) {
      this.#onError(err as Error);
    }
  }
}

function checkInterval(seconds: number): number {
  if (!Number.isInteger(seconds) || seconds < 0 || seconds > 86_400) {
    throw new RangeError(`$SYS interval must be an integer number of seconds in 0..86400, got ${String(seconds)}`);
  }
  return seconds;
}
