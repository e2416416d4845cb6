#!/usr/bin/env node
import { splitCommand, USAGE } from './command.js';

try {
  const { command } = splitCommand(process.argv.slice(2));
  if (command === 'help') {
    console.log(USAGE);
    process.exit(0);
  }
  console.error(`iotwire-coap: '${command}' arrives with the client package`);
  process.exit(1);
} catch (err) {
  console.error(`iotwire-coap: ${(err as Error).message}\n\n${USAGE}`);
  process.exit(2);
}
