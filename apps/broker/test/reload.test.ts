// SIGHUP reload: what applies live and what needs a restart (pure plan), and a running server
// applying a new file without dropping its client.
import { readFileSync, writeFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { defaultConfig, parseConfigText, planReload } from '../src/index.js';
import { startTestServer } from './helpers/server.js';

describe('planReload', () => {
  const base = defaultConfig().config;
  const next = (yaml: string) => parseConfigText(yaml).config;

  it('nothing changed: nothing to do', () => {
    expect(planReload(base, defaultConfig().config)).toEqual({
      limits: undefined,
      mqtt: undefined,
      logLevel: undefined,
      auth: false,
      sysInterval: undefined,
      http: false,
      restart: [],
    });
  });

  it('live: limits, MQTT options, log level, auth files, $SYS interval, dashboard/metrics', () => {
    const p = planReload(
      base,
      next(`limits: { maxInflight: 10 }
mqtt: { defaultIdleTimeout: 30, maxKeepAlive: 60 }
logging: { level: warn }
auth: { allowAnonymous: true }
sys: { interval: 2 }
dashboard: { port: 18090 }
`),
    );
    expect(p).toEqual({
      limits: { maxInflight: 10 },
      mqtt: { defaultIdleTimeout: 30, maxKeepAlive: 60 },
      logLevel: 'warn',
      auth: true,
      sysInterval: 2,
      http: true,
      restart: [],
    });
  });

  it('restart: listeners, storage, cluster, log format, what was advertised in CONNACK, maxPacketSize', () => {
    const p = planReload(
      base,
      next(`listeners: [{ protocol: tcp, port: 1999 }]
cluster: { redis: "redis://127.0.0.1:6379" }
logging: { format: json }
mqtt: { maxKeepAlive: 60, topicAliasMaximum: 5, receiveMaximum: 10, maximumQoS: 1 }
limits: { maxPacketSize: 1000, maxConnections: 10 }
`),
    );
    expect(p.restart).toEqual([
      'listeners',
      'cluster',
      'logging.format',
      'limits.maxPacketSize',
      'mqtt.topicAliasMaximum',
      'mqtt.receiveMaximum',
      'mqtt.maximumQoS',
    ]);
    expect(p.mqtt).toEqual({ maxKeepAlive: 60 });
    expect(p.limits).toEqual({ maxConnections: 10 });
    expect(planReload(base, next('storage: { type: memory, sync: false }')).restart).toEqual(['storage.type', 'storage.sync']);
  });

  it('a limit removed from the file goes back to its default', () => {
    const p = planReload(next('limits: { maxInflight: 10 }'), base);
    expect(p.limits).toEqual({ maxInflight: 100 });
  });
});

describe('BrokerServer.reload', () => {
  it('applies a new file without dropping a connected client; refuses an invalid one', async () => {
    const t = await startTestServer();
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${t.tcpPort}`, { reconnectPeriod: 0, clientId: 'stays' });
    let closed = false;
    c.on('close', () => (closed = true));
    const original = readFileSync(t.file, 'utf8');

    writeFileSync(
      t.file,
      original
        .replace('sys: { interval: 1 }', 'sys: { interval: 3 }')
        .replace('logging: { level: debug }', 'logging: { level: warn }')
        .replace('storage: { type: memory }', 'storage: { type: memory }\nmqtt: { defaultIdleTimeout: 120 }'),
    );
    const r = await t.server.reload();
    expect(r.ok).toBe(true);
    expect(r.applied).toEqual(expect.arrayContaining(['mqtt.defaultIdleTimeout', 'logging.level', 'sys.interval']));
    expect(t.server.broker.defaultIdleTimeout).toBe(120);
    expect(t.server.config.sys.interval).toBe(3);
    expect(t.server.log.level).toBe('warn');

    // A listener change is reported as needing a restart; the running listeners stay.
    writeFileSync(t.file, original.replace(`port: ${t.wsPort} }`, `port: ${t.wsPort + 1} }`));
    const r2 = await t.server.reload();
    expect(r2.restartNeeded).toContain('listeners');
    expect(t.server.broker.brokerListeners.map((l) => l.port)).toEqual([t.tcpPort, t.wsPort]);

    // An invalid file changes nothing.
    writeFileSync(t.file, 'sys: { interval: -1 }\n');
    const bad = await t.server.reload();
    expect(bad.ok).toBe(false);
    expect(bad.error).toMatch(/sys\.interval: must be >= 0, got -1/);
    expect(t.server.config.sys.interval).toBe(1);
    expect(t.logs.some((l) => l.level === 50 && /reload refused, the running configuration stays/.test(l.msg))).toBe(true);

    // The client never noticed.
    await c.publishAsync('still/here', 'yes', { qos: 1 });
    expect(closed).toBe(false);
    await c.endAsync();
  });

  it('moves the dashboard to a new port (MQTT clients unaffected)', async () => {
    const t = await startTestServer();
    const newPort = t.httpPort + 7;
    writeFileSync(t.file, readFileSync(t.file, 'utf8').replace(`dashboard: { port: ${t.httpPort} }`, `dashboard: { port: ${newPort} }`));
    const r = await t.server.reload();
    expect(r.applied).toContain('dashboard/metrics');
    expect(t.server.dashboardUrl).toBe(`http://127.0.0.1:${newPort}/`);
    expect((await fetch(`http://127.0.0.1:${newPort}/api/info`)).status).toBe(200);
    await expect(fetch(`${t.base}/api/info`)).rejects.toThrow();
  });
});
