/** The CLI entry: parse, run, print errors, return the exit code. */
import { readFileSync } from 'node:fs';
import { parseCommandArgs } from './args.js';
import { type CommandName, splitCommand } from './command.js';
import { CliError, UsageError } from './errors.js';
import { commandHelp, USAGE } from './help.js';
import type { Io } from './io.js';

export interface MainOptions {
  /** Ends `sub` (and a running command) as SIGINT/SIGTERM do. */
  signal?: AbortSignal;
}

/** The package version, for --version. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * Runs `iotwire-mqtt <argv>`; resolves with the exit code. Errors go to `io.stderr` as one
 * line (flag errors add mosquitto's "Use '… --help' to see usage." hint).
 */
export async function main(argv: readonly string[], io: Io, options: MainOptions = {}): Promise<number> {
  let command: CommandName | undefined;
  try {
    const split = splitCommand(argv);
    if (split.command === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (split.command === 'version') {
      io.stdout.write(`iotwire-mqtt ${version()}\n`);
      return 0;
    }
    command = split.command;
    const parsed = parseCommandArgs(command, split.rest);
    if (parsed.kind === 'help') {
      io.stdout.write(`${commandHelp(command)}\n`);
      return 0;
    }
    if (parsed.kind === 'version') {
      io.stdout.write(`iotwire-mqtt ${version()}\n`);
      return 0;
    }
    const c = parsed.config;
    // The runners (and the MQTT client) load only when a command runs: --help and flag errors stay fast.
    if (c.command === 'pub') return await (await import('./pub.js')).runPub(c, io);
    if (c.command === 'sub') return await (await import('./sub.js')).runSub(c, io, options.signal ? { signal: options.signal } : {});
    return await (await import('./bench/run.js')).runBench(c, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`${err.message}\nUse 'iotwire-mqtt ${command ?? ''}${command ? ' ' : ''}--help' to see usage.\n`);
      return err.exitCode;
    }
    if (err instanceof CliError) {
      // --quiet silences runtime errors, not flag errors (as mosquitto).
      const quiet = argv.includes('--quiet');
      if (!quiet) io.stderr.write(`${err.message}\n`);
      return err.exitCode;
    }
    io.stderr.write(`Error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}
