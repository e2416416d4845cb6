#!/usr/bin/env node
// `pnpm lint` runs this: fails on any import that breaks the package layering.
import { checkLayers } from '../tools/repo/dist/index.js';

const violations = checkLayers(new URL('..', import.meta.url).pathname);
for (const v of violations) console.error(`${v.file}:${v.line}: ${v.reason}`);
if (violations.length) process.exit(1);
console.log('layering: ok');
