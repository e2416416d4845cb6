import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PeerProcess, startOpensslDtlsClient, startOpensslDtlsServer } from '@iotwire/interop';
import { type PeerAddress, UdpEndpoint } from '@iotwire/udp';
import { afterEach, describe, expect, it } from 'vitest';
import { DtlsClient, type DtlsClientOptions, DtlsServer, type DtlsServerOptions, type DtlsSessionInfo } from '../src/index.js';
import { next } from './helpers/pair.js';
import { makePki } from './helpers/pki.js';

/**
 * Interop with OpenSSL's DTLS 1.2 (`openssl s_server` / `s_client -dtls1_2`), both directions.
 * OpenSSL wants the PSK in hex: 73656372657450534b = "secretPSK".
 */
const pki = makePki();
const PSK_HEX = '73656372657450534b';
const psk = { identity: 'Client_identity', key: 'secretPSK' };
const serverPsk = { keys: { Client_identity: 'secretPSK' } };

/** A UDP endpoint that remembers the largest datagram it sent (to prove fragmentation to the MTU). */
function measuredEndpoint(): UdpEndpoint & { maxSent: number } {
  const ep = new UdpEndpoint({ host: '127.0.0.1' }) as UdpEndpoint & { maxSent: number };
  ep.maxSent = 0;
  const send = ep.send.bind(ep);
  ep.send = (d, p) => {
    ep.maxSent = Math.max(ep.maxSent, d.length);
    return send(d, p);
  };
  return ep;
}

interface Case {
  name: string;
  suite: string;
  ours: DtlsServerOptions & DtlsClientOptions;
  /** s_server arguments (after -dtls1_2 -accept). */
  sServer: string[];
  /** s_client arguments. */
  sClient: string[];
  mtu?: number;
  mutual?: boolean;
}

const certServer = { cert: pki.pem(pki.serverCert), key: pki.pem(pki.serverKey) };
const cases: Case[] = [
  {
    name: 'PSK-AES128-CCM8',
    suite: 'TLS_PSK_WITH_AES_128_CCM_8',
    ours: { psk: serverPsk } as never,
    sServer: ['-nocert', '-psk', PSK_HEX, '-cipher', 'PSK-AES128-CCM8'],
    sClient: ['-psk', PSK_HEX, '-psk_identity', 'Client_identity', '-cipher', 'PSK-AES128-CCM8'],
  },
  {
    name: 'ECDHE-ECDSA-AES128-CCM8',
    suite: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8',
    ours: { ...certServer, ca: pki.pem(pki.caCert) },
    sServer: ['-cert', pki.serverCert, '-key', pki.serverKey, '-cipher', 'ECDHE-ECDSA-AES128-CCM8', '-curves', 'prime256v1'],
    sClient: ['-CAfile', pki.caCert, '-cipher', 'ECDHE-ECDSA-AES128-CCM8', '-curves', 'prime256v1'],
  },
  {
    name: 'ECDHE-ECDSA-AES128-GCM-SHA256',
    suite: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256',
    ours: { ...certServer, ca: pki.pem(pki.caCert) },
    sServer: ['-cert', pki.serverCert, '-key', pki.serverKey, '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
    sClient: ['-CAfile', pki.caCert, '-cipher', 'ECDHE-ECDSA-AES128-GCM-SHA256'],
  },
  {
    name: 'mutual certificate authentication (ECDHE-ECDSA-AES128-CCM8)',
    suite: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8',
    mutual: true,
    ours: { ...certServer, ca: pki.pem(pki.caCert), requestClientCert: true, clientCa: pki.pem(pki.caCert) },
    sServer: ['-cert', pki.serverCert, '-key', pki.serverKey, '-cipher', 'ECDHE-ECDSA-AES128-CCM8', '-Verify', '1', '-CAfile', pki.caCert],
    sClient: ['-cert', pki.clientCert, '-key', pki.clientKey, '-CAfile', pki.caCert, '-cipher', 'ECDHE-ECDSA-AES128-CCM8'],
  },
  {
    name: 'MTU 500 forcing handshake fragmentation (mutual, intermediate CA)',
    suite: 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8',
    mutual: true,
    mtu: 500,
    ours: {
      cert: pki.pem(pki.serverIntCert) + pki.pem(pki.intCert),
      key: pki.pem(pki.serverKey),
      ca: pki.pem(pki.caCert),
      requestClientCert: true,
      clientCa: pki.pem(pki.caCert),
    },
    sServer: [
      '-cert',
      pki.serverIntCert,
      '-cert_chain',
      pki.intCert,
      '-key',
      pki.serverKey,
      '-cipher',
      'ECDHE-ECDSA-AES128-CCM8',
      '-Verify',
      '1',
      '-CAfile',
      pki.caCert,
      '-mtu',
      '500',
    ],
    sClient: ['-cert', pki.clientCert, '-key', pki.clientKey, '-CAfile', pki.caCert, '-cipher', 'ECDHE-ECDSA-AES128-CCM8', '-mtu', '500'],
  },
  // Beyond the required set: the other suites, X25519 and ECDHE_PSK.
  ...(
    [
      ['PSK-AES128-GCM-SHA256', 'TLS_PSK_WITH_AES_128_GCM_SHA256', 'psk'],
      ['PSK-AES128-CCM', 'TLS_PSK_WITH_AES_128_CCM', 'psk'],
      ['ECDHE-ECDSA-AES128-CCM', 'TLS_ECDHE_ECDSA_WITH_AES_128_CCM', 'cert'],
      ['PSK-CHACHA20-POLY1305', 'TLS_PSK_WITH_CHACHA20_POLY1305_SHA256', 'psk'],
      ['ECDHE-PSK-CHACHA20-POLY1305', 'TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256', 'psk'],
      ['ECDHE-ECDSA-CHACHA20-POLY1305', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', 'cert'],
    ] as const
  ).map(
    ([openssl, suite, kind]): Case => ({
      name: `${openssl}${suite.includes('ECDHE') ? ' on X25519' : ''}`,
      suite,
      ours:
        kind === 'psk'
          ? ({ psk: serverPsk, groups: ['x25519', 'secp256r1'] } as never)
          : { ...certServer, ca: pki.pem(pki.caCert), groups: ['x25519', 'secp256r1'] },
      sServer: [
        ...(kind === 'psk' ? ['-nocert', '-psk', PSK_HEX] : ['-cert', pki.serverCert, '-key', pki.serverKey]),
        '-cipher',
        openssl,
        '-curves',
        'X25519:prime256v1',
      ],
      sClient: [
        ...(kind === 'psk' ? ['-psk', PSK_HEX, '-psk_identity', 'Client_identity'] : ['-CAfile', pki.caCert]),
        '-cipher',
        openssl,
        '-curves',
        'X25519:prime256v1',
      ],
    }),
  ),
];

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function server(options: DtlsServerOptions): DtlsServer {
  const s = new DtlsServer({ host: '127.0.0.1', port: 0, ...options });
  cleanup.push(() => s.close());
  return s;
}
function client(options: DtlsClientOptions): DtlsClient {
  const c = new DtlsClient({ host: '127.0.0.1', ...options });
  cleanup.push(() => c.close());
  return c;
}
async function sClient(port: number, args: string[]): Promise<PeerProcess> {
  const p = await startOpensslDtlsClient(port, args);
  cleanup.push(() => p.stop());
  return p;
}
async function sServer(args: string[]) {
  const p = await startOpensslDtlsServer({ args: ['-listen', ...args] });
  cleanup.push(() => p.stop());
  return p;
}
const at = (port: number): PeerAddress => ({ address: '127.0.0.1', port, family: 'IPv4' });

describe('openssl s_client -dtls1_2 → DtlsServer', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const endpoint = measuredEndpoint();
      cleanup.push(() => endpoint.close());
      const { ca: _ca, ...serverOptions } = c.ours;
      const s = server({ ...(serverOptions as DtlsServerOptions), endpoint, mtu: c.mtu });
      const established = next<[DtlsSessionInfo]>(s, 'session');
      const addr = await s.bind();
      const peer = await sClient(addr.port, c.sClient);
      await peer.waitForOutput(/Cipher is /, 10_000);
      const session = (await established)[0];
      expect(session.cipherSuite).toBe(c.suite);
      if (!c.suite.includes('PSK')) expect(peer.output).toMatch(/Verify return code: 0 \(ok\)/);
      if (c.mutual) expect(session.peerCertificates?.[0]?.subject).toBe('CN=client');
      if (c.mtu) expect(endpoint.maxSent).toBeLessThanOrEqual(c.mtu);
      // Application data both ways.
      const got = next<[Buffer]>(s, 'message');
      peer.write('from-openssl\n');
      expect((await got)[0].toString()).toBe('from-openssl\n');
      await s.send(Buffer.from('from-iotwire\n'), session.peer);
      await peer.waitForOutput(/from-iotwire/);
    });
  }

  it('resumes an OpenSSL session (-sess_out / -sess_in) with an abbreviated handshake', async () => {
    const s = server({ psk: serverPsk });
    const addr = await s.bind();
    const sess = join(pki.dir, `sess-${process.pid}-${Date.now()}.pem`);
    const args = ['-psk', PSK_HEX, '-psk_identity', 'Client_identity', '-cipher', 'PSK-AES128-CCM8'];
    const first = await sClient(addr.port, [...args, '-sess_out', sess]);
    await first.waitForOutput(/New, TLSv1.2, Cipher is PSK-AES128-CCM8/);
    const closed = next(s, 'sessionClose');
    first.write('Q\n'); // s_client sends close_notify and exits
    expect((await closed)[1]).toBe('close_notify');
    const resumed = next<[DtlsSessionInfo]>(s, 'session');
    const second = await sClient(addr.port, [...args, '-sess_in', sess]);
    await second.waitForOutput(/Reused, TLSv1.2, Cipher is PSK-AES128-CCM8/);
    expect((await resumed)[0].resumed).toBe(true);
  });

  it('writes the same key log line as OpenSSL (-keylogfile)', async () => {
    const ours = join(pki.dir, `ours-${process.pid}-${Date.now()}.keylog`);
    const theirs = join(pki.dir, `theirs-${process.pid}-${Date.now()}.keylog`);
    const s = server({ ...certServer, keyLogFile: ours });
    const established = next(s, 'session');
    const addr = await s.bind();
    const peer = await sClient(addr.port, ['-CAfile', pki.caCert, '-keylogfile', theirs]);
    await peer.waitForOutput(/Cipher is /);
    await established;
    await s.close();
    await peer.stop();
    const line = readFileSync(ours, 'utf8');
    expect(line).toMatch(/^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}\n$/);
    expect(readFileSync(theirs, 'utf8').toLowerCase()).toContain(line.trim().toLowerCase());
  });

  it('refuses renegotiation (s_client "R") with a no_renegotiation alert and keeps serving', async () => {
    const s = server({ psk: serverPsk });
    const addr = await s.bind();
    const peer = await sClient(addr.port, ['-psk', PSK_HEX, '-psk_identity', 'Client_identity']);
    await peer.waitForOutput(/Cipher is /);
    peer.write('R\n');
    await peer.waitForOutput(/no renegotiation/);
    expect(s.stats.renegotiationsRefused).toBe(1);
    expect(s.stats.alertsSent).toBeGreaterThanOrEqual(1);
  });
});

describe('DtlsClient → openssl s_server -dtls1_2 -listen', () => {
  for (const c of cases) {
    it(c.name, async () => {
      const peer = await sServer(c.sServer);
      const endpoint = measuredEndpoint();
      cleanup.push(() => endpoint.close());
      const clientOptions: DtlsClientOptions = c.ours.psk
        ? { psk, groups: c.ours.groups }
        : { ca: c.ours.ca, groups: c.ours.groups, ...(c.mutual ? { cert: pki.pem(pki.clientCert), key: pki.pem(pki.clientKey) } : {}) };
      const cl = client({ ...clientOptions, cipherSuites: c.suite, endpoint, mtu: c.mtu });
      const session = await cl.connect(at(peer.port));
      expect(session.cipherSuite).toBe(c.suite);
      await peer.process.waitForOutput(/CIPHER is /);
      if (c.mutual) await peer.process.waitForOutput(/subject=CN = client/);
      if (c.mtu) expect(endpoint.maxSent).toBeLessThanOrEqual(c.mtu);
      await cl.send(Buffer.from('from-iotwire\n'), at(peer.port));
      await peer.process.waitForOutput(/from-iotwire/);
      const got = next<[Buffer]>(cl, 'message');
      peer.process.write('from-openssl\n');
      expect((await got)[0].toString()).toBe('from-openssl\n');
    });
  }

  it('resumes its session with s_server', async () => {
    const peer = await sServer(['-nocert', '-psk', PSK_HEX, '-cipher', 'PSK-AES128-CCM8']);
    const cl = client({ psk });
    const first = await cl.connect(at(peer.port));
    expect(first.resumed).toBe(false);
    cl.closeSession(at(peer.port));
    await peer.process.waitForOutput(/(DONE|shutting down|CONNECTION CLOSED)/);
    const second = await cl.connect(at(peer.port));
    expect(second).toMatchObject({ resumed: true, sessionId: first.sessionId });
    await cl.send(Buffer.from('resumed\n'), at(peer.port));
    await peer.process.waitForOutput(/resumed/);
  });

  it('refuses a HelloRequest (s_server "r") with no_renegotiation', async () => {
    const peer = await sServer(['-nocert', '-psk', PSK_HEX]);
    const cl = client({ psk });
    await cl.connect(at(peer.port));
    peer.process.write('r\n');
    for (let i = 0; i < 200 && cl.stats.renegotiationsRefused === 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(cl.stats.renegotiationsRefused).toBe(1);
  });
});
