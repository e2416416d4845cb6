// The dashboard end to end in headless Chromium (Debian `chromium`, driven by playwright-core):
// the built `iotwire-broker` serves the page; real MQTT clients (MQTT.js, mosquitto_sub) come
// and go; the page shows them, its rate chart moves with a publish burst, and its actions
// (disconnect a client, delete a retained message) act on the broker.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, requireBinary } from '@iotwire/interop';
import mqtt from 'mqtt';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnPeer, startBin } from './helpers/bin.js';

/** Where the test leaves its screenshot (copy a good one to docs/dashboard.png). */
export const SCREENSHOT = join(tmpdir(), 'iotwire-dashboard.png');

let context: BrowserContext | undefined;
let profile = '';
afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('dashboard in headless Chromium', () => {
  it('shows a client as it connects, the rates of a burst, and disconnects a client / deletes a retained message', {
    timeout: 120_000,
  }, async () => {
    const tcp = await freePort('tcp');
    const ws = await freePort('tcp');
    const http = await freePort('tcp');
    const dir = mkdtempSync(join(tmpdir(), 'iotwire-dash-'));
    const file = join(dir, 'broker.yaml');
    writeFileSync(
      file,
      `listeners:
  - { protocol: tcp, host: 127.0.0.1, port: ${tcp} }
  - { protocol: ws, host: 127.0.0.1, port: ${ws} }
storage: { type: memory }
sys: { interval: 1 }
dashboard: { port: ${http} }
logging: { format: json }
`,
    );
    const b = startBin(['-c', file]);
    await b.waitLog(/^started$/);

    profile = mkdtempSync(join(tmpdir(), 'iotwire-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: requireBinary('chromium'),
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1280, height: 1000 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    await page.goto(`http://127.0.0.1:${http}/`);
    // The page's own MQTT-over-WebSocket connection to $SYS is up.
    await page
      .getByTestId('live')
      .filter({ hasText: `live · ws://127.0.0.1:${ws}/mqtt` })
      .waitFor({ timeout: 20_000 });
    await page
      .locator('#version')
      .filter({ hasText: /^v\d+\.\d+\.\d+$/ })
      .waitFor();

    // A real client connects: it appears in the clients list (pushed, no reload).
    const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${tcp}`, {
      clientId: 'e2e-device',
      username: 'sensor',
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    const row = page.locator('[data-testid="clients"] tr[data-client-id="e2e-device"]');
    await row.waitFor({ timeout: 15_000 });
    await expect(row.textContent()).resolves.toContain('sensor');
    await expect(row.textContent()).resolves.toContain('tcp · MQTT 5.0');
    // A second, persistent subscriber (Debian mosquitto_sub) so messages also go out.
    const watcher = spawnPeer('mosquitto_sub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(tcp),
      '-i',
      'e2e-watcher',
      '-c',
      '-q',
      '1',
      '-t',
      'burst/#',
    ]);
    await page.locator('[data-testid="clients"] tr[data-client-id="e2e-watcher"]').waitFor({ timeout: 15_000 });
    for (let i = 1; i <= 3; i++) await device.publishAsync(`site/room${i}/temperature`, `2${i}.5`, { qos: 1, retain: true });
    await page.locator('[data-testid="retained"] tr[data-topic="site/room1/temperature"]').waitFor({ timeout: 15_000 });

    // A burst over a few $SYS rounds: the chart gets points and its maximum rises above 0.
    const chart = page.getByTestId('chart-messages');
    const until = Date.now() + 3500;
    let sent = 0;
    while (Date.now() < until) {
      for (let i = 0; i < 100; i++) device.publish(`burst/${sent++ % 10}`, 'x'.repeat(64), { qos: 0 });
      await new Promise((r) => setTimeout(r, 50));
    }
    await device.publishAsync('burst/end', 'end', { qos: 1 });
    await expect.poll(async () => Number(await chart.getAttribute('data-max')), { timeout: 20_000, interval: 250 }).toBeGreaterThan(100);
    expect(Number(await chart.getAttribute('data-samples'))).toBeGreaterThanOrEqual(2);
    expect(Number(await chart.getAttribute('data-max'))).toBeGreaterThan(100);
    expect(await chart.locator('polyline.series').count()).toBe(2);
    await page
      .getByTestId('stat-clients')
      .filter({ hasText: /^[3-9]$/ })
      .waitFor(); // device, watcher, the page itself
    await page.screenshot({ path: SCREENSHOT, fullPage: true });

    // Action: disconnect the device. It receives DISCONNECT 0x98 (administrative action) and leaves the list.
    const reason = new Promise<number | undefined>((resolve) => device.once('disconnect', (p) => resolve(p.reasonCode)));
    await row.locator('button[data-action="disconnect"]').click();
    expect(await reason).toBe(0x98);
    await row.waitFor({ state: 'detached', timeout: 15_000 });
    expect(await page.locator('[data-testid="clients"] tr[data-client-id="e2e-watcher"]').count()).toBe(1);

    // Action: delete a retained message. It is gone from the broker (a new subscriber gets nothing of it).
    const retainedRow = page.locator('[data-testid="retained"] tr[data-topic="site/room2/temperature"]');
    await retainedRow.locator('button[data-action="delete-retained"]').click();
    await retainedRow.waitFor({ state: 'detached', timeout: 15_000 });
    const api = (await (await fetch(`http://127.0.0.1:${http}/api/retained?q=site/`)).json()) as { items: { topic: string }[] };
    expect(api.items.map((m) => m.topic)).toEqual(['site/room1/temperature', 'site/room3/temperature']);

    expect(problems).toEqual([]);
    watcher.child.kill();
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });
});
