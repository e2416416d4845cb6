// coaps at the CoAP level with libcoap 4.3.1 (Debian libcoap3-bin), in both directions:
// its coap-client against our CoapServer({ dtls }), and our CoapClient({ dtls }) against its
// coap-server. PSK and certificates with the OpenSSL builds, raw public keys with the GnuTLS
// builds (libcoap's OpenSSL 3.0 build has no RPK). libcoap serves DTLS on its port + 1.
import { createPrivateKey } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DtlsServer, spkiOf } from '@iotwire/dtls';
import { makeTestPki, startLibcoapServer } from '@iotwire/interop';
import { afterEach, describe, expect, it } from 'vitest';
import { CoapClient, type CoapDtlsClientOptions, type CoapDtlsServerOptions, CoapServer, type ObserverInfo } from '../src/index.js';
import { coapClient } from './libcoap-tools.js';

const pki = makeTestPki();
const pem = (f: string) => readFileSync(f, 'utf8');
const spki = (keyFile: string) => spkiOf(createPrivateKey(pem(keyFile)));
const dir = mkdtempSync(join(tmpdir(), 'iotwire-coaps-interop-'));

interface Mode {
  name: string;
  flavor: 'openssl' | 'gnutls';
  suite: string;
  ourServer: CoapDtlsServerOptions;
  clientArgs: string[];
  ourClient: CoapDtlsClientOptions;
  serverArgs: string[];
  /** Host to put in our client's URI (the certificate must name it). */
  host: string;
}

const modes: Mode[] = [
  {
    name: 'PSK',
    flavor: 'openssl',
    suite: 'TLS_PSK_WITH_AES_128_CCM_8',
    ourServer: { psk: { hint: 'CoAP', keys: { Client_identity: 'secretPSK' } } },
    clientArgs: ['-u', 'Client_identity', '-k', 'secretPSK'],
    ourClient: { psk: { identity: 'Client_identity', key: 'secretPSK' } },
    serverArgs: ['-k', 'secretPSK'],
    host: '127.0.0.1',
  },
  {
    name: 'certificates (mutual)',
    flavor: 'openssl',
    suite: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8',
    ourServer: { cert: pem(pki.serverCert), key: pem(pki.serverKey), requestClientCert: true, clientCa: pem(pki.caCert) },
    clientArgs: ['-C', pki.caCert, '-c', pki.clientCert, '-j', pki.clientKey],
    ourClient: { ca: pem(pki.caCert), cert: pem(pki.clientCert), key: pem(pki.clientKey) },
    serverArgs: ['-c', pki.serverCert, '-j', pki.serverKey, '-C', pki.caCert],
    host: 'localhost',
  },
  {
    name: 'raw public keys (mutual)',
    flavor: 'gnutls',
    suite: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8',
    ourServer: { key: pem(pki.rpkKey), useRawPublicKey: true, requestClientCert: true, trustedPeerKeys: [spki(pki.rpkKey2)] },
    clientArgs: ['-M', pki.rpkKey2],
    ourClient: { key: pem(pki.rpkKey2), useRawPublicKey: true, trustedPeerKeys: [spki(pki.rpkKey)] },
    serverArgs: ['-M', pki.rpkKey],
    host: '127.0.0.1',
  },
];

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** 3000 bytes a libcoap client must fetch in Block2 blocks. */
const BIG = Buffer.from(Array.from({ length: 300 }, (_, i) => `line ${String(i).padStart(4, '0')}`).join(''));

describe('libcoap coap-client → CoapServer({ dtls })', () => {
  for (const m of modes) {
    it(`${m.name}: GET, PUT, block-wise both ways and observe with coap-client-${m.flavor}`, async () => {
      const server = new CoapServer({ host: '127.0.0.1', port: 0, dtls: m.ourServer });
      cleanup.push(() => server.close());
      let note = Buffer.from('empty');
      let tick = 0;
      server.resource('/hello', { get: (req) => ({ payload: `hello over ${req.uri.slice(0, 5)}`, contentFormat: 0 }) });
      server.resource('/big', { get: () => ({ payload: BIG, contentFormat: 0 }) });
      server.resource('/note', {
        get: () => ({ payload: note }),
        put: (req) => {
          note = Buffer.from(req.payload);
          return { code: '2.04' };
        },
      });
      server.resource('/tick', { observable: true, get: () => ({ payload: `tick ${tick}`, contentFormat: 0 }) });
      const registered: ObserverInfo[] = [];
      server.on('register', (o) => registered.push(o));
      const { port } = await server.listen();
      const uri = (path: string) => `coaps://127.0.0.1:${port}${path}`;
      const run = (...args: string[]) => coapClient([...m.clientArgs, '-B', '10', ...args], { flavor: m.flavor });

      const get = await run('-m', 'get', uri('/hello'));
      expect(get.code).toBe(0);
      expect(get.stdout).toContain('hello over coaps');
      expect((server.endpoint as DtlsServer).stats.handshakes.completed).toBeGreaterThanOrEqual(1);

      const put = await run('-m', 'put', '-e', `from libcoap ${m.flavor}`, uri('/note'));
      expect(put.code).toBe(0);
      expect(note.toString()).toBe(`from libcoap ${m.flavor}`);

      const blockGet = await run('-m', 'get', '-b', '64', uri('/big'));
      expect(blockGet.code).toBe(0);
      expect(blockGet.stdout.trim()).toBe(BIG.toString());

      const file = join(dir, `upload-${m.flavor}-${m.name.length}.txt`);
      writeFileSync(file, BIG);
      const blockPut = await run('-m', 'put', '-b', '64', '-f', file, uri('/note'));
      expect(blockPut.code).toBe(0);
      expect(note.equals(BIG)).toBe(true);

      const ticker = setInterval(() => {
        tick++;
        server.notify('/tick');
      }, 200);
      try {
        const obs = await run('-m', 'get', '-s', '2', '-w', uri('/tick'));
        expect(obs.code).toBe(0);
        const lines = obs.stdout.split('\n').filter((l) => l.startsWith('tick'));
        expect(lines.length).toBeGreaterThanOrEqual(3);
        expect(registered.map((r) => r.path)).toEqual(['/tick']);
      } finally {
        clearInterval(ticker);
      }
      const sessions = (server.endpoint as DtlsServer).stats.handshakes;
      expect(sessions.failed).toBe(0);
    }, 30_000);
  }
});

describe('CoapClient({ dtls }) → libcoap coap-server', () => {
  for (const m of modes) {
    it(`${m.name}: GET, PUT, block-wise both ways and observe against coap-server-${m.flavor}`, async () => {
      const peer = await startLibcoapServer({ flavor: m.flavor, args: [...m.serverArgs, '-d', '5'] });
      cleanup.push(() => peer.stop());
      const client = new CoapClient({ dtls: m.ourClient, timeoutMs: 15_000 });
      cleanup.push(() => client.close());
      const suites: string[] = [];
      client.on('sslStatus', (s) => {
        if (s.startsWith('handshake complete')) suites.push(s);
      });
      const base = `coaps://${m.host}:${peer.dtlsPort}`;

      const index = await client.get(`${base}/`);
      expect(index.code).toBe('2.05');
      expect(index.text()).toContain('libcoap');
      expect(index.securityContext).toBeDefined();
      expect(suites).toEqual([`handshake complete: ${m.suite}`]);

      expect((await client.put(`${base}/note`, 'from iotwire')).code).toBe('2.01'); // -d 5: dynamic resource
      expect((await client.get(`${base}/note`)).text()).toBe('from iotwire');

      const body = BIG.subarray(0, 2000);
      expect((await client.put(`${base}/example_data`, body, { blockSize: 64 })).ok).toBe(true);
      const back = await client.get(`${base}/example_data`, { blockSize: 64 });
      expect(back.payload.equals(body)).toBe(true);

      const seen: string[] = [];
      const obs = await client.observe(`${base}/time`, (n) => {
        seen.push(n.response.text());
      });
      expect(obs.accepted).toBe(true);
      await expect.poll(() => seen.length, { timeout: 8000 }).toBeGreaterThanOrEqual(2); // /time notifies every second
      await obs.cancel();
      expect(obs.endReason).toBe('cancelled');
      expect(suites).toHaveLength(1); // every request went over the one session
    }, 30_000);
  }
});
