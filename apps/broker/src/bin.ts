#!/usr/bin/env node
import { BROKER_USAGE, parseBrokerArgs } from './args.js';

try {
  const args = parseBrokerArgs(process.argv.slice(2));
  if (args.help) {
    console.log(BROKER_USAGE);
    process.exit(0);
  }
  console.error('iotwire-broker: the broker is not built yet (see the README quick start).');
  process.exit(1);
} catch (err) {
  console.error(`iotwire-broker: ${(err as Error).message}\n\n${BROKER_USAGE}`);
  process.exit(2);
}
