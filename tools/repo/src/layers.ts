import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * The layering of the monorepo. Lower layers never import higher ones; inside a layer only the
 * listed pairs may import each other (codecs import nothing of ours; components never reach
 * into another component).
 */
export const LAYERS: Record<string, number> = {
  '@iotwire/udp': 0,
  '@iotwire/tls': 0,
  '@iotwire/tcp-server': 0,
  '@iotwire/dtls': 0,
  '@iotwire/mqtt-packet': 1,
  '@iotwire/coap-message': 1,
  '@iotwire/mqtt-client': 2,
  '@iotwire/mqtt-broker': 2,
  '@iotwire/coap': 2,
  '@iotwire/broker': 3,
  '@iotwire/mqtt-cli': 3,
  '@iotwire/coap-cli': 3,
};
export const LAYER_NAMES = ['transport/security', 'codecs', 'components', 'apps'];

/** Same-layer imports that the design allows. */
export const SAME_LAYER_ALLOWED: ReadonlySet<string> = new Set([
  '@iotwire/tcp-server>@iotwire/tls',
  '@iotwire/dtls>@iotwire/udp',
  '@iotwire/dtls>@iotwire/tls',
]);

/** Node built-ins a pure codec must not touch. */
const IO_MODULES = /^(node:)?(net|dgram|tls|fs|fs\/promises|http|https|http2|child_process|worker_threads|cluster)$/;
const CODECS = new Set(['@iotwire/mqtt-packet', '@iotwire/coap-message']);

export interface Violation {
  file: string;
  line: number;
  from: string;
  imports: string;
  reason: string;
}

const IMPORT_RE = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;

function* sourceFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir)) {
    const p = join(dir, entry);
    if (statSync(p).isDirectory()) yield* sourceFiles(p);
    else if (/\.(ts|mts|cts|js|mjs|cjs|tsx)$/.test(entry) && !entry.endsWith('.d.ts')) yield p;
  }
}

/** The package an import specifier names (`@iotwire/x/sub` → `@iotwire/x`). */
function packageOf(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec);
}

/** Checks one package's import of another against the layering rules; returns a reason or undefined. */
export function ruleFor(from: string, to: string): string | undefined {
  if (from === to) return undefined;
  const a = LAYERS[from];
  const b = LAYERS[to];
  if (a === undefined) return undefined; // tools may import anything
  if (b === undefined) return `${to} is not a library layer (tools are not importable from packages)`;
  if (b > a) return `${from} (${LAYER_NAMES[a]}) must not import ${to} (${LAYER_NAMES[b]}): lower layers never import higher ones`;
  if (b === a && !SAME_LAYER_ALLOWED.has(`${from}>${to}`)) return `${from} must not import ${to}: same-layer import not in the design`;
  return undefined;
}

/**
 * Scans `src/` of every workspace package under `root` (packages/, apps/, tools/) and returns
 * every import that breaks the layering, every undeclared workspace dependency, and any I/O
 * module used by a codec.
 */
export function checkLayers(root: string): Violation[] {
  const violations: Violation[] = [];
  for (const group of ['packages', 'apps', 'tools']) {
    let dirs: string[];
    try {
      dirs = readdirSync(join(root, group));
    } catch {
      continue;
    }
    for (const d of dirs) {
      const pkgDir = join(root, group, d);
      let pkg: { name: string; dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
      try {
        pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
      } catch {
        continue;
      }
      const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
      let files: string[];
      try {
        files = [...sourceFiles(join(pkgDir, 'src'))];
      } catch {
        continue;
      }
      for (const file of files) {
        const text = readFileSync(file, 'utf8');
        for (const m of text.matchAll(IMPORT_RE)) {
          const spec = m[1] as string;
          const line = text.slice(0, m.index).split('\n').length;
          const rel = relative(root, file);
          const push = (reason: string) => violations.push({ file: rel, line, from: pkg.name, imports: spec, reason });
          if (spec.startsWith('@iotwire/')) {
            const to = packageOf(spec);
            const reason = ruleFor(pkg.name, to);
            if (reason) push(reason);
            else if (to !== pkg.name && LAYERS[pkg.name] !== undefined && !declared.has(to)) {
              push(`${to} is imported but not declared in ${pkg.name}'s dependencies (selective installs would break)`);
            }
          } else if (CODECS.has(pkg.name) && IO_MODULES.test(spec)) {
            push(`codec ${pkg.name} must be pure: no ${spec}`);
          }
        }
      }
    }
  }
  return violations;
}
