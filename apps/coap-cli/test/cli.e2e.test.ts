// Spawns the built `iotwire-coap` bin: exit codes and output.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@iotwire/interop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleData } from '../src/index.js';
import { cli, serve } from './bin-helpers.js';

let server: Awaited<ReturnType<typeof serve>>;
let base: string;
const dir = mkdtempSync(join(tmpdir(), 'iotwire-coap-cli-'));

beforeAll(async () => {
  const port = await freePort('udp');
  server = await serve(['-A', '127.0.0.1', '-p', String(port), '-d', '5']);
  base = `coap://127.0.0.1:${port}`;
});

afterAll(async () => {
  expect(await server.stop()).toBe(0);
});

describe('iotwire-coap (built bin)', () => {
  it('prints usage with --help and per-command help', async () => {
    const r = await cli(['--help']);
    expect([r.code, r.stdout.includes('Usage: iotwire-coap <command>')]).toEqual([0, true]);
    const g = await cli(['get', '--help']);
    expect(g.code).toBe(0);
    expect(g.stdout).toContain('--block-size');
    expect((await cli(['serve', '-h'])).stdout).toContain('--address');
  });

  it('exits 2 with a message on bad usage', async () => {
    const bad = await cli(['get', '--bogus', `${base}/`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/Unknown option '--bogus'/);
    const unknown = await cli(['fly']);
    expect([unknown.code, unknown.stderr.includes('unknown command: fly')]).toEqual([2, true]);
    const noUri = await cli(['get']);
    expect([noUri.code, noUri.stderr.includes('exactly one URI')]).toEqual([2, true]);
    const badUri = await cli(['get', 'http://example.com/']);
    expect([badUri.code, badUri.stderr.includes('invalid URI')]).toEqual([2, true]);
  });

  it('exits 2 with a clear message on bad DTLS and method flags', async () => {
    const missing = await cli(['get', `${base}/`, '-k']);
    expect([missing.code, /Option '-k, --key <value>' argument missing/.test(missing.stderr)]).toEqual([2, true]);
    const noFile = await cli(['get', '-M', join(dir, 'nope.pem'), 'coaps://127.0.0.1/']);
    expect([noFile.code, noFile.stderr.includes(`cannot read -M ${join(dir, 'nope.pem')}`)]).toEqual([2, true]);
    writeFileSync(join(dir, 'junk.pem'), 'not a key');
    const junk = await cli(['get', '-c', join(dir, 'junk.pem'), 'coaps://127.0.0.1/']);
    expect([junk.code, junk.stderr.includes('holds no PEM certificate')]).toEqual([2, true]);
    const orphan = await cli(['get', '-u', 'me', 'coaps://127.0.0.1/']);
    expect([orphan.code, orphan.stderr.includes('-u needs -k')]).toEqual([2, true]);
    const conflict = await cli(['put', '-m', 'get', `${base}/`]);
    expect([conflict.code, conflict.stderr.includes('-m get conflicts with the put command')]).toEqual([2, true]);
    const observePut = await cli(['-m', 'put', '-s', '2', `${base}/`]);
    expect([observePut.code, observePut.stderr.includes('-s (observe) applies to GET, not PUT')]).toEqual([2, true]);
    const serveBad = await cli(['serve', '-C', join(dir, 'nope.pem')]);
    expect([serveBad.code, serveBad.stderr.includes('-C/-R need -c')]).toEqual([2, true]);
  });

  it('takes libcoap coap-client command lines as they are (-m, -e, -T, -w)', async () => {
    expect((await cli(['-m', 'put', '-e', 'libcoap style', '-T', 'cafe', `${base}/style`])).code).toBe(0);
    const r = await cli(['-m', 'get', '-w', '-v', '-T', 'cafe', `${base}/style`]);
    expect(r.stdout).toBe('libcoap style\n');
    expect(r.stderr).toContain('token 63616665'); // libcoap's -T is the text's bytes
    expect((await cli([`${base}/`])).stdout).toContain('This is a test server made with iotwire');
  });

  it('repeats a request with -G', async () => {
    const r = await cli(['get', '-G', '2', '-w', `${base}/time?ticks`], { timeoutMs: 15_000 });
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(2);
  });

  it('exits 3 when no coaps server answers, naming the DTLS handshake', async () => {
    const closed = await freePort('udp');
    const r = await cli(['get', '-k', 'secretPSK', '-u', 'me', '-B', '1', `coaps://127.0.0.1:${closed}/`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`no DTLS handshake with 127.0.0.1:${closed} within 1000 ms`);
  });

  it('GET prints the payload and exits 0', async () => {
    const r = await cli(['get', `${base}/`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('This is a test server made with iotwire');
  });

  it('exits 1 on an error response and says which', async () => {
    const r = await cli(['get', `${base}/nothing`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('4.04 Not Found');
  });

  it('-v prints the code and options to stderr', async () => {
    const r = await cli(['get', '-v', `${base}/time`]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^2\.05 Content \(ACK, MID \d+, token [0-9a-f]+\)/);
    expect(r.stderr).toContain('Max-Age: 0x01');
  });

  it('PUT, POST, GET, DELETE on a dynamic resource', async () => {
    expect((await cli(['put', '-e', 'first', `${base}/thing`])).code).toBe(0);
    expect((await cli(['get', `${base}/thing`])).stdout).toBe('first');
    const file = join(dir, 'body.json');
    writeFileSync(file, '{"x":1}');
    expect((await cli(['put', '-f', file, '-t', 'application/json', `${base}/thing`])).code).toBe(0);
    expect((await cli(['get', `${base}/thing`])).stdout).toBe('{"x":1}');
    expect((await cli(['post', '-e', 'p', `${base}/other`])).code).toBe(0);
    expect((await cli(['delete', `${base}/thing`])).code).toBe(0);
    expect((await cli(['get', `${base}/thing`])).code).toBe(1);
  });

  it('uploads from stdin in Block1 blocks and downloads in Block2 blocks', async () => {
    const body = 'z'.repeat(3000);
    expect((await cli(['put', '-b', '64', '-f', '-', `${base}/bulk`], { stdin: body })).code).toBe(0);
    const out = join(dir, 'out.bin');
    expect((await cli(['get', '-b', '64', '-o', out, `${base}/bulk`])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(body);
    expect((await cli(['get', `${base}/example_data`])).stdout).toBe(exampleData().toString());
  });

  it('observes for -s seconds, one notification per line', async () => {
    const r = await cli(['observe', '-s', '3', `${base}/time`], { timeoutMs: 15_000 });
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const l of lines) expect(l).toMatch(/^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d$/);
  });

  it('discovers and pings', async () => {
    const d = await cli(['discover', base]);
    expect(d.code).toBe(0);
    expect(d.stdout.split('\n')).toContain('</time>;if="clock";rt="ticks";title="Internal Clock";ct=0;obs');
    const p = await cli(['ping', base]);
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/^pong from coap:\/\/127\.0\.0\.1:\d+\/: \d+ ms/);
  });

  it('exits 3 with a clear message for an unreachable server or an unknown host', async () => {
    const closed = await freePort('udp');
    const r = await cli(['get', '-B', '1', `coap://127.0.0.1:${closed}/`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/no response.*is the server running and reachable\?/);
    const dns = await cli(['get', 'coap://no-such-host.invalid/']);
    expect(dns.code).toBe(3);
    expect(dns.stderr).toContain('unknown host');
  });

  it('serve exits 3 when its port is taken', async () => {
    const r = await cli(['serve', '-A', '127.0.0.1', '-p', base.split(':').at(-1) as string]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('cannot serve on 127.0.0.1');
  });
});
