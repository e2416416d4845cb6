import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closure, installAndImport, pack, publicPackages } from '../src/index.js';

const root = resolve(import.meta.dirname, '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'iotwire-pack-'));
const packages = publicPackages(root);
const tarballs = new Map<string, string>();

beforeAll(() => {
  for (const p of packages) tarballs.set(p.name, pack(p, join(tmp, 'tarballs')));
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('selective installs', () => {
  it('covers every publishable package', () => {
    expect(packages.map((p) => p.name).sort()).toEqual(
      [
        '@iotwire/broker',
        '@iotwire/coap',
        '@iotwire/coap-cli',
        '@iotwire/coap-message',
        '@iotwire/dtls',
        '@iotwire/mqtt-broker',
        '@iotwire/mqtt-cli',
        '@iotwire/mqtt-client',
        '@iotwire/mqtt-packet',
        '@iotwire/tcp-server',
        '@iotwire/tls',
        '@iotwire/udp',
      ].sort(),
    );
  });

  it.each(packages.map((p) => [p.name, p] as const))(
    '%s packs, installs alone into an empty npm project, and imports',
    (name, p) => {
      const need = closure(name, packages).map((q) => tarballs.get(q.name) as string);
      const dir = join(tmp, name.replace('/', '__'));
      const exportsFound = installAndImport(dir, name, need);
      expect(exportsFound.length).toBeGreaterThan(0);
      for (const [bin] of Object.entries(p.bin)) {
        const out = execFileSync(join(dir, 'node_modules/.bin', bin), ['--help'], { encoding: 'utf8' });
        expect(out).toMatch(/usage/i);
      }
    },
    120_000,
  );
});
