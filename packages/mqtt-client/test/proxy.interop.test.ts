// Proxies (the toolkit's Firewall): every transport through real HTTP CONNECT (tinyproxy) and
// SOCKS4/SOCKS5 (Dante) proxies to a real Mosquitto; SOCKS4a through a minimal in-test
// acceptor (no Debian peer speaks 4a) that checks the request bytes of the SOCKS4a spec.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, type MosquittoPeer, type ProxyPeer, startDante, startMosquitto, startTinyproxy } from '@iotwire/interop';
import { createTestPki, type TestPki } from '@iotwire/tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectionStatusEvent, MqttClient, type MqttClientError, type MqttClientOptions } from '../src/index.js';
import { until } from './helpers/fake-server.js';

let broker: MosquittoPeer;
let wssPort: number;
let pki: TestPki;
let certDir: string;
let http: ProxyPeer;
let httpAuth: ProxyPeer;
let socks: ProxyPeer;
let socksAuth: ProxyPeer;
const clients: MqttClient[] = [];
const SOCKS_USER = { user: 'iotwire-socks-test', password: 'pr0xy-Secret' };

beforeAll(async () => {
  pki = createTestPki({ server: { altNames: ['localhost'] } });
  certDir = mkdtempSync(join(tmpdir(), 'iotwire-proxy-certs-'));
  const w = (name: string, text: string) => {
    const f = join(certDir, name);
    writeFileSync(f, text, { mode: 0o644 });
    return f;
  };
  wssPort = await freePort('tcp');
  [broker, http, httpAuth, socks, socksAuth] = await Promise.all([
    startMosquitto({
      websockets: true,
      tls: { cert: pki.server.cert, key: pki.server.key },
      extraConfig: [
        `listener ${wssPort} 127.0.0.1`,
        'protocol websockets',
        `certfile ${w('server.crt', pki.server.cert)}`,
        `keyfile ${w('server.key', pki.server.key)}`,
      ],
    }),
    startTinyproxy(),
    startTinyproxy({ auth: { user: 'alice', password: 's3cret' } }),
    startDante(),
    startDante({ users: [SOCKS_USER] }),
  ]);
});
afterAll(async () => {
  for (const c of clients) c.interrupt();
  await Promise.all([broker?.stop(), http?.stop(), httpAuth?.stop(), socks?.stop(), socksAuth?.stop()]);
  rmSync(certDir, { recursive: true, force: true });
});

const ENV_KEYS = ['http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY', 'no_proxy', 'NO_PROXY'];
const savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const k of ENV_KEYS) {
    if (savedEnv[k] === undefined) delete process.env[k];
    else process.env[k] = savedEnv[k];
  }
});

function make(o: MqttClientOptions): MqttClient {
  const c = new MqttClient({ connectTimeoutMs: 15_000, ...o });
  clients.push(c);
  return c;
}
let seq = 0;
const uniq = (p: string) => `${p}/${process.pid}-${Date.now()}-${seq++}`;

/** Publishes to itself at QoS 1 and waits for the message: the tunnel carries MQTT both ways. */
async function roundTrip(c: MqttClient): Promise<void> {
  const topic = uniq('proxy');
  const got: string[] = [];
  c.on('messageIn', (m) => got.push(m.text));
  await c.subscribe(topic, { qos: 1 });
  await c.publish(topic, 'through the tunnel', { qos: 1 });
  await until(() => got.length === 1, 10_000, 'message back through the proxy');
  expect(got).toEqual(['through the tunnel']);
}

function statuses(c: MqttClient): ConnectionStatusEvent[] {
  const s: ConnectionStatusEvent[] = [];
  c.on('connectionStatus', (e) => s.push(e));
  return s;
}

async function expectProxyError(p: Promise<unknown>): Promise<MqttClientError> {
  const err = (await p.then(
    () => {
      throw new Error('connect() should have failed');
    },
    (e: unknown) => e,
  )) as MqttClientError;
  expect(err.code).toBe('ERR_PROXY');
  expect(err.errorCode).toBe(118);
  return err;
}

describe('HTTP CONNECT (tinyproxy)', () => {
  it('carries mqtt:// and reports the firewall milestones in order', async () => {
    const c = make({ url: `mqtt://127.0.0.1:${broker.port}`, proxy: { type: 'http', host: http.host, port: http.port } });
    const st = statuses(c);
    const logs: string[] = [];
    c.on('log', (l) => logs.push(l.message));
    await c.connect();
    await roundTrip(c);
    // The proxy saw the CONNECT for the broker: the bytes really went through it.
    await until(() => http.log().includes(`CONNECT 127.0.0.1:${broker.port} `), 5000, 'tinyproxy log line');
    await c.disconnect();
    await until(() => st.some((e) => e.connectionEvent === 'firewallDisconnected'));
    expect(st.map((e) => e.connectionEvent)).toEqual([
      'firewallConnected',
      'remoteHostConnected',
      'mqttConnected',
      'remoteHostDisconnected',
      'firewallDisconnected',
    ]);
    expect(st[0]!.description).toContain(`http proxy 127.0.0.1:${http.port}`);
    expect(logs.some((l) => l.includes(`through http proxy 127.0.0.1:${http.port}`))).toBe(true);
  });

  it('carries ws:// (the upgrade runs inside the tunnel)', async () => {
    const c = make({ url: `ws://127.0.0.1:${broker.wsPort}/mqtt`, protocolVersion: 5, proxy: `http://127.0.0.1:${http.port}` });
    await c.connect();
    await roundTrip(c);
    await until(() => http.log().includes(`CONNECT 127.0.0.1:${broker.wsPort} `), 5000, 'tinyproxy log line');
    await c.disconnect();
  });

  it('carries mqtts:// with SNI and the certificate check against the broker name', async () => {
    const c = make({
      url: `mqtts://localhost:${broker.tlsPort}`,
      tls: { ca: pki.ca.cert },
      proxy: { type: 'http', host: '127.0.0.1', port: http.port },
    });
    const st = statuses(c);
    await c.connect();
    expect(c.tlsInfo?.protocol).toMatch(/^TLSv1\.[23]$/);
    expect(c.serverCertificate?.status).toBe('OK');
    await roundTrip(c);
    await until(() => http.log().includes(`CONNECT localhost:${broker.tlsPort} `), 5000, 'tinyproxy log line');
    expect(st.map((e) => e.connectionEvent).slice(0, 3)).toEqual(['firewallConnected', 'remoteHostConnected', 'sslHandshakeComplete']);
    await c.disconnect();
  });

  it('checks the certificate against the broker name, not the proxy name', async () => {
    // The broker's certificate names only "localhost". Reaching the broker as 127.0.0.1
    // through a proxy called "localhost" must fail: the check is on the broker's name.
    const c = make({
      url: `mqtts://127.0.0.1:${broker.tlsPort}`,
      tls: { ca: pki.ca.cert },
      proxy: { type: 'http', host: 'localhost', port: http.port },
    });
    const err = (await c.connect().catch((e: unknown) => e)) as MqttClientError;
    expect(err.code).toBe('ERR_TLS_CERT_REJECTED');
    expect(c.serverCertificate?.status).not.toBe('OK');
  });

  it('Basic proxy authentication: accepted with the right credentials', async () => {
    const c = make({
      url: `mqtt://127.0.0.1:${broker.port}`,
      proxy: { type: 'http', host: '127.0.0.1', port: httpAuth.port, user: 'alice', password: 's3cret' },
    });
    await c.connect();
    await roundTrip(c);
    await c.disconnect();
  });

  it('Basic proxy authentication: refused (407) with wrong or missing credentials, typed', async () => {
    const wrong = make({
      url: `mqtt://127.0.0.1:${broker.port}`,
      proxy: { type: 'http', host: '127.0.0.1', port: httpAuth.port, user: 'alice', password: 'nope' },
    });
    const e1 = await expectProxyError(wrong.connect());
    // tinyproxy answers wrong credentials with 401 (missing ones with the standard 407).
    expect(e1.statusCode).toBe(401);
    expect(e1.message).toContain('credentials refused');
    const none = make({ url: `mqtt://127.0.0.1:${broker.port}`, proxy: { type: 'http', host: '127.0.0.1', port: httpAuth.port } });
    const e2 = await expectProxyError(none.connect());
    expect(e2.statusCode).toBe(407);
    expect(e2.message).toContain('credentials required');
    expect(wrong.state).toBe('disconnected');
  });
});

describe('SOCKS (Dante)', () => {
  it('SOCKS5 without authentication carries mqtt://', async () => {
    const c = make({ url: `mqtt://127.0.0.1:${broker.port}`, proxy: { type: 'socks5', host: '127.0.0.1', port: socks.port } });
    await c.connect();
    await roundTrip(c);
    await until(() => socks.log().includes(`127.0.0.1.${broker.port}`), 5000, 'danted log line');
    await c.disconnect();
  });

  it('SOCKS5 with username/password (RFC 1929): accepted, and refused with a wrong password', async () => {
    const ok = make({
      url: `mqtt://127.0.0.1:${broker.port}`,
      proxy: { type: 'socks5', host: '127.0.0.1', port: socksAuth.port, ...SOCKS_USER },
    });
    await ok.connect();
    await roundTrip(ok);
    await ok.disconnect();
    const bad = make({
      url: `mqtt://127.0.0.1:${broker.port}`,
      proxy: { type: 'socks5', host: '127.0.0.1', port: socksAuth.port, user: SOCKS_USER.user, password: 'wrong' },
    });
    const err = await expectProxyError(bad.connect());
    expect(err.message).toMatch(/auth/i);
  });

  it('SOCKS4 carries mqtt:// (the broker name resolved locally)', async () => {
    const c = make({ url: `mqtt://localhost:${broker.port}`, proxy: { type: 'socks4', host: '127.0.0.1', port: socks.port } });
    await c.connect();
    await roundTrip(c);
    await until(() => socks.log().includes(`127.0.0.1.${broker.port}`), 5000, 'danted log line');
    await c.disconnect();
  });

  it('SOCKS5 carries wss:// (TLS over the tunnel, broker name resolved by the proxy)', async () => {
    const c = make({
      url: `wss://localhost:${wssPort}/mqtt`,
      protocolVersion: 5,
      tls: { ca: pki.ca.cert },
      proxy: `socks5h://127.0.0.1:${socks.port}`,
    });
    const st = statuses(c);
    await c.connect();
    expect(c.serverCertificate?.status).toBe('OK');
    await roundTrip(c);
    await until(() => socks.log().includes(`.${wssPort}`), 5000, 'danted log line');
    expect(st[0]?.connectionEvent).toBe('firewallConnected');
    await c.disconnect();
  });
});

describe('SOCKS4a (in-test acceptor)', () => {
  it('sends the SOCKS4a request bytes and lets the proxy resolve a name only it knows', async () => {
    const proxyOnlyName = 'mqtt-broker.proxy-only.test';
    const requests: Buffer[] = [];
    const server = net.createServer((client) => {
      let buf = Buffer.alloc(0);
      const onData = (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        // VN CD DSTPORT(2) DSTIP(4) USERID NUL HOST NUL
        const nul1 = buf.indexOf(0, 8);
        const nul2 = nul1 < 0 ? -1 : buf.indexOf(0, nul1 + 1);
        if (nul2 < 0) return;
        client.off('data', onData);
        requests.push(buf.subarray(0, nul2 + 1));
        const upstream = net.connect(broker.port, '127.0.0.1', () => {
          client.write(Buffer.from([0x00, 0x5a, 0, 0, 0, 0, 0, 0]));
          const rest = buf.subarray(nul2 + 1);
          if (rest.length) upstream.write(rest);
          client.pipe(upstream).pipe(client);
        });
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
      };
      client.on('data', onData);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const c = make({
        url: `mqtt://${proxyOnlyName}:${broker.port}`,
        proxy: { type: 'socks4a', host: '127.0.0.1', port, user: 'dev1' },
      });
      await c.connect();
      await roundTrip(c);
      await c.disconnect();
      const portBytes = [broker.port >> 8, broker.port & 0xff];
      expect([...requests[0]!]).toEqual([
        0x04, // VN
        0x01, // CD = CONNECT
        ...portBytes,
        0,
        0,
        0,
        1, // 0.0.0.x with x != 0: "the name follows"
        ...Buffer.from('dev1'),
        0,
        ...Buffer.from(proxyOnlyName),
        0,
      ]);
    } finally {
      server.close();
    }
  });
});

describe('failures, reconnect and exceptions', () => {
  it('an unreachable proxy fails with ERR_PROXY (118), with the system error as cause', async () => {
    const dead = await freePort('tcp');
    const c = make({ url: `mqtt://127.0.0.1:${broker.port}`, proxy: { type: 'socks5', host: '127.0.0.1', port: dead } });
    const err = await expectProxyError(c.connect());
    expect((err.cause as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it('reconnect retries through the proxy with backoff after the proxy goes away', async () => {
    const proxy = await startTinyproxy();
    const port = proxy.port;
    let again: ProxyPeer | undefined;
    try {
      const c = make({
        url: `mqtt://127.0.0.1:${broker.port}`,
        proxy: { type: 'http', host: '127.0.0.1', port },
        reconnect: { minDelayMs: 50, maxDelayMs: 200, jitter: 0 },
      });
      const failures: string[] = [];
      c.on('connected', (e) => {
        if (e.error) failures.push(e.error.code);
      });
      let connects = 0;
      c.on('connected', (e) => {
        if (!e.error) connects++;
      });
      await c.connect();
      await proxy.stop();
      await until(() => failures.length >= 2, 15_000, 'failed reconnect attempts');
      expect(new Set(failures)).toEqual(new Set(['ERR_PROXY']));
      again = await startTinyproxy({ port });
      await until(() => connects === 2, 15_000, 'reconnect through the restarted proxy');
      await roundTrip(c);
      await c.disconnect();
    } finally {
      await proxy.stop();
      await again?.stop();
    }
  });

  it("proxy: 'auto' uses http_proxy / all_proxy and honours no_proxy", async () => {
    const dead = await freePort('tcp');
    process.env.http_proxy = `http://127.0.0.1:${dead}`;
    process.env.no_proxy = 'example.com, 127.0.0.1';
    const direct = make({ url: `mqtt://127.0.0.1:${broker.port}`, proxy: 'auto' });
    await direct.connect(); // bypassed: the dead proxy was never used
    await direct.disconnect();

    process.env.no_proxy = 'example.com';
    await expectProxyError(make({ url: `mqtt://127.0.0.1:${broker.port}`, proxy: 'auto' }).connect());

    delete process.env.http_proxy;
    delete process.env.no_proxy;
    process.env.ALL_PROXY = `socks5://${SOCKS_USER.user}:${SOCKS_USER.password}@127.0.0.1:${socksAuth.port}`;
    const viaAll = make({ url: `mqtt://127.0.0.1:${broker.port}`, proxy: 'auto' });
    const st = statuses(viaAll);
    await viaAll.connect();
    expect(st[0]?.connectionEvent).toBe('firewallConnected');
    await roundTrip(viaAll);
    await viaAll.disconnect();
  });

  it('https_proxy applies to mqtts:// (not http_proxy)', async () => {
    const dead = await freePort('tcp');
    process.env.http_proxy = `http://127.0.0.1:${dead}`;
    process.env.https_proxy = `http://127.0.0.1:${http.port}`;
    const c = make({ url: `mqtts://localhost:${broker.tlsPort}`, tls: { ca: pki.ca.cert }, proxy: 'auto' });
    await c.connect();
    await c.disconnect();
    await until(() => http.log().includes(`CONNECT localhost:${broker.tlsPort} `), 5000, 'tinyproxy log line');
  });

  it('proxyExceptions (ProxyExceptionsList) bypasses an explicit proxy', async () => {
    const dead = await freePort('tcp');
    const c = make({
      url: `mqtt://127.0.0.1:${broker.port}`,
      proxy: { type: 'http', host: '127.0.0.1', port: dead },
      proxyExceptions: 'broker.example;127.0.0.1',
    });
    const st = statuses(c);
    await c.connect();
    expect(st.some((e) => e.connectionEvent === 'firewallConnected')).toBe(false);
    await c.disconnect();
  });

  it('connectTimeoutMs covers the proxy handshake', async () => {
    // A "proxy" that accepts and never answers.
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      const c = make({ url: `mqtt://127.0.0.1:${broker.port}`, proxy: { type: 'http', host: '127.0.0.1', port }, connectTimeoutMs: 300 });
      const err = (await c.connect().catch((e: unknown) => e)) as MqttClientError;
      expect(err.code).toBe('ERR_TIMEOUT');
    } finally {
      silent.close();
    }
  });
});
