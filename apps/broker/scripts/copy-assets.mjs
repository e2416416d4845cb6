#!/usr/bin/env node
// Build step: the dashboard's static files (public/) and the browser bundle of
// @iotwire/mqtt-client (built by that package) go to dist/public/, so the published package
// serves the page with no build tools and no runtime dependency on the client.
import { copyFileSync, cpSync, existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = `${root}dist/public/`;
mkdirSync(out, { recursive: true });
cpSync(`${root}public/`, out, { recursive: true });
const bundle = fileURLToPath(import.meta.resolve('@iotwire/mqtt-client/browser-bundle'));
if (!existsSync(bundle)) {
  console.error(`copy-assets: ${bundle} is missing: build @iotwire/mqtt-client first (pnpm --filter @iotwire/broker... build)`);
  process.exit(1);
}
copyFileSync(bundle, `${out}mqtt-client.js`);
if (existsSync(`${bundle}.map`)) copyFileSync(`${bundle}.map`, `${out}mqtt-client.js.map`);
console.log(`copy-assets: dashboard and MQTT client bundle in ${out}`);
