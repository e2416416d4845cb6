#!/usr/bin/env node
import { run } from './process.js';

run(process.argv.slice(2));
