// coaps:// end to end over real sockets: the client and server create their DTLS endpoints from
// `dtls` options (PSK, certificates, raw public keys), with the seed's SSL events surfaced.
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { DtlsError, type DtlsServer, spkiOf } from '@iotwire/dtls';
import { makeTestPki } from '@iotwire/interop';
import { afterEach, describe, expect, it } from 'vitest';
import { CoapClient, type CoapClientOptions, CoapError, CoapServer, type CoapServerOptions, type ObserverInfo } from '../src/index.js';

const PSK_SERVER = { psk: { keys: { Client_identity: 'secretPSK' } } };
const PSK_CLIENT = { psk: { identity: 'Client_identity', key: 'secretPSK' } };

let open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.reverse()) await o.close();
  open = [];
});

async function secureServer(options: CoapServerOptions) {
  const server = new CoapServer({ host: '127.0.0.1', port: 0, ...options });
  server.resource('/hello', {
    get: (req) => ({ payload: `hello ${req.uri.split(':')[0]} ${req.securityContext === undefined ? 'plain' : 'secure'}` }),
  });
  open.push(server);
  const { port } = await server.listen();
  return { server, port };
}

function client(options: CoapClientOptions): CoapClient {
  const c = new CoapClient({ bindAddress: '127.0.0.1', timeoutMs: 10_000, ...options });
  open.push(c);
  return c;
}

describe('coaps:// with PSK', () => {
  it('GET, PUT, block-wise both ways and observe over one DTLS session per client', async () => {
    const { server, port } = await secureServer({ dtls: PSK_SERVER });
    let stored = Buffer.alloc(0);
    server.resource('/store', {
      observable: true,
      get: () => ({ payload: stored }),
      put: (req) => {
        stored = Buffer.from(req.payload);
        server.notify('/store');
        return { code: '2.04' };
      },
    });
    const c = client({ dtls: PSK_CLIENT });
    const base = `coaps://127.0.0.1:${port}`;
    const r = await c.get(`${base}/hello`);
    expect(r.text()).toBe('hello coaps secure');
    expect(r.securityContext).toBeDefined();
    const big = Buffer.alloc(5000);
    for (let i = 0; i < big.length; i++) big[i] = i & 0xff;
    expect((await c.put(`${base}/store`, big, { blockSize: 256 })).code).toBe('2.04');
    expect((await c.get(`${base}/store`)).payload.equals(big)).toBe(true);
    const seen: number[] = [];
    const obs = await c.observe(`${base}/store`, (n) => {
      seen.push(n.response.payload.length);
    });
    await expect.poll(() => seen).toEqual([5000]); // the rest of a block-wise notification is fetched after observe() resolves
    await c.put(`${base}/store`, 'tiny');
    await expect.poll(() => seen).toEqual([5000, 4]);
    await obs.cancel();
    const dtls = server.endpoint as DtlsServer;
    expect(dtls.sessionCount).toBe(1);
    expect(dtls.sessions()[0]?.cipherSuite).toBe('TLS_PSK_WITH_AES_128_CCM_8');
    expect(c.dtlsSessions().map((x) => [x.cipherSuite, x.pskIdentity?.toString()])).toEqual([
      ['TLS_PSK_WITH_AES_128_CCM_8', 'Client_identity'],
    ]);
    expect(server.stats.backpressureDrops).toBe(0);
  });

  it('rejects with ERR_COAP_DTLS (cause: the DtlsError) when the server refuses the handshake', async () => {
    const { port } = await secureServer({ dtls: PSK_SERVER });
    const c = client({ dtls: { psk: { identity: 'stranger', key: 'secretPSK' } } });
    const err = await c.get(`coaps://127.0.0.1:${port}/hello`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CoapError);
    expect(err).toMatchObject({ code: 'ERR_COAP_DTLS' });
    expect((err as CoapError).cause).toBeInstanceOf(DtlsError);
    expect((err as Error).message).toMatch(/DTLS handshake with 127\.0\.0\.1:\d+ failed/);
  });

  it('times a handshake out with the request timeout when nobody answers, or the key is wrong', async () => {
    const plain = await secureServer({}); // plain CoAP: a ClientHello gets nothing back
    const c = client({ dtls: PSK_CLIENT, timeoutMs: 1500 });
    const err = await c.get(`coaps://127.0.0.1:${plain.port}/hello`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_COAP_TIMEOUT', message: expect.stringMatching(/no DTLS handshake with 127\.0\.0\.1/) });
    // A wrong key: the server cannot authenticate our Finished and drops it silently (RFC 6347 §4.1.2.7).
    const secure = await secureServer({ dtls: PSK_SERVER });
    const wrong = client({ dtls: { psk: { identity: 'Client_identity', key: 'wrong' } }, timeoutMs: 1500 });
    await expect(wrong.get(`coaps://127.0.0.1:${secure.port}/hello`)).rejects.toMatchObject({ code: 'ERR_COAP_TIMEOUT' });
  });

  it('needs DTLS settings for coaps:// and refuses ambiguous options', async () => {
    const c = client({});
    await expect(c.get('coaps://127.0.0.1:1/x')).rejects.toMatchObject({ code: 'ERR_COAP_NO_TRANSPORT' });
    expect(() => new CoapServer({ dtls: PSK_SERVER, endpoint: {} as never })).toThrow(/not both/);
    expect(() => new CoapClient({ dtls: PSK_CLIENT, secureEndpoint: {} as never })).toThrow(/not both/);
  });

  it('defaults to port 5684 on both sides', async () => {
    // A random 127/8 loopback address keeps the fixed port clear of anything else on the machine.
    const host = `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${1 + Math.floor(Math.random() * 250)}`;
    const server = new CoapServer({ host, dtls: PSK_SERVER });
    server.resource('/hello', { get: () => ({ payload: 'hi' }) });
    open.push(server);
    expect((await server.listen()).port).toBe(5684);
    const c = client({ dtls: PSK_CLIENT, bindAddress: undefined });
    expect((await c.get(`coaps://${host}/hello`)).text()).toBe('hi');
  });

  it('works over IPv6 (a DTLS endpoint per address family)', async () => {
    const server = new CoapServer({ host: '::1', port: 0, dtls: PSK_SERVER });
    server.resource('/hello', { get: () => ({ payload: 'hi6' }) });
    open.push(server);
    const { port } = await server.listen();
    const c = client({ dtls: PSK_CLIENT, bindAddress: undefined });
    expect((await c.get(`coaps://[::1]:${port}/hello`)).text()).toBe('hi6');
    expect(c.dtlsSessions()[0]?.peer).toMatchObject({ address: '::1', port, family: 'IPv6' });
  });

  it('ends observations when their session ends, on both sides (RFC 7252 §9.1.1)', async () => {
    const { server, port } = await secureServer({ dtls: PSK_SERVER });
    server.resource('/obs', { observable: true, get: () => ({ payload: 'x' }) });
    const gone: [ObserverInfo, string][] = [];
    server.on('unregistered', (info, reason) => gone.push([info, reason]));
    const c = client({ dtls: PSK_CLIENT });
    const obs = await c.observe(`coaps://127.0.0.1:${port}/obs`, () => {});
    expect(server.observers).toHaveLength(1);
    const dtls = server.endpoint as DtlsServer;
    const peer = dtls.sessions()[0]!.peer;
    dtls.closeSession(peer); // close_notify to the client
    expect(gone.map((g) => g[1])).toEqual(['session-changed']);
    await expect(obs.ended).resolves.toBe('session-closed');
    // The next request opens a new session.
    expect((await c.get(`coaps://127.0.0.1:${port}/hello`)).text()).toBe('hello coaps secure');
    expect(dtls.sessionCount).toBe(1);
  });

  it('bounds the session table (dtls.maxSessions) and expires idle sessions (dtls.idleTimeoutMs)', async () => {
    const { server, port } = await secureServer({ dtls: { ...PSK_SERVER, maxSessions: 1, idleTimeoutMs: 1000 } });
    server.resource('/obs', { observable: true, get: () => ({ payload: 'x' }) });
    const a = client({ dtls: PSK_CLIENT });
    const obs = await a.observe(`coaps://127.0.0.1:${port}/obs`, () => {});
    // A second client takes the only slot: the first session is evicted (close_notify), its observation ends.
    const b = client({ dtls: PSK_CLIENT });
    expect((await b.get(`coaps://127.0.0.1:${port}/hello`)).code).toBe('2.05');
    await expect(obs.ended).resolves.toBe('session-closed');
    expect(server.observers).toHaveLength(0);
    const dtls = server.endpoint as DtlsServer;
    expect(dtls.sessionCount).toBe(1);
    // Then it goes quiet and the idle sweep closes its session too.
    await expect.poll(() => dtls.sessionCount, { timeout: 10_000, interval: 100 }).toBe(0);
    expect(b.dtlsSessions()).toHaveLength(0); // the client saw the close_notify
  });

  it('forwards sslStatus to listeners, and stops when they go', async () => {
    const { server, port } = await secureServer({ dtls: PSK_SERVER });
    const c = client({ dtls: PSK_CLIENT });
    const lines: string[] = [];
    const onStatus = (m: string) => lines.push(m);
    c.on('sslStatus', onStatus);
    await c.get(`coaps://127.0.0.1:${port}/hello`);
    expect(lines.some((l) => l.includes('handshake complete'))).toBe(true);
    const seen = lines.length;
    c.off('sslStatus', onStatus);
    const dtls = server.endpoint as DtlsServer;
    dtls.closeSession(dtls.sessions()[0]!.peer);
    await expect.poll(() => c.dtlsSessions().length).toBe(0);
    await c.get(`coaps://127.0.0.1:${port}/hello`); // a new (resumed) handshake nobody listens to
    expect(lines).toHaveLength(seen);
  });
});

describe('coaps:// with certificates', () => {
  const pki = makeTestPki();
  const read = (f: string) => readFileSync(f, 'utf8');

  it('validates the server certificate against the URI host (RFC 7252 §9.1.3.3)', async () => {
    const { port } = await secureServer({ dtls: { cert: read(pki.serverCert), key: read(pki.serverKey) } });
    const c = client({ dtls: { ca: read(pki.caCert) } });
    const verdicts: string[] = [];
    c.on('sslServerAuthentication', (v) => verdicts.push(`${v.subject}: ${v.status} ${v.accept}`));
    expect((await c.get(`coaps://localhost:${port}/hello`)).text()).toBe('hello coaps secure');
    expect(verdicts).toEqual(['CN=localhost: OK true']);
    const byIp = client({ dtls: { ca: read(pki.caCert) } });
    expect((await byIp.get(`coaps://127.0.0.1:${port}/hello`)).text()).toBe('hello coaps secure');
  });

  it('fails a name mismatch unless the sslServerAuthentication listener accepts it', async () => {
    const { port } = await secureServer({ dtls: { cert: read(pki.otherCert), key: read(pki.otherKey) } });
    const strict = client({ dtls: { ca: read(pki.caCert) } });
    const err = await strict.get(`coaps://127.0.0.1:${port}/hello`).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_COAP_DTLS' });
    const lenient = client({ dtls: { ca: read(pki.caCert) } });
    lenient.on('sslServerAuthentication', (v) => {
      expect(v.statusCode).toBe('HOSTNAME_MISMATCH');
      expect(v.accept).toBe(false);
      v.accept = true; // seed semantics: the application overrides the verdict
    });
    expect((await lenient.get(`coaps://127.0.0.1:${port}/hello`)).text()).toBe('hello coaps secure');
  });

  it('authenticates clients (requestClientCert) and lets sslClientAuthentication refuse one', async () => {
    const { server, port } = await secureServer({
      dtls: { cert: read(pki.serverCert), key: read(pki.serverKey), requestClientCert: true, clientCa: read(pki.caCert) },
    });
    const subjects: string[] = [];
    let refuse = false;
    server.on('sslClientAuthentication', (v) => {
      subjects.push(v.subject);
      if (refuse) v.accept = false;
    });
    const opts = { ca: read(pki.caCert), cert: read(pki.clientCert), key: read(pki.clientKey) };
    expect((await client({ dtls: opts }).get(`coaps://localhost:${port}/hello`)).code).toBe('2.05');
    expect(subjects).toEqual(['CN=client']);
    refuse = true;
    await expect(client({ dtls: opts }).get(`coaps://localhost:${port}/hello`)).rejects.toMatchObject({ code: 'ERR_COAP_DTLS' });
    // Without a client certificate the handshake fails (requireClientCert defaults to true).
    await expect(client({ dtls: { ca: read(pki.caCert) } }).get(`coaps://localhost:${port}/hello`)).rejects.toMatchObject({
      code: 'ERR_COAP_DTLS',
    });
  });

  it('speaks raw public keys (RFC 7250) with trusted-key lists on both sides', async () => {
    const serverKey = read(pki.rpkKey);
    const clientKey = read(pki.rpkKey2);
    const spki = (pem: string) => spkiOf(createPrivateKey(pem));
    const { server, port } = await secureServer({
      dtls: { key: serverKey, useRawPublicKey: true, requestClientCert: true, trustedPeerKeys: [spki(clientKey)] },
    });
    const seen: string[] = [];
    server.on('sslClientAuthentication', (v) => seen.push(`${v.rawPublicKey} ${v.accept}`));
    const c = client({ dtls: { key: clientKey, useRawPublicKey: true, trustedPeerKeys: [spki(serverKey)] } });
    expect((await c.get(`coaps://127.0.0.1:${port}/hello`)).text()).toBe('hello coaps secure');
    expect(seen).toEqual(['true true']);
    expect((server.endpoint as DtlsServer).sessions()[0]?.cipherSuite).toBe('TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8');
  });
});
