// Prometheus text exposition: figures match the broker, and the text follows format 0.0.4
// (checked by a strict line parser here; promtool checks it in metrics.interop.test.ts).
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BROKER_VERSION, METRICS_CONTENT_TYPE, MqttBroker, renderMetrics } from '../src/index.js';
import { startBroker } from './helpers/broker.js';

interface Family {
  help: string;
  type: string;
  samples: { labels: Record<string, string>; value: number }[];
}

/** A strict parser of the text format: HELP and TYPE once per family, before its samples. */
export function parseExposition(text: string): Map<string, Family> {
  expect(text.endsWith('\n')).toBe(true);
  const families = new Map<string, Family>();
  let current: string | undefined;
  for (const line of text.slice(0, -1).split('\n')) {
    let m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      expect(families.has(m[1] as string), `duplicate family ${m[1]}`).toBe(false);
      families.set(m[1] as string, { help: m[2] as string, type: '', samples: [] });
      current = m[1];
      continue;
    }
    m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (m) {
      expect(m[1]).toBe(current);
      (families.get(current as string) as Family).type = m[2] as string;
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*",?)*)\})? (\S+)$/.exec(line);
    expect(m, `bad sample line: ${line}`).not.toBeNull();
    const [, name, labelText, value] = m as RegExpExecArray;
    expect(name).toBe(current);
    const labels: Record<string, string> = {};
    for (const lm of (labelText ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[lm[1] as string] = lm[2] as string;
    const v = Number(value === '+Inf' ? Infinity : value === '-Inf' ? -Infinity : value);
    expect(Number.isNaN(v) && value !== 'NaN', `bad value ${value}`).toBe(false);
    const fam = families.get(name as string) as Family;
    if (fam.type === 'counter') expect(name?.endsWith('_total'), `${name}: counters end in _total`).toBe(true);
    fam.samples.push({ labels, value: v });
  }
  return families;
}

const clients: MqttClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true).catch(() => {});
});

function value(f: Map<string, Family>, name: string, labels: Record<string, string> = {}): number | undefined {
  return f.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('renderMetrics', () => {
  it('exposes counters, gauges and process figures that match the broker', async () => {
    const { broker, port } = await startBroker();
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, clientId: 'm-sub' });
    clients.push(sub);
    await sub.subscribeAsync(['m/#', '$share/g/m/+'], { qos: 0 }); // QoS 0: nothing stored for it
    const keeper = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, clientId: 'm-keep', clean: false });
    await keeper.subscribeAsync('offline/#', { qos: 1 });
    await keeper.endAsync();
    await vi.waitFor(() => expect(broker.connections.size).toBe(1));
    await sub.publishAsync('m/a', 'hello', { qos: 1, retain: true });
    await broker.publish({ topic: 'offline/x', payload: 'queued', qos: 1 });
    await vi.waitFor(() => expect(broker.stats.messagesSent).toBeGreaterThanOrEqual(1));

    const f = parseExposition(renderMetrics(broker));
    const s = broker.stats;
    expect(value(f, 'iotwire_mqtt_build_info', { version: BROKER_VERSION })).toBe(1);
    expect(value(f, 'iotwire_mqtt_connections', { protocol: 'tcp' })).toBe(1);
    expect(value(f, 'iotwire_mqtt_connections', { protocol: 'ws' })).toBe(0);
    expect(value(f, 'iotwire_mqtt_connections_accepted_total')).toBe(2);
    expect(value(f, 'iotwire_mqtt_connections_maximum')).toBe(2);
    expect(value(f, 'iotwire_mqtt_sessions', { state: 'connected' })).toBe(1);
    expect(value(f, 'iotwire_mqtt_sessions', { state: 'disconnected' })).toBe(1);
    expect(value(f, 'iotwire_mqtt_subscriptions')).toBe(3);
    expect(value(f, 'iotwire_mqtt_shared_subscriptions')).toBe(1);
    expect(value(f, 'iotwire_mqtt_retained_messages')).toBe(1);
    expect(value(f, 'iotwire_mqtt_retained_bytes')).toBe(5);
    expect(value(f, 'iotwire_mqtt_stored_messages')).toBe(1); // queued for m-keep
    expect(value(f, 'iotwire_mqtt_received_bytes_total')).toBe(s.bytesReceived);
    expect(value(f, 'iotwire_mqtt_sent_bytes_total')).toBe(s.bytesSent);
    expect(value(f, 'iotwire_mqtt_received_packets_total')).toBe(s.packetsReceived);
    expect(value(f, 'iotwire_mqtt_received_publish_messages_total')).toBe(1);
    expect(value(f, 'iotwire_mqtt_sent_publish_messages_total')).toBe(s.messagesSent);
    expect(value(f, 'iotwire_mqtt_dropped_publish_messages_total')).toBe(0);
    expect(value(f, 'iotwire_mqtt_internal_publish_messages_total')).toBe(1);
    expect(value(f, 'iotwire_mqtt_uptime_seconds')).toBeGreaterThanOrEqual(0);
    expect(f.get('iotwire_mqtt_received_bytes_total')?.type).toBe('counter');
    expect(f.get('iotwire_mqtt_sessions')?.type).toBe('gauge');
    expect(value(f, 'process_resident_memory_bytes')).toBeGreaterThan(1_000_000);
    expect(value(f, 'process_start_time_seconds')).toBeLessThanOrEqual(Date.now() / 1000);
    expect(value(f, 'process_cpu_seconds_total')).toBeGreaterThan(0);
  });

  it('takes a prefix, constant labels (escaped) and can leave out process figures', () => {
    const broker = new MqttBroker();
    const text = renderMetrics(broker, { prefix: 'mqtt_', labels: { node: 'a"b\\c\nd' }, process: false, version: '9.9' });
    const f = parseExposition(text);
    expect([...f.keys()].every((k) => k.startsWith('mqtt_'))).toBe(true);
    expect(text).toContain('mqtt_build_info{node="a\\"b\\\\c\\nd",version="9.9"} 1');
    expect(value(f, 'mqtt_connections', { protocol: 'wss', node: 'a\\"b\\\\c\\nd' })).toBe(0);
    expect(METRICS_CONTENT_TYPE).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('rejects an invalid prefix or label name', () => {
    const broker = new MqttBroker();
    expect(() => renderMetrics(broker, { prefix: '9x' })).toThrow(RangeError);
    expect(() => renderMetrics(broker, { labels: { 'bad-name': 'x' } })).toThrow(/label name/);
    expect(() => renderMetrics(broker, { labels: { __reserved: 'x' } })).toThrow(/label name/);
  });
});
