#!/usr/bin/env node
// iotwire-sub: `iotwire-mqtt sub` under its own name.
import { run } from './process.js';

run(['sub', ...process.argv.slice(2)]);
