import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@iotwire/interop';
import { afterEach } from 'vitest';
import { BrokerServer, loadConfigFile } from '../../src/index.js';

const running: BrokerServer[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
});

export interface TestServer {
  server: BrokerServer;
  /** Parsed JSON log lines. */
  logs: { level: number; msg: string; [k: string]: unknown }[];
  file: string;
  dir: string;
  tcpPort: number;
  wsPort: number;
  httpPort: number;
  base: string;
}

/** Free ports for a TCP listener, a WS listener and the dashboard. */
export async function ports(): Promise<{ tcpPort: number; wsPort: number; httpPort: number }> {
  return { tcpPort: await freePort('tcp'), wsPort: await freePort('tcp'), httpPort: await freePort('tcp') };
}

/** The YAML of a loopback test broker (memory storage, $SYS every second) plus `extra`. */
export function testYaml(p: { tcpPort: number; wsPort: number; httpPort: number }, extra = ''): string {
  return `listeners:
  - { protocol: tcp, host: 127.0.0.1, port: ${p.tcpPort} }
  - { protocol: ws, host: 127.0.0.1, port: ${p.wsPort} }
storage: { type: memory }
sys: { interval: 1 }
logging: { level: debug }
dashboard: { port: ${p.httpPort} }
${extra}`;
}

/** Starts a BrokerServer in-process from YAML written to a temp file (stopped after the test). */
export async function startTestServer(yaml?: string, p?: { tcpPort: number; wsPort: number; httpPort: number }): Promise<TestServer> {
  const pp = p ?? (await ports());
  const dir = mkdtempSync(join(tmpdir(), 'iotwire-app-'));
  const file = join(dir, 'broker.yaml');
  writeFileSync(file, yaml ?? testYaml(pp));
  const logs: TestServer['logs'] = [];
  const server = await BrokerServer.start({
    config: loadConfigFile(file).config,
    configFile: file,
    logDestination: { write: (line: string) => void logs.push(JSON.parse(line)) },
  });
  running.push(server);
  return { server, logs, file, dir, ...pp, base: `http://127.0.0.1:${pp.httpPort}` };
}
