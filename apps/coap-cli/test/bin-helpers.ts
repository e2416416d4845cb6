import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type RunResult, requireBinary, runToCompletion } from '@iotwire/interop';

/** The built CLI; the e2e tests run the real bin, so `pnpm --filter @iotwire/coap-cli... build` first. */
export const BIN = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

export function requireBuiltBin(): void {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm --filter @iotwire/coap-cli... build\` first`);
}

export type CliResult = RunResult;

/** Runs `iotwire-coap ...args` to completion. */
export function cli(args: string[], options: { timeoutMs?: number; stdin?: string } = {}): Promise<CliResult> {
  requireBuiltBin();
  return runToCompletion(process.execPath, [BIN, ...args], { name: 'iotwire-coap', ...options });
}

/** Starts `iotwire-coap serve`, resolves once it prints its address. */
export async function serve(args: string[]): Promise<{ child: ChildProcess; output: () => string; stop(): Promise<number | null> }> {
  requireBuiltBin();
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 10_000;
  while (!out.includes('serving')) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`serve did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    child,
    output: () => out,
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs libcoap's `coap-client-<flavor>` (a peer nobody here wrote) to completion. */
export function libcoapClient(flavor: 'notls' | 'openssl' | 'gnutls', args: string[], timeoutMs = 20_000): Promise<CliResult> {
  const name = `coap-client-${flavor}`;
  return runToCompletion(requireBinary(name), args, { name, timeoutMs });
}
