// `iotwire-coap serve DIR`: files as resources, driven through the built bin on both ends.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@iotwire/interop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, serve } from './bin-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'iotwire-coap-dir-'));
const outside = mkdtempSync(join(tmpdir(), 'iotwire-coap-outside-'));
const big = Buffer.from(Array.from({ length: 4000 }, (_, i) => String.fromCharCode(33 + (i % 90))).join(''));
let ro: Awaited<ReturnType<typeof serve>>;
let rw: Awaited<ReturnType<typeof serve>>;
let roBase: string;
let rwBase: string;

beforeAll(async () => {
  writeFileSync(join(root, 'hello.txt'), 'hello from a file');
  writeFileSync(join(root, 'data.json'), '{"t":21.5}');
  writeFileSync(join(root, 'big.bin'), big);
  writeFileSync(join(root, '.secret'), 'hidden');
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'sub', 'deep.cbor'), Buffer.from([0xa1, 0x01, 0x02]));
  writeFileSync(join(outside, 'passwd'), 'not yours');
  symlinkSync(join(outside, 'passwd'), join(root, 'escape.txt')); // leads out: never served or listed
  symlinkSync(join(root, 'hello.txt'), join(root, 'inner.txt')); // stays inside: served
  const [p1, p2] = [await freePort('udp'), await freePort('udp')];
  ro = await serve(['-A', '127.0.0.1', '-p', String(p1), root]);
  rw = await serve(['-A', '127.0.0.1', '-p', String(p2), '-W', '--max-size', '100000', root]);
  roBase = `coap://127.0.0.1:${p1}`;
  rwBase = `coap://127.0.0.1:${p2}`;
});

afterAll(async () => {
  expect(await ro.stop()).toBe(0);
  expect(await rw.stop()).toBe(0);
});

describe('serve DIRECTORY', () => {
  it('says what it serves', () => {
    expect(ro.output()).toContain(`serving ${root} on coap://127.0.0.1:`);
    expect(rw.output()).toContain('(writable)');
  });

  it('GETs files with the Content-Format of their extension, and an ETag', async () => {
    const txt = await cli(['get', '-v', `${roBase}/hello.txt`]);
    expect(txt.stdout).toBe('hello from a file');
    expect(txt.stderr).toContain('Content-Format: text/plain;charset=utf-8');
    expect(txt.stderr).toMatch(/ETag: /);
    expect((await cli(['get', '-v', `${roBase}/data.json`])).stderr).toContain('Content-Format: application/json');
    const cbor = await cli(['get', '-v', '-o', join(outside, 'deep.out'), `${roBase}/sub/deep.cbor`]);
    expect(cbor.stderr).toContain('Content-Format: application/cbor');
    expect([...readFileSync(join(outside, 'deep.out'))]).toEqual([0xa1, 0x01, 0x02]);
    // Accept that does not match the file's format: 4.06.
    expect((await cli(['get', '-A', 'application/json', `${roBase}/hello.txt`])).stderr).toContain('4.06 Not Acceptable');
  });

  it('serves large files block-wise', async () => {
    const out = join(outside, 'big.out');
    expect((await cli(['get', '-b', '64', '-o', out, `${roBase}/big.bin`])).code).toBe(0);
    expect(readFileSync(out).equals(big)).toBe(true);
  });

  it('lists a directory in link format and the files in /.well-known/core', async () => {
    const list = await cli(['get', `${roBase}/`]);
    expect(list.stdout.split(',').sort()).toEqual(
      ['</big.bin>;ct=42', '</data.json>;ct=50', '</hello.txt>;ct=0', '</inner.txt>;ct=0', '</sub/>;ct=40'].sort(),
    );
    expect((await cli(['get', `${roBase}/sub`])).stdout).toBe('</sub/deep.cbor>;ct=60');
    const links = (await cli(['discover', roBase])).stdout.split('\n');
    expect(links).toContain('</hello.txt>;ct=0;obs');
    expect(links).toContain('</sub/deep.cbor>;ct=60;obs');
    expect(links.some((l) => l.includes('secret'))).toBe(false);
  });

  it('never leaves the directory: no dot-files, no .., no symlinks out', async () => {
    expect((await cli(['get', `${roBase}/.secret`])).stderr).toContain('4.04');
    expect((await cli(['get', '-O', '11,..', '-O', `11,${outside.split('/').at(-1)}`, '-O', '11,passwd', `${roBase}`])).stderr).toContain(
      '4.03 Forbidden',
    );
    const outward = await cli(['get', `${roBase}/escape.txt`]);
    expect(outward.code).toBe(1);
    expect(outward.stdout).not.toContain('not yours');
    expect((await cli(['get', `${roBase}/inner.txt`])).stdout).toBe('hello from a file');
  });

  it('is read-only unless -W: PUT and DELETE get 4.05', async () => {
    expect((await cli(['put', '-e', 'x', `${roBase}/hello.txt`])).stderr).toContain('4.05 Method Not Allowed');
    expect((await cli(['delete', `${roBase}/hello.txt`])).stderr).toContain('4.05 Method Not Allowed');
    expect((await cli(['put', '-e', 'x', `${roBase}/new.txt`])).stderr).toContain('4.05 Method Not Allowed');
  });

  it('with -W: PUT creates (2.01) and replaces (2.04) files, block-wise too; DELETE removes them', async () => {
    const created = await cli(['put', '-v', '-e', 'fresh', `${rwBase}/notes/today.txt`]);
    expect(created.stderr).toMatch(/^2\.01 Created/);
    expect(readFileSync(join(root, 'notes', 'today.txt'), 'utf8')).toBe('fresh');
    expect((await cli(['put', '-v', '-e', 'updated', `${rwBase}/notes/today.txt`])).stderr).toMatch(/^2\.04 Changed/);
    expect((await cli(['get', `${rwBase}/notes/today.txt`])).stdout).toBe('updated');
    const upload = Buffer.alloc(9000, 'u');
    writeFileSync(join(outside, 'upload.bin'), upload);
    expect((await cli(['put', '-b', '256', '-f', join(outside, 'upload.bin'), `${rwBase}/upload.bin`])).code).toBe(0);
    expect(readFileSync(join(root, 'upload.bin')).equals(upload)).toBe(true);
    // Too large for --max-size: 4.13 from the block-wise layer.
    const huge = join(outside, 'huge.bin');
    writeFileSync(huge, Buffer.alloc(150_000, 'h'));
    expect((await cli(['put', '-f', huge, `${rwBase}/huge.bin`])).stderr).toContain('4.13');
    expect(existsSync(join(root, 'huge.bin'))).toBe(false);
    expect((await cli(['delete', '-v', `${rwBase}/notes/today.txt`])).stderr).toMatch(/^2\.02 Deleted/);
    expect(existsSync(join(root, 'notes', 'today.txt'))).toBe(false);
    expect((await cli(['delete', `${rwBase}/notes/today.txt`])).stderr).toContain('4.04');
    expect((await cli(['put', '-e', 'x', `${rwBase}/sub`])).stderr).toContain('4.05');
  });

  it('honours If-None-Match (create only) and answers a matching ETag with 2.03', async () => {
    expect((await cli(['put', '-O', '5', '-e', 'x', `${rwBase}/hello.txt`])).stderr).toContain('4.12 Precondition Failed');
    const first = await cli(['get', '-v', `${rwBase}/data.json`]);
    const etag = /ETag: (0x[0-9a-f]{16})/.exec(first.stderr)?.[1];
    expect(etag).toBeDefined();
    const valid = await cli(['get', '-v', '-O', `4,${etag}`, `${rwBase}/data.json`]);
    expect([valid.code, valid.stdout]).toEqual([0, '']);
    expect(valid.stderr).toMatch(/^2\.03 Valid/);
  });

  it('exits 2 for a directory that does not exist', async () => {
    const r = await cli(['serve', '-A', '127.0.0.1', '-p', '0', join(root, 'missing')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot serve');
  });
});
