// The browser bundle in headless Chromium against Mosquitto's WebSocket listener: the page
// imports the single-file ESM bundle, connects, subscribes, publishes and reports back.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type MosquittoPeer, startMosquitto } from '@iotwire/interop';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without types
import { bundle } from '../scripts/bundle.mjs';
import { MqttClient } from '../src/index.js';
import { until } from './helpers/fake-server.js';

let broker: MosquittoPeer;
let browser: Browser;
let http: Server;
let base = '';
let dir = '';
let inputs: string[] = [];

const PAGE = `<!doctype html><meta charset="utf-8"><title>mqtt</title>
<script type="module">
import { MqttClient, MqttClientError } from './mqtt-client.js';
const q = new URLSearchParams(location.search);
try {
  const c = new MqttClient({ url: q.get('broker'), protocolVersion: Number(q.get('v')) });
  const events = [];
  c.on('connected', (e) => events.push('connected:' + e.statusCode));
  const r = await c.connect();
  const got = [];
  c.on('messageIn', (m) => got.push(m.topic + '=' + Array.from(m.payload).join(',') + '@' + m.qos + (m.userProperties.length ? '+' + m.userProperties[0].join(':') : '')));
  await c.subscribe(q.get('topic') + '/#', { qos: 2 });
  await c.publish(q.get('topic') + '/a', 'hi', { qos: 1, ...(q.get('v') === '5' ? { properties: { userProperties: [['from', 'browser']] } } : {}) });
  await c.publish(q.get('topic') + '/b', new Uint8Array([1, 2, 3]), { qos: 2 });
  await c.publish(q.get('topic') + '/c', 'x');
  while (got.length < 3) await new Promise((res) => setTimeout(res, 10));
  let refused = '';
  try { await c.publish('bad/+', 'x'); } catch (e) { refused = e instanceof MqttClientError ? e.code : String(e); }
  await c.disconnect();
  window.__result = { ok: true, got: got.sort(), events, sessionPresent: r.sessionPresent, refused, hasBuffer: typeof globalThis.Buffer };
} catch (e) {
  window.__result = { ok: false, error: String((e && e.stack) || e) };
}
</script>`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'iotwire-bundle-'));
  ({ inputs } = await bundle(join(dir, 'mqtt-client.js'), { minify: true }));
  const js = readFileSync(join(dir, 'mqtt-client.js'));
  http = createServer((req, res) => {
    if (req.url?.startsWith('/mqtt-client.js')) {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(js);
    } else {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(PAGE);
    }
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  broker = await startMosquitto({ websockets: true });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await broker?.stop();
  await new Promise<void>((r) => (http ? http.close(() => r()) : r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('browser bundle', () => {
  it('contains no Node-only module', () => {
    expect(inputs.some((f) => f.includes('src/browser.ts'))).toBe(true);
    expect(inputs.filter((f) => /node:|transport\/node|session-file|node_modules\/ws\//.test(f))).toEqual([]);
  });

  it.each([4, 5] as const)('MQTT %s over WebSocket in Chromium: connect, subscribe, publish, receive', async (v) => {
    const topic = `browser/${v}/${Date.now()}`;
    // A Node client watches the same broker: what the page publishes is real MQTT.
    const watcher = new MqttClient({ url: `mqtt://127.0.0.1:${broker.port}`, protocolVersion: v });
    await watcher.connect();
    const seen: string[] = [];
    watcher.on('messageIn', (m) => seen.push(m.topic.slice(topic.length + 1)));
    await watcher.subscribe(`${topic}/#`, { qos: 1 });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const broker_ = encodeURIComponent(`ws://127.0.0.1:${broker.wsPort}/mqtt`);
    await page.goto(`${base}/?broker=${broker_}&v=${v}&topic=${encodeURIComponent(topic)}`);
    await page.waitForFunction(() => (globalThis as unknown as { __result?: unknown }).__result !== undefined, undefined, {
      timeout: 30_000,
    });
    const result = await page.evaluate(() => (globalThis as unknown as { __result: unknown }).__result);
    await page.close();
    expect(errors).toEqual([]);
    expect(result).toEqual({
      ok: true,
      got: [`${topic}/a=104,105@1${v === 5 ? '+from:browser' : ''}`, `${topic}/b=1,2,3@2`, `${topic}/c=120@0`],
      events: ['connected:0'],
      sessionPresent: false,
      refused: 'ERR_TOPIC_NAME_INVALID',
      hasBuffer: 'undefined', // the bundle keeps its Buffer to itself
    });
    await until(() => seen.length === 3);
    expect(seen.sort()).toEqual(['a', 'b', 'c']);
    await watcher.disconnect();
  });
});
