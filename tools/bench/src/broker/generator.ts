// The parent side of the load generator (loadgen.ts): one forked process per role, driven by
// IPC, shared by the broker and broker-prod suites so both measure with the same generator.
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Result, Setup } from './loadgen.js';

type Reply = { type: string; result?: Result; message?: string };

export class LoadGenerator {
  readonly child: ChildProcess;
  #waiters: ((m: Reply) => void)[] = [];
  constructor() {
    this.child = fork(fileURLToPath(new URL('./loadgen.js', import.meta.url)), [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (m: Reply) => this.#waiters.shift()?.(m));
  }
  #ask(msg: unknown): Promise<Reply> {
    return new Promise((resolve, reject) => {
      this.#waiters.push((m) => (m.type === 'error' ? reject(new Error(m.message)) : resolve(m)));
      this.child.send(msg as never);
    });
  }
  async setup(s: Setup): Promise<void> {
    await this.#ask({ type: 'setup', ...s });
  }
  async go(): Promise<Result> {
    return (await this.#ask({ type: 'go' })).result as Result;
  }
  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.send({ type: 'exit' });
    });
  }
}

/** CPU seconds used by a process so far (utime + stime). */
export function cpuOf(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const parts = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(parts[11]) + Number(parts[12])) / 100;
}
