// coaps:// from the command line, against real peers: the built `iotwire-coap` bin as client
// and server, libcoap's coap-client/coap-server (OpenSSL build for PSK and certificates, GnuTLS
// build for raw public keys), in every direction that matters to a user.
import { freePort, makeTestPki, startLibcoapServer } from '@iotwire/interop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INDEX_TEXT } from '../src/index.js';
import { cli, libcoapClient, serve } from './bin-helpers.js';

const pki = makeTestPki();
const PSK = ['-k', 'secretPSK', '-u', 'Client_identity'];

/** The coap:// and coaps:// ports `serve` printed. */
function ports(output: string): { coap: number; coaps: number } {
  const coap = /coap:\/\/[^ ]+:(\d+)\//.exec(output);
  const coaps = /coaps:\/\/[^ ]+:(\d+)\//.exec(output);
  if (!coap || !coaps) throw new Error(`no coap/coaps URLs in: ${output}`);
  return { coap: Number(coap[1]), coaps: Number(coaps[1]) };
}

describe('iotwire-coap serve -k (PSK): coap on PORT, coaps on PORT+1', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  let secure: string;
  let plain: string;
  beforeAll(async () => {
    const port = await freePort('udp', { count: 2 });
    server = await serve(['-A', '127.0.0.1', '-p', String(port), '-d', '5', '-k', 'secretPSK', '-v']);
    const p = ports(server.output());
    expect(p).toEqual({ coap: port, coaps: port + 1 });
    secure = `coaps://127.0.0.1:${p.coaps}`;
    plain = `coap://127.0.0.1:${p.coap}`;
  });
  afterAll(async () => {
    expect(await server.stop()).toBe(0);
  });

  it('our client: GET, PUT then GET, block-wise, observe; plain coap on the other port shares the state', async () => {
    const get = await cli(['get', ...PSK, `${secure}/`]);
    expect([get.code, get.stdout]).toEqual([0, INDEX_TEXT]);
    expect((await cli(['put', ...PSK, '-e', 'secret note', `${secure}/note`])).code).toBe(0);
    expect((await cli(['get', `${plain}/note`])).stdout).toBe('secret note'); // one site, two endpoints
    const big = 'x'.repeat(2500);
    expect((await cli(['put', ...PSK, '-b', '128', '-f', '-', `${secure}/big`], { stdin: big })).code).toBe(0);
    expect((await cli(['get', ...PSK, '-b', '64', `${secure}/big`])).stdout).toBe(big);
    const obs = await cli(['get', ...PSK, '-s', '2', `${secure}/time`], { timeoutMs: 15_000 });
    expect(obs.code).toBe(0);
    expect(obs.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(2);
    // The server logged the DTLS sessions (-v).
    expect(server.output()).toMatch(/DTLS session with 127\.0\.0\.1:\d+: TLS_PSK_WITH_AES_128_CCM_8/);
  });

  it('libcoap coap-client-openssl: GET, PUT and observe', async () => {
    const args = ['-u', 'Client_identity', '-k', 'secretPSK', '-B', '10'];
    const get = await libcoapClient('openssl', [...args, '-m', 'get', `${secure}/`]);
    expect([get.code, get.stdout.replace(/\n$/, '')]).toEqual([0, INDEX_TEXT]);
    expect((await libcoapClient('openssl', [...args, '-m', 'put', '-e', 'from libcoap', `${secure}/lib`])).code).toBe(0);
    expect((await cli(['get', ...PSK, `${secure}/lib`])).stdout).toBe('from libcoap');
    const obs = await libcoapClient('openssl', [...args, '-s', '2', '-w', `${secure}/time`]);
    expect(obs.code).toBe(0);
    expect(obs.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(2);
  });

  it('a wrong key fails with a DTLS message and exit 3 (the server drops what it cannot authenticate)', async () => {
    const r = await cli(['get', '-k', 'wrongKey', '-u', 'Client_identity', '-B', '2', `${secure}/`]);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /no DTLS handshake with 127\.0\.0\.1:\d+ within 2000 ms \(is a coaps server running there, and are the key or certificates right\?\)/,
    );
  });
});

describe('iotwire-coap client → libcoap coap-server', () => {
  it('PSK against coap-server-openssl -k: GET, PUT, observe, and the libcoap form with -m', async () => {
    const peer = await startLibcoapServer({ flavor: 'openssl', args: ['-k', 'secretPSK', '-d', '3'] });
    try {
      const base = `coaps://127.0.0.1:${peer.dtlsPort}`;
      const get = await cli(['get', ...PSK, '-v', `${base}/`]);
      expect(get.code).toBe(0);
      expect(get.stdout).toContain('libcoap');
      expect(get.stderr).toMatch(/^2\.05 Content/m);
      expect((await cli([...PSK, '-m', 'put', '-e', '42', `${base}/answer`])).code).toBe(0);
      expect((await cli([...PSK, '-m', 'get', `${base}/answer`])).stdout).toBe('42');
      const obs = await cli(['observe', ...PSK, '-s', '2', `${base}/time`], { timeoutMs: 15_000 });
      expect(obs.code).toBe(0);
      expect(obs.stdout.trim().split('\n').length).toBeGreaterThanOrEqual(2);
    } finally {
      await peer.stop();
    }
  });

  it('certificates against coap-server-openssl -c/-j/-C: verified with -C, refused on a name mismatch, -n skips the check', async () => {
    const peer = await startLibcoapServer({
      flavor: 'openssl',
      args: ['-c', pki.serverCert, '-j', pki.serverKey, '-C', pki.caCert],
    });
    try {
      const creds = ['-c', pki.clientCert, '-j', pki.clientKey, '-C', pki.caCert];
      const ok = await cli(['get', ...creds, '-v', `coaps://localhost:${peer.dtlsPort}/`]);
      expect(ok.code).toBe(0);
      expect(ok.stdout).toContain('libcoap');
      expect(ok.stderr).toContain('server certificate CN=localhost: OK');
      // The certificate names localhost and 127.0.0.1, not this name: refused when verifying (-C).
      const other = await startLibcoapServer({ flavor: 'openssl', args: ['-c', pki.otherCert, '-j', pki.otherKey, '-C', pki.caCert] });
      try {
        const bad = await cli(['get', ...creds, '-B', '5', `coaps://127.0.0.1:${other.dtlsPort}/`]);
        expect(bad.code).toBe(3);
        expect(bad.stderr).toMatch(/DTLS handshake with 127\.0\.0\.1:\d+ failed: .*(host name|mismatch)/i);
        const lax = await cli(['get', ...creds, '-n', `coaps://127.0.0.1:${other.dtlsPort}/`]);
        expect(lax.code).toBe(0);
      } finally {
        await other.stop();
      }
    } finally {
      await peer.stop();
    }
  });

  it('raw public keys against coap-server-gnutls -M', async () => {
    const peer = await startLibcoapServer({ flavor: 'gnutls', args: ['-M', pki.rpkKey] });
    try {
      const r = await cli(['get', '-M', pki.rpkKey2, '-v', `coaps://127.0.0.1:${peer.dtlsPort}/`]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain('libcoap');
      expect(r.stderr).toMatch(/server raw public key ni:\/\/\/sha-256;/);
    } finally {
      await peer.stop();
    }
  });
});

describe('libcoap coap-client → iotwire-coap serve with certificates and raw public keys', () => {
  it('certificates: coap-client-openssl with -C checks our certificate, we check its certificate', async () => {
    const port = await freePort('udp', { count: 2 });
    const server = await serve(['-A', '127.0.0.1', '-p', String(port), '-c', pki.serverCert, '-j', pki.serverKey, '-C', pki.caCert, '-v']);
    try {
      const args = ['-c', pki.clientCert, '-j', pki.clientKey, '-C', pki.caCert, '-B', '10'];
      const r = await libcoapClient('openssl', [...args, '-m', 'get', `coaps://127.0.0.1:${port + 1}/`]);
      expect(r.code).toBe(0);
      expect(r.stdout.replace(/\n$/, '')).toBe(INDEX_TEXT);
      expect(server.output()).toMatch(/DTLS session with 127\.0\.0\.1:\d+: TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8/);
      // Without a client certificate our server (which asks for one, -C) refuses the handshake.
      const anon = await libcoapClient('openssl', ['-B', '3', '-m', 'get', `coaps://127.0.0.1:${port + 1}/`]);
      expect(anon.stdout).not.toContain('This is a test server');
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });

  it('raw public keys: coap-client-gnutls -M against serve -M', async () => {
    const port = await freePort('udp', { count: 2 });
    const server = await serve(['-A', '127.0.0.1', '-p', String(port), '-M', pki.rpkKey]);
    try {
      const r = await libcoapClient('gnutls', ['-M', pki.rpkKey2, '-B', '10', '-m', 'get', `coaps://127.0.0.1:${port + 1}/time`]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^[A-Z][a-z]{2} \d\d \d\d:\d\d:\d\d/);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});
