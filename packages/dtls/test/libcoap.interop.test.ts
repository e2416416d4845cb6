import { createPrivateKey } from 'node:crypto';
import { requireBinary, startLibcoapServer, startPeer } from '@iotwire/interop';
import { afterEach, describe, expect, it } from 'vitest';
import { DtlsClient, type DtlsClientOptions, DtlsServer, type DtlsServerOptions, type DtlsSessionInfo, spkiOf } from '../src/index.js';
import { coapContentReply, coapGet, parseCoap } from './helpers/coap.js';
import { next } from './helpers/pair.js';
import { makePki } from './helpers/pki.js';

/**
 * DTLS-level interop with libcoap 4.3.1 (Debian libcoap3-bin): its coaps client against our
 * DtlsServer (with a hand-coded CoAP responder), and our DtlsClient sending a raw CoAP GET to its
 * coaps server. PSK and certificates with the OpenSSL build; raw public keys with the GnuTLS build
 * (the OpenSSL 3.0 build has no RPK).
 */
const pki = makePki();
const rpkServerSpki = spkiOf(createPrivateKey(pki.pem(pki.rpkKey)));
const rpkClientSpki = spkiOf(createPrivateKey(pki.pem(pki.rpkKey2)));

interface Mode {
  name: string;
  flavor: 'openssl' | 'gnutls';
  suite: string;
  ourServer: DtlsServerOptions;
  coapClientArgs: string[];
  ourClient: DtlsClientOptions;
  coapServerArgs: string[];
  /** What our server should learn about the libcoap client. */
  expectClient?: (s: DtlsSessionInfo) => void;
}

const modes: Mode[] = [
  {
    name: 'PSK',
    flavor: 'openssl',
    suite: 'TLS_PSK_WITH_AES_128_CCM_8',
    ourServer: { psk: { hint: 'CoAP', keys: { Client_identity: 'secretPSK' } } },
    coapClientArgs: ['-u', 'Client_identity', '-k', 'secretPSK'],
    ourClient: { psk: { identity: 'Client_identity', key: 'secretPSK' } },
    coapServerArgs: ['-k', 'secretPSK'],
    expectClient: (s) => expect(s.pskIdentity?.toString()).toBe('Client_identity'),
  },
  {
    name: 'certificates (mutual)',
    flavor: 'openssl',
    suite: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8',
    ourServer: { cert: pki.pem(pki.serverCert), key: pki.pem(pki.serverKey), requestClientCert: true, clientCa: pki.pem(pki.caCert) },
    coapClientArgs: ['-C', pki.caCert, '-c', pki.clientCert, '-j', pki.clientKey],
    ourClient: { ca: pki.pem(pki.caCert), cert: pki.pem(pki.clientCert), key: pki.pem(pki.clientKey) },
    coapServerArgs: ['-c', pki.serverCert, '-j', pki.serverKey, '-C', pki.caCert],
    expectClient: (s) => expect(s.peerCertificates?.[0]?.subject).toBe('CN=client'),
  },
  {
    name: 'raw public keys (mutual)',
    flavor: 'gnutls',
    suite: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8',
    ourServer: { key: pki.pem(pki.rpkKey), useRawPublicKey: true, requestClientCert: true, trustedPeerKeys: [rpkClientSpki] },
    coapClientArgs: ['-M', pki.rpkKey2],
    ourClient: { key: pki.pem(pki.rpkKey2), useRawPublicKey: true, trustedPeerKeys: [rpkServerSpki] },
    coapServerArgs: ['-M', pki.rpkKey],
    expectClient: (s) => expect(s.peerRawPublicKeyIdentity).toMatch(/^ni:\/\/\/sha-256;/),
  },
  {
    name: 'PSK (GnuTLS build)',
    flavor: 'gnutls',
    suite: 'TLS_PSK_WITH_AES_128_CCM_8',
    ourServer: { psk: { hint: 'CoAP', keys: { Client_identity: 'secretPSK' } } },
    coapClientArgs: ['-u', 'Client_identity', '-k', 'secretPSK'],
    ourClient: { psk: { identity: 'Client_identity', key: 'secretPSK' } },
    coapServerArgs: ['-k', 'secretPSK'],
  },
];

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

describe('coap-client (libcoap) → DtlsServer with a minimal CoAP responder', () => {
  for (const m of modes) {
    it(`${m.name} with coap-client-${m.flavor}`, async () => {
      const server = new DtlsServer({ host: '127.0.0.1', port: 0, ...m.ourServer });
      cleanup.push(() => server.close());
      const requests: number[] = [];
      server.on('message', (d, peer) => {
        const req = parseCoap(d);
        if (!req || req.code === 0) return;
        requests.push(req.code);
        server.send(coapContentReply(req, 'hello-coaps'), peer).catch(() => {});
      });
      const established = next<[DtlsSessionInfo]>(server, 'session');
      const addr = await server.bind();
      const cl = await startPeer({
        name: `coap-client-${m.flavor}`,
        command: requireBinary(`coap-client-${m.flavor}`),
        args: [...m.coapClientArgs, '-B', '10', '-m', 'get', `coaps://127.0.0.1:${addr.port}/`],
        ready: () => true,
      });
      cleanup.push(() => cl.stop());
      const [session] = await established;
      expect(session.cipherSuite).toBe(m.suite);
      m.expectClient?.(session);
      expect(await cl.exited()).toBe(0);
      expect(cl.output).toContain('hello-coaps');
      expect(requests).toEqual([0x01]); // one GET
    });
  }
});

describe('DtlsClient sending a raw CoAP GET → coap-server (libcoap)', () => {
  for (const m of modes) {
    it(`${m.name} with coap-server-${m.flavor}`, async () => {
      const peer = await startLibcoapServer({ flavor: m.flavor, args: m.coapServerArgs });
      cleanup.push(() => peer.stop());
      const client = new DtlsClient({ host: '127.0.0.1', ...m.ourClient });
      cleanup.push(() => client.close());
      const status: string[] = [];
      client.on('sslStatus', (s) => status.push(s));
      const to = { address: '127.0.0.1', port: peer.dtlsPort, family: 'IPv4' as const };
      const got = next<[Buffer, unknown, { securityContext: unknown }]>(client, 'message');
      await client.send(coapGet(0x1234, 0x5a), to);
      const [data, , info] = await got;
      const reply = parseCoap(data);
      expect(reply).toMatchObject({ type: 2, code: 0x45, messageId: 0x1234 }); // piggybacked ACK, 2.05 Content
      expect(reply?.token).toEqual(Buffer.from([0x5a]));
      expect(reply?.payload.length).toBeGreaterThan(0);
      const session = client.session(to)!;
      expect(session.cipherSuite).toBe(m.suite);
      expect(info.securityContext).toBe(session.securityContext);
      if (m.name.includes('mutual')) expect(status).toContain('CertificateRequest received');
    });
  }
});
