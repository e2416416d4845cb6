#!/usr/bin/env node
// iotwire-pub: `iotwire-mqtt pub` under its own name.
import { run } from './process.js';

run(['pub', ...process.argv.slice(2)]);
