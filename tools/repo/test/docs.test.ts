import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { publicPackages } from '../src/index.js';

const root = resolve(import.meta.dirname, '../../..');
const out = mkdtempSync(join(tmpdir(), 'iotwire-docs-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

describe('API documentation', () => {
  it('typedoc builds one site that lists every package', () => {
    execFileSync(join(root, 'node_modules/.bin/typedoc'), ['--out', out, '--logLevel', 'Error'], { cwd: root, stdio: 'pipe' });
    const index = readFileSync(join(out, 'modules.html'), 'utf8');
    for (const p of publicPackages(root)) {
      expect(index, `${p.name} missing from the API site`).toContain(p.name);
      expect(existsSync(join(out, 'modules', `${p.name.replace('@', '_').replace('/', '_')}.html`))).toBe(true);
    }
  }, 120_000);
});
