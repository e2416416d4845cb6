import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let dir: string | undefined;

/**
 * The dashboard's static files: `dist/public/` (the page plus the MQTT client's browser bundle,
 * copied there by the build). From sources (tests) the built copy is used when present, else
 * `public/` (the page without the bundle).
 */
export function assetsDir(): string {
  if (dir !== undefined) return dir;
  const candidates = ['./public/', '../dist/public/', '../public/'].map((p) => fileURLToPath(new URL(p, import.meta.url)));
  dir = candidates.find((c) => existsSync(`${c}index.html`)) ?? (candidates[0] as string);
  return dir;
}
