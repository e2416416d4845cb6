// The dashboard's HTTP API, its guards (token, Host, same-origin actions), the change stream,
// the dashboard's own MQTT identity, static files and /metrics, on a server run in-process.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DASHBOARD_USER } from '../src/index.js';
import { ports, startTestServer, testYaml } from './helpers/server.js';

const clients: MqttClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true).catch(() => {});
});

async function connect(url: string, opts: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 5000, protocolVersion: 5, ...opts });
  clients.push(c);
  return c;
}

const ACTION = { 'x-iotwire-dashboard': '1' };

/** JSON from the API under test. */
// biome-ignore lint/suspicious/noExplicitAny: shapes are asserted by the tests
async function getJson(url: string): Promise<any> {
  return (await fetch(url)).json();
}

/** A raw request (fetch will not send a forged Host header). */
function raw(port: number, path: string, headers: Record<string, string>, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('dashboard API', () => {
  it('lists clients, sessions, subscriptions and retained messages; disconnects a client; deletes a retained message', async () => {
    const t = await startTestServer();
    const info = await getJson(`${t.base}/api/info`);
    expect(info).toMatchObject({
      sysInterval: 1,
      sysPrefix: '$SYS/broker',
      listeners: [
        { protocol: 'tcp', host: '127.0.0.1', port: t.tcpPort, path: null },
        { protocol: 'ws', host: '127.0.0.1', port: t.wsPort, path: '/mqtt' },
      ],
      mqtt: {
        url: null,
        protocol: 'ws',
        host: '127.0.0.1',
        port: t.wsPort,
        path: '/mqtt',
        username: DASHBOARD_USER,
        clientIdPrefix: `${DASHBOARD_USER}-`,
      },
    });
    expect(info.mqtt.password).toBe(t.server.access.dashboardSecret);

    const device = await connect(`mqtt://127.0.0.1:${t.tcpPort}`, { clientId: 'device-1', username: 'alice', keepalive: 30 });
    await device.subscribeAsync(['cmd/device-1/#', '$share/g/jobs'], { qos: 1 });
    await device.publishAsync('status/device-1', 'online', { qos: 1, retain: true });
    await device.publishAsync('blob/device-1', Buffer.from([0, 1, 2, 255]), { qos: 1, retain: true });
    const keeper = await connect(`mqtt://127.0.0.1:${t.tcpPort}`, { clientId: 'offline-1', protocolVersion: 4, clean: false });
    await keeper.subscribeAsync('x/#', { qos: 1 });
    await keeper.endAsync();

    const clientsList = await getJson(`${t.base}/api/clients`);
    expect(clientsList.total).toBe(1);
    expect(clientsList.items[0]).toMatchObject({
      clientId: 'device-1',
      userName: 'alice',
      protocol: 'tcp',
      protocolVersion: 5,
      keepAlive: 30,
      remoteHost: '127.0.0.1',
      localPort: t.tcpPort,
      dashboard: false,
      certificate: null,
    });
    expect(clientsList.items[0].connectedAt).toBeGreaterThan(Date.now() - 60_000);
    expect((await getJson(`${t.base}/api/clients?q=nobody`)).total).toBe(0);

    const sessions = await getJson(`${t.base}/api/sessions`);
    expect(sessions.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ clientId: 'device-1', connected: true, subscriptions: 2 }),
        expect.objectContaining({ clientId: 'offline-1', connected: false, subscriptions: 1 }),
      ]),
    );
    const subs = await getJson(`${t.base}/api/subscriptions`);
    expect(subs.items).toEqual(
      expect.arrayContaining([
        { clientId: 'device-1', topicFilter: 'cmd/device-1/#', qos: 1 },
        { clientId: 'device-1', topicFilter: '$share/g/jobs', qos: 1 },
        { clientId: 'offline-1', topicFilter: 'x/#', qos: 1 },
      ]),
    );
    const retained = await getJson(`${t.base}/api/retained?q=device-1`);
    expect(retained.items).toEqual([
      { topic: 'blob/device-1', qos: 1, size: 4, payload: { text: '000102ff', encoding: 'hex', truncated: false } },
      { topic: 'status/device-1', qos: 1, size: 6, payload: { text: 'online', encoding: 'utf8', truncated: false } },
    ]);

    // Delete a retained message.
    const del = await fetch(`${t.base}/api/retained?topic=${encodeURIComponent('status/device-1')}`, { method: 'DELETE', headers: ACTION });
    expect(del.status).toBe(200);
    expect(t.server.broker.messages.has('status/device-1')).toBe(false);
    expect((await fetch(`${t.base}/api/retained?topic=status/device-1`, { method: 'DELETE', headers: ACTION })).status).toBe(404);
    expect((await fetch(`${t.base}/api/retained`, { method: 'DELETE', headers: ACTION })).status).toBe(400);

    // Disconnect the client: 5.0 DISCONNECT 0x98 (administrative action).
    const gone = new Promise<number | undefined>((resolve) => device.once('disconnect', (p) => resolve(p.reasonCode)));
    const id = clientsList.items[0].connectionId;
    const res = await fetch(`${t.base}/api/clients/${id}/disconnect`, { method: 'POST', headers: ACTION });
    expect(res.status).toBe(200);
    expect(await gone).toBe(0x98);
    expect((await getJson(`${t.base}/api/clients`)).total).toBe(0);
    expect((await fetch(`${t.base}/api/clients/${id}/disconnect`, { method: 'POST', headers: ACTION })).status).toBe(404);
    expect((await fetch(`${t.base}/api/nothing`)).status).toBe(404);
    expect((await fetch(`${t.base}/api/clients`, { method: 'PUT', headers: ACTION })).status).toBe(405);
  });

  it('pushes change notifications (SSE) when clients come and go and subscribe', async () => {
    const t = await startTestServer();
    const res = await fetch(`${t.base}/api/events`);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    const until = async (re: RegExp) => {
      while (!re.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended: ${text}`);
        text += Buffer.from(value).toString();
      }
    };
    await until(/retry: 2000/);
    const c = await connect(`mqtt://127.0.0.1:${t.tcpPort}`, { clientId: 'sse-1' });
    await until(/event: change\ndata: \[[^\]]*"clients"/);
    await c.subscribeAsync('a/b');
    await until(/event: change\ndata: \[[^\]]*"subscriptions"/);
    await reader.cancel();
  });

  it('refuses actions without the dashboard header or from another origin, and forged Host headers', async () => {
    const t = await startTestServer();
    const c = await connect(`mqtt://127.0.0.1:${t.tcpPort}`, { clientId: 'victim' });
    c.on('error', () => {});
    const id = [...t.server.broker.connections.keys()][0] as string;
    // A cross-site form post has no custom header.
    expect((await fetch(`${t.base}/api/clients/${id}/disconnect`, { method: 'POST' })).status).toBe(403);
    const cross = await raw(
      t.httpPort,
      `/api/clients/${id}/disconnect`,
      { ...ACTION, host: `127.0.0.1:${t.httpPort}`, origin: 'http://evil.example' },
      'POST',
    );
    expect(cross.status).toBe(403);
    // DNS rebinding: the attacker's name in Host.
    const rebound = await raw(t.httpPort, '/api/info', { host: `evil.example:${t.httpPort}` });
    expect(rebound.status).toBe(403);
    expect(rebound.body).toContain('dashboard.allowedHosts');
    expect((await raw(t.httpPort, '/', { host: 'evil.example' })).status).toBe(403);
    for (const host of [`localhost:${t.httpPort}`, `127.0.0.1:${t.httpPort}`, `[::1]:${t.httpPort}`]) {
      expect((await raw(t.httpPort, '/api/info', { host })).status, host).toBe(200);
    }
    expect(t.server.broker.connections.size).toBe(1);
    const same = await raw(
      t.httpPort,
      `/api/clients/${id}/disconnect`,
      { ...ACTION, host: `127.0.0.1:${t.httpPort}`, origin: `http://127.0.0.1:${t.httpPort}` },
      'POST',
    );
    expect(same.status).toBe(200);
  });

  it('with a token: the API needs it (header, or ?token= for the event stream); allowedHosts admits a name', async () => {
    const p = await ports();
    const token = 'an-operator-token-0123456789';
    const t = await startTestServer(
      testYaml(p).replace(
        `dashboard: { port: ${p.httpPort} }`,
        `dashboard: { port: ${p.httpPort}, token: ${token}, allowedHosts: [broker.lan] }`,
      ),
      p,
    );
    expect((await fetch(`${t.base}/api/info`)).status).toBe(401);
    expect((await fetch(`${t.base}/api/info`, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status).toBe(401);
    expect((await fetch(`${t.base}/api/info?token=${token}`)).status).toBe(401); // query only for the event stream
    expect((await fetch(`${t.base}/api/info`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const ev = await fetch(`${t.base}/api/events?token=${token}`);
    expect(ev.status).toBe(200);
    await ev.body?.cancel();
    // The page itself needs no token (it asks for one).
    expect((await fetch(`${t.base}/`)).status).toBe(200);
    expect((await raw(p.httpPort, '/api/info', { host: 'broker.lan', authorization: `Bearer ${token}` })).status).toBe(200);
    expect((await raw(p.httpPort, '/api/info', { host: 'other.lan', authorization: `Bearer ${token}` })).status).toBe(403);
  });

  it('serves the page with a strict CSP and its assets, nothing outside them', async () => {
    const t = await startTestServer();
    const page = await fetch(`${t.base}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script type="module" src="/assets/app.js">');
    for (const a of ['app.js', 'chart.js', 'style.css', 'favicon.svg']) expect((await fetch(`${t.base}/assets/${a}`)).status, a).toBe(200);
    expect((await raw(t.httpPort, '/assets/../package.json', { host: '127.0.0.1' })).status).toBe(404);
    expect((await raw(t.httpPort, '/assets/%2e%2e/package.json', { host: '127.0.0.1' })).status).toBe(404);
    expect((await fetch(`${t.base}/assets/nope.js`)).status).toBe(404);
  });
});

describe("the dashboard's MQTT identity", () => {
  it('reads $SYS with the per-process secret, may not subscribe elsewhere; its client id prefix is reserved', async () => {
    const t = await startTestServer();
    const secret = t.server.access.dashboardSecret;
    const dash = await connect(`ws://127.0.0.1:${t.wsPort}/mqtt`, {
      clientId: `${DASHBOARD_USER}-x1`,
      username: DASHBOARD_USER,
      password: secret,
    });
    expect((await dash.subscribeAsync('$SYS/broker/#', { qos: 0 }))[0]?.qos).toBe(0);
    await expect(dash.subscribeAsync('private/#', { qos: 0 })).rejects.toThrow(/Not authorized/);
    const got = new Promise<string>((resolve) =>
      dash.on('message', (topic, payload) => topic === '$SYS/broker/uptime' && resolve(payload.toString())),
    );
    expect(await got).toMatch(/^\d+ seconds$/);
    const listed = await getJson(`${t.base}/api/clients`);
    expect(listed.items.find((c: { clientId: string }) => c.clientId === `${DASHBOARD_USER}-x1`)?.dashboard).toBe(true);
    // Without the secret the prefix is refused (5.0: 0x87), anonymous access or not.
    await expect(
      connect(`mqtt://127.0.0.1:${t.tcpPort}`, { clientId: `${DASHBOARD_USER}-x2`, username: DASHBOARD_USER, password: 'guess' }),
    ).rejects.toThrow(/Not authorized/);
    await expect(connect(`mqtt://127.0.0.1:${t.tcpPort}`, { clientId: `${DASHBOARD_USER}-x3` })).rejects.toThrow(/Not authorized/);
    // Other user names and ids are not the dashboard.
    await connect(`mqtt://127.0.0.1:${t.tcpPort}`, { clientId: 'x4', username: DASHBOARD_USER, password: secret });
    await vi.waitFor(async () => {
      const l = await getJson(`${t.base}/api/clients?q=x4`);
      expect(l.items[0]?.dashboard).toBe(false);
    });
  });

  it('with an ACL file: still reads $SYS (the ACL does not list it), may not publish', async () => {
    const p = await ports();
    const dir = mkdtempSync(join(tmpdir(), 'iotwire-acl-'));
    writeFileSync(join(dir, 'acl'), 'topic readwrite public/#\n');
    const t = await startTestServer(testYaml(p, `auth: { aclFile: ${join(dir, 'acl')} }\n`), p);
    const dash = await connect(`ws://127.0.0.1:${t.wsPort}/mqtt`, {
      clientId: `${DASHBOARD_USER}-a1`,
      username: DASHBOARD_USER,
      password: t.server.access.dashboardSecret,
    });
    await dash.subscribeAsync('$SYS/broker/#', { qos: 0 });
    const got = new Promise<string>((resolve) =>
      dash.on('message', (topic, payload) => topic === '$SYS/broker/uptime' && resolve(payload.toString())),
    );
    expect(await got).toMatch(/seconds$/);
    await expect(dash.publishAsync('public/x', 'no', { qos: 1 })).rejects.toThrow(/Not authorized/);
    // An anonymous client gets what the ACL gives it, and no $SYS.
    const anon = await connect(`mqtt://127.0.0.1:${t.tcpPort}`, { clientId: 'anon' });
    await expect(anon.subscribeAsync('$SYS/#')).rejects.toThrow(/Not authorized/);
    expect((await anon.subscribeAsync('public/#'))[0]?.qos).toBe(0);
  });
});

describe('/metrics', () => {
  it('is served on the dashboard port by default', async () => {
    const t = await startTestServer();
    await connect(`mqtt://127.0.0.1:${t.tcpPort}`);
    const res = await fetch(`${t.base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text).toContain('iotwire_mqtt_connections{protocol="tcp"} 1');
    expect(text).toContain('# TYPE iotwire_mqtt_received_bytes_total counter');
    expect((await fetch(`${t.base}/metrics`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${t.base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('on its own port and path, with a token and constant labels', async () => {
    const p = await ports();
    const mPort = p.httpPort + 1 === p.tcpPort || p.httpPort + 1 === p.wsPort ? p.httpPort + 2 : p.httpPort + 1;
    const token = 'scrape-token-0123456789';
    const t = await startTestServer(
      testYaml(p).replace(
        'dashboard:',
        `metrics: { host: 127.0.0.1, port: ${mPort}, path: /prom, token: ${token}, labels: { node: n1 } }\ndashboard:`,
      ),
      p,
    );
    expect(t.server.metricsUrl).toBe(`http://127.0.0.1:${mPort}/prom`);
    expect((await fetch(`${t.base}/metrics`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${mPort}/prom`)).status).toBe(401);
    const ok = await fetch(`http://127.0.0.1:${mPort}/prom`, { headers: { authorization: `Bearer ${token}` } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('iotwire_mqtt_uptime_seconds{node="n1"}');
  });
});
