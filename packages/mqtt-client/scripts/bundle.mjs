#!/usr/bin/env node
// Builds the single-file browser bundle (ESM, global WebSocket only): dist/browser/mqtt-client.js.
// `node scripts/bundle.mjs [outfile]`; also imported by the browser test.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Bundles src/browser.ts (and @iotwire/mqtt-packet from source) into one ESM file. */
export async function bundle(outfile = `${root}dist/browser/mqtt-client.js`, { minify = true } = {}) {
  const result = await build({
    entryPoints: [`${root}src/browser.ts`],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    minify,
    sourcemap: true,
    conditions: ['@iotwire/source', 'browser', 'import'],
    alias: { 'node:buffer': `${root}browser-shims/buffer.js` },
    inject: [`${root}browser-shims/inject.js`],
    // Anything from Node that slips in must fail the build, not the page.
    external: [],
    logLevel: 'warning',
    metafile: true,
  });
  const inputs = Object.keys(result.metafile.inputs);
  const nodeOnly = inputs.filter((f) => /transport\/node|session-file|(^|\/)ws\//.test(f));
  if (nodeOnly.length) throw new Error(`browser bundle pulled in Node-only modules: ${nodeOnly.join(', ')}`);
  return { outfile, inputs };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { outfile } = await bundle(process.argv[2]);
  console.log(`browser bundle: ${outfile}`);
}
