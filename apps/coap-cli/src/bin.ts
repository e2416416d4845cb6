#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { run } from './run.js';

const interrupted = new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
});

const code = await run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  readStdin: () => readFileSync(0),
  interrupted,
});
process.exitCode = code;
// Nothing else should keep us alive once the command is done (sockets are closed by then).
setImmediate(() => process.exit(code)).unref();
