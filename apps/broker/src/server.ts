/**
 * The broker server: a `MqttBroker` built from a validated configuration, with its listeners,
 * storage, access hook, `$SYS` publisher, dashboard and /metrics HTTP servers and logs; live
 * reload (SIGHUP) and graceful stop.
 */
import {
  BROKER_VERSION,
  type BrokerOptions,
  type BrokerStorage,
  type ClusterOptions,
  createDurableStorage,
  LIVE_LIMITS,
  MqttBroker,
  StorageCorruptionError,
  SysTopics,
} from '@iotwire/mqtt-broker';
import { AccessControl } from './access.js';
import { allowAnonymous, loadAccessFiles, reloadAccessFiles } from './access-files.js';
import { describeListener, listenerOptions, withPort } from './config/listeners.js';
import { loadConfigFile } from './config/load.js';
import type { BrokerConfig } from './config/schema.js';
import { Dashboard } from './http/dashboard.js';
import { HttpEndpoint, type Route } from './http/endpoint.js';
import { metricsRoute } from './http/metrics.js';
import { attachBrokerLogs, brokerLogLevel, createLogger, type Logger, type LoggerOptions } from './logger.js';
import { planReload, type ReloadPlan } from './reload.js';

export interface StartOptions {
  /** A validated configuration (see `loadConfigFile` / `defaultConfig`). */
  config: BrokerConfig;
  /** The file it came from: SIGHUP re-reads it. */
  configFile?: string | undefined;
  /** `-p`: replaces the first TCP listener's port. */
  port?: number | undefined;
  /** `-v`: debug logging whatever the file says. */
  verbose?: boolean | undefined;
  /** Log destination (tests); default stdout. */
  logDestination?: LoggerOptions['destination'];
}

/** What a reload did. */
export interface ReloadOutcome {
  ok: boolean;
  /** What was applied (for the log). */
  applied: string[];
  /** Changed keys that need a restart. */
  restartNeeded: string[];
  error?: string;
}

/** The durable store (opened), or none for `storage.type: memory` (sessions live in the broker's memory). */
async function openStorage(config: BrokerConfig, log: Logger): Promise<BrokerStorage | undefined> {
  const s = config.storage;
  if (config.cluster) {
    const redis = typeof config.cluster.redis === 'string' ? config.cluster.redis.replace(/\/\/[^@/]*@/, '//***@') : 'ioredis options';
    log.info({ redis }, `storage: in Redis, shared by the cluster (${redis})`);
    return undefined;
  }
  if (s.type === 'memory') {
    log.info('storage: memory (sessions and retained messages do not survive a restart)');
    return undefined;
  }
  try {
    const storage = await createDurableStorage({
      directory: s.directory,
      onCorruption: s.onCorruption,
      sync: s.sync,
      onReport: (message) => log.warn({ directory: s.directory }, `storage: ${message}`),
    });
    log.info({ directory: s.directory, sync: s.sync }, `storage: durable in ${s.directory}`);
    return storage;
  } catch (err) {
    const e = err as Error & { code?: string };
    const hint =
      err instanceof StorageCorruptionError
        ? ' — set storage.onCorruption to repair (keep what is readable) or reset (move it aside and start empty) in the configuration file'
        : '';
    throw Object.assign(new Error(`cannot open the store in ${s.directory}: ${e.message}${hint}`, { cause: err }), { code: e.code });
  }
}

/** A listener that cannot bind: say which, and what to do when the port is taken. */
function listenError(err: Error & { errorCode?: number; code?: string }): Error {
  let inUse = err.errorCode === 10048;
  for (let e: unknown = err, i = 0; e instanceof Error && i < 5; e = e.cause, i++) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE' || /address already in use/i.test(e.message)) inUse = true;
  }
  if (!inUse) return err;
  const what = /^(cannot listen on \S+ \S+?): /.exec(err.message)?.[1] ?? 'cannot listen';
  return Object.assign(
    new Error(
      `${what}: address already in use (EADDRINUSE): another process is using that port: stop it, or choose another port with -p or in the configuration file`,
      {
        cause: err,
      },
    ),
    { code: err.code },
  );
}

/** A configuration as the command line modifies it. */
function effective(config: BrokerConfig, port: number | undefined, verbose: boolean | undefined): BrokerConfig {
  const c = withPort(config, port);
  if (!verbose || c.logging.level === 'trace') return c;
  return { ...c, logging: { ...c.logging, level: 'debug' } };
}

export class BrokerServer {
  readonly broker: MqttBroker;
  readonly log: Logger;
  readonly access: AccessControl;
  #config: BrokerConfig;
  readonly #options: StartOptions;
  readonly #sys: SysTopics;
  readonly #connectedAt = new Map<string, number>();
  readonly #startedAt = Date.now();
  #endpoints: HttpEndpoint[] = [];
  #dashboard: Dashboard | undefined;
  #detachLogs: () => void = () => {};
  #stopping: Promise<void> | undefined;
  #reloading: Promise<ReloadOutcome> = Promise.resolve({ ok: true, applied: [], restartNeeded: [] });

  private constructor(options: StartOptions, config: BrokerConfig, log: Logger, storage: BrokerStorage | undefined) {
    this.#options = options;
    this.#config = config;
    this.log = log;
    const brokerOptions: BrokerOptions = {
      limits: config.limits,
      ...config.mqtt,
      logLevel: brokerLogLevel(config.logging.level),
      allowAnonymous: allowAnonymous(config),
      ...(storage ? { storage } : {}),
      ...(config.cluster ? { cluster: config.cluster as ClusterOptions } : {}),
    };
    this.broker = new MqttBroker(brokerOptions);
    this.access = new AccessControl(this.broker);
    // In a cluster each node's $SYS tree stays on that node (never forwarded, retained values not
    // shared), with the cluster-wide figures under $SYS/broker/cluster/.
    this.#sys = new SysTopics(this.broker, {
      interval: config.sys.interval,
      onError: (err) => this.log.warn({ err }, '$SYS publish failed'),
    });
    this.access.observe((what, client) => {
      if (what === 'connect') this.#connectedAt.set(client.connectionId, Date.now());
    });
    this.broker.on('disconnected', (e) => this.#connectedAt.delete(e.connectionId));
  }

  /** Builds and starts everything; on failure, whatever started is stopped again and it rejects. */
  static async start(options: StartOptions): Promise<BrokerServer> {
    const config = effective(options.config, options.port, options.verbose);
    const log = createLogger({ level: config.logging.level, format: config.logging.format, destination: options.logDestination });
    log.info({ version: BROKER_VERSION, config: options.configFile ?? '(embedded defaults)' }, `iotwire-broker ${BROKER_VERSION} starting`);
    const storage = await openStorage(config, log);
    const server = new BrokerServer(options, config, log, storage);
    try {
      await loadAccessFiles(config, server.access, log);
      await server.#start();
    } catch (err) {
      await server.#teardown().catch(() => {});
      throw err;
    }
    return server;
  }

  /** The configuration in force (after -p / -v). */
  get config(): BrokerConfig {
    return this.#config;
  }

  /** `http://host:port/` of the dashboard, when enabled. */
  get dashboardUrl(): string | undefined {
    const c = this.#config.dashboard;
    if (!c.enabled) return undefined;
    const e = this.#endpoints.find((x) => x.host === c.host && x.requestedPort === c.port);
    return e ? `${e.url}/` : undefined;
  }

  /** URL of /metrics, when enabled. */
  get metricsUrl(): string | undefined {
    const m = this.#config.metrics;
    if (!m.enabled) return undefined;
    const { host, port } = this.#metricsAddress(this.#config);
    const e = this.#endpoints.find((x) => x.host === host && x.requestedPort === port);
    return e ? `${e.url}${m.path}` : undefined;
  }

  async #start(): Promise<void> {
    const config = this.#config;
    for (const l of config.listeners ?? []) this.broker.addBrokerListener(listenerOptions(l));
    this.#detachLogs = attachBrokerLogs(this.broker, this.log);
    try {
      await this.broker.startListening();
    } catch (err) {
      throw listenError(err as Error);
    }
    for (const l of this.broker.brokerListeners) this.log.info({ listener: describeListener(l) }, `listening on ${describeListener(l)}`);
    if (config.sys.interval > 0) {
      await this.#sys.start();
      this.log.info({ interval: config.sys.interval, prefix: this.#sys.prefix }, `${this.#sys.prefix}/... every ${config.sys.interval} s`);
    }
    await this.#startHttp(config);
    this.log.info('started');
  }

  #metricsAddress(config: BrokerConfig): { host: string; port: number } {
    return {
      host: config.metrics.port !== undefined ? (config.metrics.host ?? '127.0.0.1') : config.dashboard.host,
      port: config.metrics.port ?? config.dashboard.port,
    };
  }

  async #startHttp(config: BrokerConfig): Promise<void> {
    const groups = new Map<string, { host: string; port: number; routes: Route[]; what: string[] }>();
    const add = (host: string, port: number, route: Route, what: string) => {
      const key = `${host}|${port}`;
      const g = groups.get(key) ?? { host, port, routes: [], what: [] };
      g.routes.push(route);
      g.what.push(what);
      groups.set(key, g);
    };
    if (config.metrics.enabled) {
      const { host, port } = this.#metricsAddress(config);
      add(
        host,
        port,
        metricsRoute(this.broker, () => ({
          path: this.#config.metrics.path,
          token: this.#config.metrics.token,
          labels: this.#config.metrics.labels,
        })),
        'metrics',
      );
    }
    if (config.dashboard.enabled) {
      this.#dashboard = new Dashboard({
        broker: this.broker,
        access: this.access,
        connectedAt: this.#connectedAt,
        startedAt: this.#startedAt,
        sysInterval: () => this.#config.sys.interval,
        sysPrefix: this.#sys.prefix,
        settings: () => ({
          host: this.#config.dashboard.host,
          token: this.#config.dashboard.token,
          mqttUrl: this.#config.dashboard.mqttUrl,
          allowedHosts: this.#config.dashboard.allowedHosts,
        }),
      });
      add(config.dashboard.host, config.dashboard.port, this.#dashboard.route, 'dashboard');
    }
    for (const g of groups.values()) {
      const e = new HttpEndpoint(g.host, g.port, g.routes, g.what.join(' and '), (err) => this.log.error({ err }, 'HTTP request failed'));
      await e.start();
      this.#endpoints.push(e);
    }
    if (this.dashboardUrl) this.log.info({ url: this.dashboardUrl }, `dashboard at ${this.dashboardUrl}`);
    if (this.metricsUrl) this.log.info({ url: this.metricsUrl }, `metrics at ${this.metricsUrl}`);
  }

  async #stopHttp(): Promise<void> {
    this.#dashboard?.close();
    this.#dashboard = undefined;
    const list = this.#endpoints.splice(0);
    await Promise.all(list.map((e) => e.stop()));
  }

  /**
   * Re-reads the configuration file and applies what can change without dropping a client;
   * logs what needs a restart. An invalid file changes nothing.
   */
  reload(): Promise<ReloadOutcome> {
    this.#reloading = this.#reloading.then(() => this.#reload());
    return this.#reloading;
  }

  async #reload(): Promise<ReloadOutcome> {
    try {
      return await this.#reloadFile();
    } catch (err) {
      // Nothing a reload does may take the broker down.
      this.log.error({ err }, `reload failed: ${(err as Error).message}`);
      return { ok: false, applied: [], restartNeeded: [], error: (err as Error).message };
    }
  }

  async #reloadFile(): Promise<ReloadOutcome> {
    const file = this.#options.configFile;
    if (!file) {
      this.log.info('reload: no configuration file (started on the embedded defaults), nothing to re-read');
      return { ok: true, applied: [], restartNeeded: [] };
    }
    let next: BrokerConfig;
    try {
      const loaded = loadConfigFile(file);
      for (const w of loaded.warnings) this.log.warn(w);
      next = effective(loaded.config, this.#options.port, this.#options.verbose);
    } catch (err) {
      this.log.error({ file }, `reload refused, the running configuration stays: ${(err as Error).message}`);
      return { ok: false, applied: [], restartNeeded: [], error: (err as Error).message };
    }
    const old = this.#config;
    const plan = planReload(old, next);
    // What needs a restart keeps its running value, so the next reload still reports it.
    const limits = { ...old.limits };
    for (const k of Object.keys(plan.limits ?? {}) as (keyof BrokerConfig['limits'])[]) {
      if ((LIVE_LIMITS as readonly string[]).includes(k)) (limits as Record<string, unknown>)[k] = next.limits[k];
    }
    this.#config = {
      ...next,
      listeners: old.listeners,
      storage: old.storage,
      cluster: old.cluster,
      logging: { ...next.logging, format: old.logging.format },
      mqtt: { ...old.mqtt, ...plan.mqtt },
      limits,
    };
    const applied: string[] = [];
    await this.#apply(plan, old, next, applied);
    if (plan.restart.length > 0) {
      this.log.warn({ keys: plan.restart }, `reload: these changes need a restart to take effect: ${plan.restart.join(', ')}`);
    }
    this.log.info({ applied }, applied.length > 0 ? `reloaded: ${applied.join(', ')}` : 'reloaded: nothing changed that applies live');
    return { ok: true, applied, restartNeeded: plan.restart };
  }

  async #apply(plan: ReloadPlan, old: BrokerConfig, next: BrokerConfig, applied: string[]): Promise<void> {
    // Broker options: limits, MQTT options, log level and anonymous access in one validated step.
    const update: Partial<BrokerOptions> = { ...plan.mqtt };
    if (plan.limits) update.limits = plan.limits;
    if (plan.logLevel) update.logLevel = brokerLogLevel(plan.logLevel);
    if (allowAnonymous(old) !== allowAnonymous(next)) update.allowAnonymous = allowAnonymous(next);
    if (Object.keys(update).length > 0) {
      const r = this.broker.updateOptions(update);
      for (const k of r.applied)
        applied.push(
          k === 'logLevel' ? 'logging.level' : k === 'allowAnonymous' ? 'auth.allowAnonymous' : k.startsWith('limits.') ? k : `mqtt.${k}`,
        );
      for (const k of r.restartRequired) if (!plan.restart.includes(k)) plan.restart.push(k.startsWith('limits.') ? k : `mqtt.${k}`);
    }
    if (plan.logLevel) this.log.level = plan.logLevel;
    // Password and ACL files are re-read on every reload, changed or not (as Mosquitto does).
    applied.push(...(await reloadAccessFiles(next, this.access, this.log)));
    if (plan.sysInterval !== undefined) {
      if (plan.sysInterval === 0) this.#sys.stop();
      else if (old.sys.interval === 0) {
        this.#sys.interval = plan.sysInterval;
        await this.#sys.start();
      } else this.#sys.interval = plan.sysInterval;
      applied.push('sys.interval');
    }
    if (plan.http) {
      await this.#stopHttp();
      try {
        await this.#startHttp(this.#config);
        applied.push('dashboard/metrics');
      } catch (err) {
        this.log.error({ err }, `reload: the new dashboard/metrics settings failed, keeping the old ones: ${(err as Error).message}`);
        await this.#stopHttp();
        this.#config = { ...this.#config, dashboard: old.dashboard, metrics: old.metrics };
        await this.#startHttp(old).catch((e: Error) => this.log.error({ err: e }, 'dashboard/metrics could not be restored'));
      }
    }
  }

  /** Stops gracefully: $SYS and HTTP first, then clients (5.0: DISCONNECT 0x8B), storage flushed and closed. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      this.log.info('stopping: disconnecting clients and saving sessions');
      await this.#teardown();
      this.log.info({ uptime: Math.round((Date.now() - this.#startedAt) / 1000) }, 'stopped');
    })();
    return this.#stopping;
  }

  async #teardown(): Promise<void> {
    this.#sys.stop();
    await this.#stopHttp();
    await this.broker.close();
    this.#detachLogs();
  }
}
