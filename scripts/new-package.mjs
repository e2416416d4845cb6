#!/usr/bin/env node
// Creates a workspace package slot with the house conventions (exports map, tsconfigs,
// vitest and typedoc configs). Usage: node scripts/new-package.mjs <dir> <description> [--private] [--bin name=file]
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { private: { type: 'boolean', default: false }, bin: { type: 'string', multiple: true } },
});
const [dir, description] = positionals;
if (!dir || !description) throw new Error('usage: new-package <dir> <description>');
const name = `@iotwire/${basename(dir)}`;
const up = relative(dir, '.') || '.';
mkdirSync(join(dir, 'src'), { recursive: true });
mkdirSync(join(dir, 'test'), { recursive: true });
const pkg = {
  name,
  version: '0.1.0',
  description,
  type: 'module',
  license: 'MIT',
  ...(values.private ? { private: true } : {}),
  engines: { node: '>=20' },
  exports: {
    '.': { '@iotwire/source': './src/index.ts', types: './dist/index.d.ts', import: './dist/index.js' },
    './package.json': './package.json',
  },
  main: './dist/index.js',
  types: './dist/index.d.ts',
  ...(values.bin ? { bin: Object.fromEntries(values.bin.map((b) => b.split('='))) } : {}),
  files: ['dist', 'src', 'README.md'],
  scripts: {
    build: 'tsc -p tsconfig.build.json',
    typecheck: 'tsc -p tsconfig.json --noEmit',
    test: 'vitest run',
  },
  repository: { type: 'git', url: 'https://github.com/iotwire/iotwire.git', directory: dir },
  ...(values.private ? {} : { publishConfig: { access: 'public' } }),
};
const w = (f, s) => {
  if (!existsSync(join(dir, f))) writeFileSync(join(dir, f), s);
};
w('package.json', `${JSON.stringify(pkg, null, 2)}\n`);
w(
  'tsconfig.json',
  `${JSON.stringify({ extends: `${up}/tsconfig.base.json`, compilerOptions: { noEmit: true, customConditions: ['@iotwire/source'] }, include: ['src', 'test'] }, null, 2)}\n`,
);
w(
  'tsconfig.build.json',
  `${JSON.stringify({ extends: `${up}/tsconfig.base.json`, compilerOptions: { rootDir: 'src', outDir: 'dist' }, include: ['src'] }, null, 2)}\n`,
);
w(
  'vitest.config.ts',
  `import { defineProject } from 'vitest/config';\nimport { project } from '${up}/vitest.shared.js';\n\nexport default defineProject(project(import.meta.dirname));\n`,
);
w('typedoc.json', `${JSON.stringify({ extends: [`${up}/typedoc.base.json`], entryPoints: ['src/index.ts'] }, null, 2)}\n`);
console.log(`created ${name} in ${dir}`);
