import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface WorkspacePackage {
  name: string;
  dir: string;
  private: boolean;
  dependencies: string[];
  bin: Record<string, string>;
}

/** The publishable `@iotwire/*` packages of the workspace (packages/ and apps/). */
export function publicPackages(root: string): WorkspacePackage[] {
  const out: WorkspacePackage[] = [];
  for (const group of ['packages', 'apps']) {
    for (const d of readdirSync(join(root, group))) {
      const dir = join(root, group, d);
      if (!existsSync(join(dir, 'package.json'))) continue;
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (pkg.private) continue;
      out.push({
        name: pkg.name,
        dir,
        private: false,
        dependencies: Object.keys(pkg.dependencies ?? {}).filter((n) => n.startsWith('@iotwire/')),
        bin: pkg.bin ?? {},
      });
    }
  }
  return out;
}

/** `name` and every `@iotwire/*` package it depends on, transitively. */
export function closure(name: string, all: WorkspacePackage[]): WorkspacePackage[] {
  const byName = new Map(all.map((p) => [p.name, p]));
  const seen = new Map<string, WorkspacePackage>();
  const visit = (n: string) => {
    const p = byName.get(n);
    if (!p || seen.has(n)) return;
    seen.set(n, p);
    for (const d of p.dependencies) visit(d);
  };
  visit(name);
  return [...seen.values()];
}

/** Packs one package with `pnpm pack` (which rewrites `workspace:` ranges) and returns the tarball path. */
export function pack(pkg: WorkspacePackage, dest: string): string {
  if (!existsSync(join(pkg.dir, 'dist'))) throw new Error(`${pkg.name} has no dist/: run \`pnpm build\` first`);
  mkdirSync(dest, { recursive: true });
  const out = execFileSync('pnpm', ['pack', '--pack-destination', dest], { cwd: pkg.dir, encoding: 'utf8' });
  const tgz = out
    .trim()
    .split('\n')
    .filter((l) => l.endsWith('.tgz'))
    .pop();
  if (!tgz) throw new Error(`pnpm pack printed no tarball for ${pkg.name}:\n${out}`);
  return tgz.startsWith('/') ? tgz : join(dest, tgz);
}

/**
 * Installs `tarballs` into a new empty npm project at `dir` (external dependencies come from the
 * npm registry) and imports `name` there with plain Node. Returns the export names it found.
 */
export function installAndImport(dir: string, name: string, tarballs: string[]): string[] {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'selective-install-check', version: '1.0.0', private: true, type: 'module' }),
  );
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', '--prefer-offline', ...tarballs], {
    cwd: dir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', `const m = await import(${JSON.stringify(name)}); console.log(JSON.stringify(Object.keys(m)));`],
    {
      cwd: dir,
      encoding: 'utf8',
    },
  );
  return JSON.parse(out.trim()) as string[];
}
