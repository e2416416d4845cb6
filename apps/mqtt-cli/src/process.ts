/** Runs the CLI in this process: real streams, SIGINT/SIGTERM, exit code. */
import { main } from './main.js';

export function run(argv: string[]): void {
  const stop = new AbortController();
  const onSignal = () => {
    // A second signal ends at once.
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
  };
  // sub ends cleanly on SIGINT/SIGTERM (disconnect, exit 0, as mosquitto_sub); pub and bench
  // keep the default (the process ends at once, as mosquitto_pub).
  const handleSignals = argv[0] === 'sub';
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  // A closed stdout (e.g. `| head`) ends the command quietly, as a C tool gets SIGPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
  });
  main(argv, { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }, { signal: stop.signal }).then(
    (code) => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.exitCode = code;
      // Exit once the output is flushed (an unread stdin must not keep the process alive).
      process.stdout.write('', () => process.exit(code));
    },
    (err: unknown) => {
      process.stderr.write(`Error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
