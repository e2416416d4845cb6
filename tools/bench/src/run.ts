#!/usr/bin/env node
// Runs the benchmark suites: `pnpm bench [suite ...]`. Each suite prints its table with ratios
// against its peers; BENCHMARKS.md records the latest figures.
import { parseArgs } from 'node:util';

/** Registered suites, loaded lazily so one suite's peers are not needed to run another. */
export const SUITES: Record<string, () => Promise<{ run(argv: string[]): Promise<void> }>> = {
  broker: () => import('./broker/index.js'),
  'broker-prod': () => import('./broker-prod/index.js'),
  client: () => import('./client/index.js'),
  coap: () => import('./coap/index.js'),
  codec: () => import('./codec/index.js'),
  dtls: () => import('./dtls/index.js'),
  tcp: () => import('./tcp/index.js'),
};

const { positionals } = parseArgs({ allowPositionals: true, strict: false });
const names = positionals.length ? positionals : Object.keys(SUITES);
if (names.length === 0) console.log('no benchmark suites registered yet');
for (const name of names) {
  const load = SUITES[name];
  if (!load) {
    console.error(`unknown suite ${name}; known: ${Object.keys(SUITES).join(', ')}`);
    process.exit(2);
  }
  await (await load()).run(process.argv.slice(2));
}
