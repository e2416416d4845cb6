// libcoap against the CLI, both ways: coap-client-notls → `iotwire-coap serve`, and
// `iotwire-coap get|put|observe` → coap-server-notls.
import { freePort, type LibcoapPeer, startLibcoapServer } from '@iotwire/interop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exampleData, INDEX_TEXT } from '../src/index.js';
import { cli, libcoapClient, serve } from './bin-helpers.js';

const coapClient = (args: string[]) => libcoapClient('notls', args);

describe('coap-client-notls → iotwire-coap serve', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  let base: string;
  beforeAll(async () => {
    const port = await freePort('udp');
    server = await serve(['-A', '127.0.0.1', '-p', String(port), '-d', '3']);
    base = `coap://127.0.0.1:${port}`;
  });
  afterAll(() => server.stop());

  it('GET / and /.well-known/core', async () => {
    // coap-client ends its output with a newline of its own.
    expect((await coapClient(['-B', '5', `${base}/`])).stdout.replace(/\n$/, '')).toBe(INDEX_TEXT);
    const wk = await coapClient(['-B', '5', `${base}/.well-known/core`]);
    expect(wk.stdout).toContain('</time>;if="clock";rt="ticks";title="Internal Clock";ct=0;obs');
    expect(wk.stdout).toContain('</example_data>;title="Example Data";ct=0;obs');
  });

  it('GET /example_data block-wise', async () => {
    const r = await coapClient(['-B', '5', '-b', '128', `${base}/example_data`]);
    expect(r.stdout.replace(/\n$/, '')).toBe(exampleData().toString());
  });

  it('PUT creates, DELETE removes a dynamic resource', async () => {
    expect((await coapClient(['-B', '5', '-m', 'put', '-e', 'from libcoap', `${base}/dyn`])).code).toBe(0);
    expect((await coapClient(['-B', '5', `${base}/dyn`])).stdout.replace(/\n$/, '')).toBe('from libcoap');
    await coapClient(['-B', '5', '-m', 'delete', `${base}/dyn`]);
    expect((await coapClient(['-B', '5', '-v', '6', `${base}/dyn`])).stdout).toMatch(/4\.04/);
  });

  it('observes /time', async () => {
    const r = await coapClient(['-B', '5', '-s', '3', `${base}/time`]);
    expect((r.stdout.match(/[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d/g) ?? []).length).toBeGreaterThanOrEqual(3);
  });
});

describe('iotwire-coap → coap-server-notls', () => {
  let peer: LibcoapPeer;
  let base: string;
  beforeAll(async () => {
    peer = await startLibcoapServer({ args: ['-d', '5'] });
    base = `coap://127.0.0.1:${peer.port}`;
  });
  afterAll(() => peer.stop());

  it('get, put, delete, discover, observe', async () => {
    expect((await cli(['get', `${base}/`])).stdout).toContain('libcoap');
    expect((await cli(['get', `${base}/example_data`])).stdout).toMatch(/^a123456789b123456789/);
    expect((await cli(['put', '-e', 'cli', `${base}/made-by-cli`])).code).toBe(0);
    expect((await cli(['get', `${base}/made-by-cli`])).stdout).toBe('cli');
    expect((await cli(['delete', `${base}/made-by-cli`])).code).toBe(0);
    expect((await cli(['discover', base])).stdout).toContain('</time>');
    const obs = await cli(['observe', '-s', '3', `${base}/time`]);
    expect(obs.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(2);
  });
});
