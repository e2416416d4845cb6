import { type ChildProcess, spawn } from 'node:child_process';
import { PeerUnavailableError } from './errors.js';

export interface PeerProcessOptions {
  /** Name used in messages, e.g. `mosquitto`. */
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Resolves true when the peer is ready; polled until `timeoutMs`. */
  ready: (peer: PeerProcess) => Promise<boolean> | boolean;
  /** Give up starting after this many ms. Default 10000. */
  timeoutMs?: number;
  /** Data to write to stdin after spawn (stdin stays open). */
  stdin?: string;
}

/** A running peer: started by {@link startPeer}, stopped by PID with {@link PeerProcess.stop}. */
export class PeerProcess {
  #output = '';
  #exited: Promise<number | null>;
  #exitCode: number | null | undefined;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => this.#append(d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => this.#append(d));
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.#exitCode = code ?? (signal ? -1 : null);
        resolve(this.#exitCode);
      });
      child.once('error', (err) => {
        this.#append(`\n[spawn error] ${err.message}\n`);
        this.#exitCode = -1;
        resolve(-1);
      });
    });
    live.add(this);
  }

  #append(d: string): void {
    // Bounded: a chatty peer must not grow test memory without limit.
    this.#output = (this.#output + d).slice(-256 * 1024);
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Everything the peer printed (stdout and stderr, interleaved, last 256 KiB). */
  get output(): string {
    return this.#output;
  }

  get running(): boolean {
    return this.#exitCode === undefined;
  }

  /** Resolves with the exit code when the process ends. */
  exited(): Promise<number | null> {
    return this.#exited;
  }

  /** Writes to the peer's stdin. */
  write(data: string | Uint8Array): void {
    this.child.stdin?.write(data);
  }

  /** Waits until the output matches `pattern`. */
  async waitForOutput(pattern: RegExp, timeoutMs = 5000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.#output.match(pattern);
      if (m) return m;
      if (Date.now() > deadline) {
        throw new Error(`${this.name} (pid ${this.pid}) did not print ${pattern} within ${timeoutMs} ms. Output:\n${this.#output}`);
      }
      await sleep(20);
    }
  }

  /** SIGTERM by PID, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    live.delete(this);
    if (!this.running) return;
    try {
      process.kill(this.pid, 'SIGTERM');
    } catch {
      return; // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // gone between the checks
      }
    }, graceMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /** SIGKILL by PID at once (crash tests). */
  async kill(): Promise<void> {
    live.delete(this);
    if (!this.running) return;
    try {
      process.kill(this.pid, 'SIGKILL');
    } catch {
      return;
    }
    await this.#exited;
  }
}

const live = new Set<PeerProcess>();
process.once('exit', () => {
  for (const p of live) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Spawns a peer and waits until `ready` says so; fails with the peer's output if it cannot start. */
export async function startPeer(options: PeerProcessOptions): Promise<PeerProcess> {
  const child = spawn(options.command, options.args, {
    env: options.env ?? process.env,
    cwd: options.cwd,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const peer = new PeerProcess(options.name, child);
  if (options.stdin) peer.write(options.stdin);
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    if (!peer.running) {
      throw new PeerUnavailableError(options.name, `exited during start-up (code ${await peer.exited()}). Output:\n${peer.output}`);
    }
    if (
      await Promise.resolve()
        .then(() => options.ready(peer))
        .catch(() => false)
    )
      return peer;
    if (Date.now() > deadline) {
      await peer.kill();
      throw new PeerUnavailableError(options.name, `not ready within ${options.timeoutMs ?? 10_000} ms. Output:\n${peer.output}`);
    }
    await sleep(25);
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion (a peer's client tool, or one of our CLIs) and collects its
 * output; stdin gets `stdin` then EOF. Rejects with the output so far if it runs past
 * `timeoutMs` (the process is SIGKILLed), or if it cannot be spawned.
 */
export function runToCompletion(
  command: string,
  args: string[],
  options: { timeoutMs?: number; stdin?: string | Uint8Array; env?: NodeJS.ProcessEnv; name?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.name ?? command} ${args.join(' ')} did not finish. stdout:\n${stdout}\nstderr:\n${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    // 'close', not 'exit': the output pipes are drained by then.
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // a tool that exits without reading its stdin
    child.stdin.end(options.stdin ?? '');
  });
}
