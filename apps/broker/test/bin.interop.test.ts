// End to end: the built `iotwire-broker` bin (dist/bin.js, from `pnpm build`) started as a
// process, talked to with Debian's mosquitto_pub / mosquitto_sub.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, requireBinary, tcpOpen } from '@iotwire/interop';
import { afterEach, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
});

function startBin(args: string[]): { child: ChildProcess; output: () => string } {
  if (!existsSync(bin)) throw new Error(`${bin} is missing: run \`pnpm build\` first`);
  const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return { child, output: () => out };
}

async function waitOpen(port: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await tcpOpen(port))) {
    if (Date.now() > deadline) throw new Error(`port ${port} not open`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function run(cmd: string, args: string[]): { code: number | null; out: string } {
  const r = spawnSync(requireBinary(cmd), args, { encoding: 'utf8', timeout: 15_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('iotwire-broker bin', () => {
  it('--help prints usage', () => {
    const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: iotwire-broker');
  });

  it('-p PORT with a config file (tcp + ws): mosquitto_sub receives what mosquitto_pub sends, retained too', async () => {
    const port = await freePort('tcp');
    const wsPort = await freePort('tcp');
    const dir = mkdtempSync(join(tmpdir(), 'iotwire-bin-'));
    const conf = join(dir, 'broker.json');
    writeFileSync(
      conf,
      JSON.stringify({
        listeners: [
          { protocol: 'tcp', host: '127.0.0.1', port: 1 },
          { protocol: 'ws', host: '127.0.0.1', port: wsPort },
        ],
      }),
    );
    const { child, output } = startBin(['-p', String(port), '-c', conf, '-v']);
    await waitOpen(port);
    await waitOpen(wsPort);
    expect(run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-t', 'e2e/retained', '-m', 'hello', '-r', '-q', '1']).code).toBe(
      0,
    );
    const sub = run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv5', '-t', 'e2e/#', '-v', '-C', '1', '-W', '10']);
    expect(sub.out.trim()).toBe('e2e/retained hello');
    expect(output()).toContain(`listening: tcp 127.0.0.1:${port}`);
    expect(output()).toContain(`listening: ws 127.0.0.1:${wsPort} path /mqtt`);
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
  });

  it('fails clearly on a bad config file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotwire-bin-'));
    const conf = join(dir, 'bad.json');
    writeFileSync(conf, '{"listeners": [{"protocol": "udp"}]}');
    const r = spawnSync(process.execPath, [bin, '-c', conf], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('protocol must be tcp, tls, ws or wss');
  });
});
