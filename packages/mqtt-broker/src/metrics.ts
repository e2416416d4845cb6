/**
 * Prometheus text exposition (format 0.0.4) of a broker's figures: the `BrokerStats` counters,
 * gauges from its collections and, optionally, the process's. No HTTP here: the application
 * serves the string (`iotwire-broker` does it on its dashboard port at `/metrics`).
 */
import type { MqttBroker } from './broker.js';
import { BROKER_VERSION, collectBrokerFigures } from './sys-topics.js';

/** The `Content-Type` of {@link renderMetrics}' output. */
export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export interface MetricsOptions {
  /** Prefix of the broker's metric names. Default `iotwire_mqtt_`. */
  prefix?: string;
  /** Add `process_*` and `nodejs_*` figures (CPU, memory, start time). Default true. */
  process?: boolean;
  /** Constant labels on every broker sample (e.g. `{ node: 'a' }` in a cluster). */
  labels?: Readonly<Record<string, string>>;
  /** Version reported by `<prefix>build_info`. Default the package version. */
  version?: string;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '';
  return `{${keys.map((k) => `${k}="${escapeLabel(labels[k] as string)}"`).join(',')}}`;
}

/** Integers as integers; other numbers in a form Prometheus parses (including NaN/Inf). */
function num(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

class Exposition {
  readonly #lines: string[] = [];
  constructor(readonly constLabels: Readonly<Record<string, string>>) {}

  family(name: string, type: 'counter' | 'gauge', help: string, samples: readonly (readonly [Record<string, string>, number])[]): void {
    this.#lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) this.#lines.push(`${name}${labelText({ ...this.constLabels, ...labels })} ${num(value)}`);
  }
  one(name: string, type: 'counter' | 'gauge', help: string, value: number): void {
    this.family(name, type, help, [[{}, value]]);
  }
  text(): string {
    return `${this.#lines.join('\n')}\n`;
  }
}

/** Renders the broker's metrics in the Prometheus text format. */
export function renderMetrics(broker: MqttBroker, options: MetricsOptions = {}): string {
  const prefix = options.prefix ?? 'iotwire_mqtt_';
  if (!NAME.test(`${prefix}x`)) throw new RangeError(`invalid metric name prefix ${JSON.stringify(prefix)}`);
  const constLabels = options.labels ?? {};
  for (const k of Object.keys(constLabels)) {
    if (!LABEL.test(k) || k.startsWith('__')) throw new RangeError(`invalid metric label name ${JSON.stringify(k)}`);
  }
  const s = broker.stats;
  const f = collectBrokerFigures(broker);
  const e = new Exposition(constLabels);
  const p = (n: string) => `${prefix}${n}`;

  e.family(p('build_info'), 'gauge', 'Broker version (always 1).', [[{ version: options.version ?? BROKER_VERSION }, 1]]);
  e.one(p('uptime_seconds'), 'gauge', 'Seconds since the broker started.', s.uptimeSeconds);
  e.family(
    p('connections'),
    'gauge',
    'Open transport connections by listener protocol (before and after CONNECT).',
    (['tcp', 'tls', 'ws', 'wss'] as const).map((proto) => [{ protocol: proto }, f.connectionsByProtocol[proto]] as const),
  );
  e.one(p('connections_maximum'), 'gauge', 'Most simultaneous connections since start.', s.connectionsMaximum);
  e.one(p('connections_accepted_total'), 'counter', 'Transport connections accepted since start.', s.connectionsAccepted);
  e.family(p('sessions'), 'gauge', 'Sessions by state: connected clients and disconnected persistent sessions.', [
    [{ state: 'connected' }, f.clientsConnected],
    [{ state: 'disconnected' }, f.clientsDisconnected],
  ]);
  e.one(p('subscriptions'), 'gauge', 'Subscriptions across all sessions (shared ones included).', f.subscriptions);
  e.one(p('shared_subscriptions'), 'gauge', 'Shared subscriptions ($share/...) across all sessions.', f.sharedSubscriptions);
  e.one(p('retained_messages'), 'gauge', 'Retained messages held.', f.retainedMessages);
  e.one(p('retained_bytes'), 'gauge', 'Payload bytes of the retained messages.', f.retainedBytes);
  e.one(p('stored_messages'), 'gauge', 'QoS 1/2 message copies held for sessions (in flight and queued).', f.storedMessages);
  e.one(p('received_bytes_total'), 'counter', 'Bytes received from clients (MQTT bytes).', s.bytesReceived);
  e.one(p('sent_bytes_total'), 'counter', 'Bytes sent to clients (MQTT bytes).', s.bytesSent);
  e.one(p('received_packets_total'), 'counter', 'MQTT packets received from clients.', s.packetsReceived);
  e.one(p('sent_packets_total'), 'counter', 'MQTT packets sent to clients.', s.packetsSent);
  e.one(p('received_publish_bytes_total'), 'counter', 'Payload bytes of PUBLISH packets received from clients.', s.publishBytesReceived);
  e.one(p('sent_publish_bytes_total'), 'counter', 'Payload bytes of PUBLISH packets sent to clients.', s.publishBytesSent);
  e.one(p('expired_sessions_total'), 'counter', 'Disconnected sessions removed by Session Expiry.', s.sessionsExpired);
  e.one(p('received_publish_messages_total'), 'counter', 'PUBLISH packets received from clients.', s.messagesReceived);
  e.one(p('sent_publish_messages_total'), 'counter', 'PUBLISH packets sent to clients.', s.messagesSent);
  e.one(
    p('dropped_publish_messages_total'),
    'counter',
    'Messages dropped for a subscriber (queue limits, expiry, size).',
    s.messagesDropped,
  );
  e.one(p('internal_publish_messages_total'), 'counter', 'Messages published in-process (publish(), $SYS).', s.messagesPublishedInternally);

  if (options.process ?? true) {
    const cpu = process.cpuUsage();
    const mem = process.memoryUsage();
    e.one('process_cpu_user_seconds_total', 'counter', 'User CPU time spent in seconds.', cpu.user / 1e6);
    e.one('process_cpu_system_seconds_total', 'counter', 'System CPU time spent in seconds.', cpu.system / 1e6);
    e.one('process_cpu_seconds_total', 'counter', 'Total user and system CPU time spent in seconds.', (cpu.user + cpu.system) / 1e6);
    e.one('process_start_time_seconds', 'gauge', 'Start time of the process since unix epoch in seconds.', processStart);
    e.one('process_resident_memory_bytes', 'gauge', 'Resident memory size in bytes.', mem.rss);
    e.one('nodejs_heap_size_total_bytes', 'gauge', 'V8 heap size in bytes.', mem.heapTotal);
    e.one('nodejs_heap_size_used_bytes', 'gauge', 'V8 heap used in bytes.', mem.heapUsed);
    e.one('nodejs_external_memory_bytes', 'gauge', 'Memory of C++ objects bound to JavaScript, in bytes.', mem.external);
  }
  return e.text();
}

const processStart = Math.round(Date.now() / 1000 - process.uptime());
