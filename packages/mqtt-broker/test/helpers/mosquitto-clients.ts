import { type ChildProcess, spawn } from 'node:child_process';
import { requireBinary, runToCompletion } from '@iotwire/interop';

export interface SubProcess {
  child: ChildProcess;
  /** Lines printed so far. */
  lines: string[];
  /** Resolves once `n` lines were printed (or rejects after the timeout). */
  waitLines(n: number, timeoutMs?: number): Promise<string[]>;
  /** Resolves once the process printed a debug line matching `re` (needs -d). */
  waitOutput(re: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
  stop(): void;
}

/** Runs mosquitto_sub (nobody here wrote it); stdout lines are collected. */
export function mosquittoSub(args: string[]): SubProcess {
  const child = spawn(requireBinary('mosquitto_sub'), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let all = '';
  let partial = '';
  const waiters: (() => void)[] = [];
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    all += d;
    partial += d;
    const parts = partial.split('\n');
    partial = parts.pop() as string;
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    all += d;
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((r) =>
    child.on('close', (c) => {
      // -F output has no newline: keep a last partial line.
      if (partial !== '') lines.push(partial);
      partial = '';
      r(c);
    }),
  );
  const waitFor = (cond: () => boolean, what: string, timeoutMs: number) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`mosquitto_sub: no ${what} within ${timeoutMs} ms; output:\n${all}`)), timeoutMs);
      const check = () => {
        if (cond()) {
          clearTimeout(timer);
          resolve();
        } else waiters.push(check);
      };
      check();
      void exited.then(() => {
        if (!cond()) {
          clearTimeout(timer);
          reject(new Error(`mosquitto_sub exited before ${what}; output:\n${all}`));
        }
      });
    });
  return {
    child,
    lines,
    async waitLines(n, timeoutMs = 10_000) {
      await waitFor(() => lines.length >= n, `${n} lines`, timeoutMs);
      return lines.slice(0, n);
    },
    waitOutput: (re, timeoutMs = 10_000) => waitFor(() => re.test(all), String(re), timeoutMs),
    exited,
    stop: () => child.kill('SIGTERM'),
  };
}

/** Runs mosquitto_pub to completion; rejects with its output on a non-zero exit. */
export async function mosquittoPub(args: string[]): Promise<string> {
  const r = await runToCompletion(requireBinary('mosquitto_pub'), args, { name: 'mosquitto_pub', timeoutMs: 15_000 });
  const out = r.stdout + r.stderr;
  if (r.code !== 0) throw new Error(`mosquitto_pub ${args.join(' ')} exited ${r.code}: ${out}`);
  return out;
}
