import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkLayers, ruleFor } from '../src/index.js';

const root = resolve(import.meta.dirname, '../../..');
const tmp = mkdtempSync(join(tmpdir(), 'iotwire-layers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of the repository's package manifests and sources, to break on purpose. */
function fixture(): string {
  const dir = mkdtempSync(join(tmp, 'repo-'));
  for (const group of ['packages', 'apps']) {
    cpSync(join(root, group), join(dir, group), {
      recursive: true,
      filter: (src) => !/node_modules|dist|\.turbo/.test(src),
    });
  }
  return dir;
}

describe('layering check', () => {
  it('passes on the repository as it is', () => {
    expect(checkLayers(root)).toEqual([]);
  });

  it('fails when a codec imports a transport (deliberate upward import)', () => {
    const dir = fixture();
    writeFileSync(join(dir, 'packages/udp/src/upward.ts'), "export { codeToString } from '@iotwire/coap-message';\n");
    const v = checkLayers(dir);
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ from: '@iotwire/udp', imports: '@iotwire/coap-message', file: 'packages/udp/src/upward.ts', line: 1 });
    expect(v[0]?.reason).toMatch(/lower layers never import higher ones/);
  });

  it('fails when a component reaches into another component', () => {
    const dir = fixture();
    writeFileSync(join(dir, 'packages/coap/src/reach.ts'), "import { Backoff } from '@iotwire/mqtt-client';\nexport const b = Backoff;\n");
    expect(checkLayers(dir).map((x) => x.from)).toEqual(['@iotwire/coap']);
  });

  it('fails when a codec does I/O', () => {
    const dir = fixture();
    mkdirSync(join(dir, 'packages/mqtt-packet/src/io'), { recursive: true });
    writeFileSync(join(dir, 'packages/mqtt-packet/src/io/x.ts'), "import { Socket } from 'node:net';\nexport const s = Socket;\n");
    expect(checkLayers(dir)[0]?.reason).toMatch(/must be pure/);
  });

  it('fails when a workspace import is not declared as a dependency', () => {
    const dir = fixture();
    writeFileSync(join(dir, 'packages/mqtt-client/src/undeclared.ts'), "export * from '@iotwire/udp';\n");
    expect(checkLayers(dir)[0]?.reason).toMatch(/not declared/);
  });

  it('encodes the design table', () => {
    expect(ruleFor('@iotwire/tcp-server', '@iotwire/tls')).toBeUndefined();
    expect(ruleFor('@iotwire/dtls', '@iotwire/udp')).toBeUndefined();
    expect(ruleFor('@iotwire/mqtt-broker', '@iotwire/mqtt-packet')).toBeUndefined();
    expect(ruleFor('@iotwire/broker', '@iotwire/mqtt-broker')).toBeUndefined();
    expect(ruleFor('@iotwire/tls', '@iotwire/tcp-server')).toMatch(/same-layer/);
    expect(ruleFor('@iotwire/mqtt-packet', '@iotwire/coap-message')).toMatch(/same-layer/);
    expect(ruleFor('@iotwire/mqtt-broker', '@iotwire/broker')).toMatch(/lower layers/);
  });
});
