// Drives the built `iotwire-broker` (dist/bin.js, from `pnpm --filter @iotwire/broker... build`)
// as a user would: a spawned process, its exit code, its stdout (JSON log lines) and stderr.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireBinary } from '@iotwire/interop';
import { afterEach } from 'vitest';

export const BIN = fileURLToPath(new URL('../../dist/bin.js', import.meta.url));

const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
});

function requireBuilt(): void {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm --filter @iotwire/broker... build\` first`);
}

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export interface RunningBin {
  child: ChildProcess;
  /** JSON log lines from stdout so far. */
  logs: LogLine[];
  stderr(): string;
  stdout(): string;
  /** Resolves with the first log line (seen or future) whose msg matches. */
  waitLog(re: RegExp, timeoutMs?: number): Promise<LogLine>;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Starts the bin; `netns` runs it in a fresh network namespace (for the default ports). */
export function startBin(args: string[], options: { cwd?: string; netns?: boolean } = {}): RunningBin {
  requireBuilt();
  const cwd = options.cwd ?? mkdtempSync(join(tmpdir(), 'iotwire-bin-'));
  const child = options.netns
    ? spawn(requireBinary('unshare'), ['-n', 'sh', '-c', `ip link set lo up && exec "$0" "$@"`, process.execPath, BIN, ...args], {
        cwd,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(process.execPath, [BIN, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(child);
  let out = '';
  let err = '';
  let partial = '';
  const logs: LogLine[] = [];
  const waiters: { re: RegExp; resolve: (l: LogLine) => void }[] = [];
  child.stdout?.on('data', (d: Buffer) => {
    out += d;
    partial += d;
    let nl = partial.indexOf('\n');
    while (nl >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      nl = partial.indexOf('\n');
      let parsed: LogLine;
      try {
        parsed = JSON.parse(line) as LogLine;
      } catch {
        continue;
      }
      logs.push(parsed);
      for (const w of [...waiters]) {
        if (w.re.test(parsed.msg)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(parsed);
        }
      }
    }
  });
  child.stderr?.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    logs,
    stderr: () => err,
    stdout: () => out,
    exited,
    waitLog(re, timeoutMs = 20_000) {
      const seen = logs.find((l) => re.test(l.msg));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no log line matching ${re} within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`)),
          timeoutMs,
        );
        const w = {
          re,
          resolve: (l: LogLine) => {
            clearTimeout(timer);
            resolve(l);
          },
        };
        waiters.push(w);
        void exited.then(() => {
          if (waiters.includes(w)) {
            clearTimeout(timer);
            reject(new Error(`exited before a log line matching ${re}; stdout:\n${out}\nstderr:\n${err}`));
          }
        });
      });
    },
  };
}

/** Runs the bin to completion. */
export function runBin(args: string[], cwd?: string): { status: number | null; stdout: string; stderr: string } {
  requireBuilt();
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 30_000, ...(cwd ? { cwd } : {}) });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a peer command (optionally inside the network namespace of `pid`). */
export function runPeer(
  cmd: string,
  args: string[],
  nsPid?: number,
  input?: string,
): { status: number | null; out: string; stderr: string } {
  const bin = requireBinary(cmd);
  const r =
    nsPid === undefined
      ? spawnSync(bin, args, { encoding: 'utf8', timeout: 30_000, ...(input !== undefined ? { input } : {}) })
      : spawnSync(requireBinary('nsenter'), ['-t', String(nsPid), '-n', bin, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: r.status, out: r.stdout, stderr: r.stderr };
}

/** A long-running peer (mosquitto_sub) whose output lines are collected. */
export function spawnPeer(
  cmd: string,
  args: string[],
): { child: ChildProcess; lines: string[]; waitLine(re: RegExp, timeoutMs?: number): Promise<string> } {
  const child = spawn(requireBinary(cmd), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(child);
  const lines: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  let partial = '';
  child.stdout?.on('data', (d: Buffer) => {
    partial += d;
    let nl = partial.indexOf('\n');
    while (nl >= 0) {
      const line = partial.slice(0, nl);
      partial = partial.slice(nl + 1);
      nl = partial.indexOf('\n');
      lines.push(line);
      for (const w of [...waiters]) {
        if (w.re.test(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  return {
    child,
    lines,
    waitLine(re, timeoutMs = 20_000) {
      const seen = lines.find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`${cmd}: no line matching ${re} within ${timeoutMs} ms; got:\n${lines.join('\n')}`)),
          timeoutMs,
        );
        waiters.push({
          re,
          resolve: (l) => {
            clearTimeout(timer);
            resolve(l);
          },
        });
      });
    },
  };
}
