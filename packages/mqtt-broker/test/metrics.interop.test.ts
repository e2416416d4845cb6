// The exposition checked by Prometheus's own linter (`promtool check metrics`, Debian
// `prometheus`): names, HELP/TYPE, counter suffixes and syntax as Prometheus sees them.
import { spawnSync } from 'node:child_process';
import { requireBinary } from '@iotwire/interop';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { renderMetrics, SysTopics } from '../src/index.js';
import { startBroker } from './helpers/broker.js';

describe('promtool check metrics', () => {
  it('accepts the exposition of a broker with traffic, with and without constant labels', async () => {
    const promtool = requireBinary('promtool');
    const { broker, port } = await startBroker();
    const sys = new SysTopics(broker, { interval: 10 });
    await sys.start();
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
    await c.subscribeAsync('#');
    await c.publishAsync('a/b', 'x', { qos: 1, retain: true });
    for (const options of [{}, { labels: { node: 'n1', cluster: 'c"1' } }]) {
      const text = renderMetrics(broker, options);
      const r = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 15_000 });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    // promtool does flag a bad exposition (the check can fail).
    const bad = spawnSync(promtool, ['check', 'metrics'], { input: '# TYPE x counter\nx 1\n', encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    sys.stop();
    await c.endAsync();
  });
});
