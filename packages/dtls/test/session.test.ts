import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type CertificateVerdict,
  CIPHER_SUITES,
  type DtlsError,
  type DtlsSessionInfo,
  rawPublicKeyIdentity,
  spkiOf,
} from '../src/index.js';
import { echo, next, type Pair, pair } from './helpers/pair.js';
import { makePki } from './helpers/pki.js';

const pki = makePki();
const PSK = { identity: 'Client_identity', key: 'secretPSK' };
const serverPsk = { keys: { Client_identity: 'secretPSK' } };
const cert = { cert: pki.pem(pki.serverCert), key: pki.pem(pki.serverKey) };
const ca = pki.pem(pki.caCert);

let open: Pair[] = [];
async function make(...args: Parameters<typeof pair>): Promise<Pair> {
  const p = await pair(...args);
  open.push(p);
  return p;
}
afterEach(async () => {
  for (const p of open) await p.close();
  open = [];
});

describe('handshakes between our client and server, every suite', () => {
  for (const suite of CIPHER_SUITES) {
    for (const group of suite.keyExchange === 'PSK' ? (['secp256r1'] as const) : (['secp256r1', 'x25519'] as const)) {
      it(`${suite.name}${suite.keyExchange === 'PSK' ? '' : ` on ${group}`}`, async () => {
        const { client, addr, server } = await make(
          { psk: serverPsk, ...cert, cipherSuites: suite.name, groups: [group] },
          { psk: PSK, ca, cipherSuites: suite.name, groups: [group, 'secp256r1'] },
        );
        expect(await echo(client, addr, `hi ${suite.name}`)).toBe(`hi ${suite.name}`);
        const s = client.session(addr)!;
        expect(s).toMatchObject({
          version: 'DTLSv1.2',
          cipherSuite: suite.name,
          cipher: suite.cipher,
          keyExchange: suite.keyExchange,
          resumed: false,
          extendedMasterSecret: true,
        });
        if (suite.keyExchange !== 'PSK') expect(s.group).toBe(group);
        expect(s.keyExchangeStrength).toBe(suite.keyExchange === 'PSK' ? 72 : group === 'x25519' ? 255 : 256);
        if (suite.keyExchange !== 'ECDHE_ECDSA') expect(server.sessions()[0]?.pskIdentity?.toString()).toBe('Client_identity');
        if (suite.keyExchange === 'ECDHE_ECDSA') expect(s.peerCertificates?.[0]?.subject).toBe('CN=localhost');
      });
    }
  }
});

describe('PSK mode', () => {
  it('passes the server identity hint to the client callback and supports async lookups', async () => {
    const hints: (string | undefined)[] = [];
    const { client, addr } = await make(
      { psk: { hint: 'CoAP', lookup: async (id) => (id.toString() === 'dev-7' ? Buffer.from('k7') : undefined) } },
      {
        psk: async (hint) => {
          hints.push(hint?.toString());
          return { identity: 'dev-7', key: 'k7' };
        },
      },
    );
    expect(await echo(client, addr, 'x')).toBe('x');
    expect(hints).toEqual(['CoAP']);
    expect(client.session(addr)?.pskIdentityHint?.toString()).toBe('CoAP');
  });

  it('an unknown identity fails with unknown_psk_identity on both sides', async () => {
    const { client, addr, server } = await make({ psk: serverPsk }, { psk: { identity: 'nobody', key: 'x' } });
    const serverErr = next<[DtlsError]>(server, 'handshakeError');
    await expect(client.connect(addr)).rejects.toMatchObject({ code: 'ERR_DTLS_ALERT_RECEIVED', alert: 115 });
    expect((await serverErr)[0]).toMatchObject({ code: 'ERR_DTLS_UNKNOWN_PSK_IDENTITY', alert: 115 });
    expect(server.sessionCount).toBe(0);
    expect(server.stats.handshakes.failed).toBe(1);
  });

  it('a wrong key: the Finished fails authentication, is dropped and counted, and the handshake times out', async () => {
    const { client, addr, server } = await make(
      { psk: serverPsk, handshakeTimeoutMs: 1500 },
      { psk: { identity: 'Client_identity', key: 'wrong' }, retransmit: { initialMs: 200 }, handshakeTimeoutMs: 1500 },
    );
    const serverErr = next<[DtlsError]>(server, 'handshakeError');
    await expect(client.connect(addr)).rejects.toMatchObject({ code: 'ERR_DTLS_HANDSHAKE_TIMEOUT' });
    expect((await serverErr)[0]).toMatchObject({ code: 'ERR_DTLS_HANDSHAKE_TIMEOUT' });
    expect(server.stats.dropped.badMac).toBeGreaterThan(0);
    expect(server.sessionCount).toBe(0);
  });
});

describe('certificate mode (X.509)', () => {
  it('validates the server chain and reports it in sslServerAuthentication', async () => {
    const { client, addr } = await make(cert, { ca, servername: 'localhost' });
    const verdicts: CertificateVerdict[] = [];
    client.on('sslServerAuthentication', (v) => verdicts.push(v));
    await client.connect(addr);
    expect(verdicts).toHaveLength(1);
    const v = verdicts[0]!;
    expect(v).toMatchObject({
      subject: 'CN=localhost',
      issuer: 'CN=iotwire test root',
      status: 'OK',
      statusCode: 'OK',
      accept: true,
      rawPublicKey: false,
    });
    expect(v.certEncoded).toEqual(new X509Certificate(pki.pem(pki.serverCert)).raw);
    expect(v.certEncodedPem).toContain('BEGIN CERTIFICATE');
  });

  it('sends the intermediate and fragments the flight to a small MTU', async () => {
    const chain = pki.pem(pki.serverIntCert) + pki.pem(pki.intCert);
    const { client, addr, server } = await make({ cert: chain, key: pki.pem(pki.serverKey), mtu: 256 }, { ca, mtu: 256 });
    expect(await echo(client, addr, 'fragmented')).toBe('fragmented');
    expect(client.session(addr)?.peerCertificates?.map((c) => c.subject)).toEqual(['CN=localhost', 'CN=iotwire test intermediate']);
    expect(server.stats.recordsOut).toBeGreaterThan(6);
  });

  it('rejects an unknown CA with unknown_ca unless the verdict listener accepts it', async () => {
    const { client, addr, server } = await make(cert, { ca: pki.pem(pki.selfCert) });
    const serverErr = next<[DtlsError]>(server, 'handshakeError');
    await expect(client.connect(addr)).rejects.toMatchObject({ code: 'ERR_DTLS_CERT_REJECTED', alert: 48 });
    expect((await serverErr)[0]).toMatchObject({ code: 'ERR_DTLS_ALERT_RECEIVED', alert: 48 });

    client.on('sslServerAuthentication', (v) => {
      expect(v.accept).toBe(false);
      expect(v.status).toBe('unable to get local issuer certificate');
      // An asynchronous decision: ask someone, then accept.
      v.waitFor(new Promise((r) => setTimeout(r, 20)).then(() => (v.accept = true)));
    });
    expect((await client.connect(addr)).peerCertificates?.[0]?.subject).toBe('CN=localhost');
  });

  it('a rejecting async verdict fails the handshake', async () => {
    const { client, addr } = await make(cert, { ca });
    client.on('sslServerAuthentication', (v) => v.waitFor(Promise.reject(new Error('no'))));
    await expect(client.connect(addr)).rejects.toMatchObject({ code: 'ERR_DTLS_CERT_REJECTED' });
  });

  it('pins a certificate with acceptServerCert (seed SSLAcceptServerCert)', async () => {
    const { client, addr } = await make(
      { cert: pki.pem(pki.selfCert), key: pki.pem(pki.selfKey) },
      { acceptServerCert: pki.pem(pki.selfCert) },
    );
    expect((await client.connect(addr)).peerCertificates?.[0]?.subject).toBe('CN=self');
  });

  it('checks the host name when servername is set, and sends it as SNI', async () => {
    const a = await make(cert, { ca, servername: 'localhost' });
    await a.client.connect(a.addr);
    expect(a.server.sessions()[0]?.servername).toBe('localhost');
    const b = await make(cert, { ca, servername: 'example.org' });
    await expect(b.client.connect(b.addr)).rejects.toMatchObject({ code: 'ERR_DTLS_CERT_REJECTED', message: /host name mismatch/ });
  });

  it('connect(peer, { servername }) sets the name per handshake (SNI, host check, session cache key)', async () => {
    const a = await make(cert, { ca });
    const s = await a.client.connect(a.addr, { servername: 'localhost' });
    expect(s.servername).toBe('localhost');
    expect(a.server.sessions()[0]?.servername).toBe('localhost');
    a.client.closeSession(a.addr);
    // The session is cached under that name: connecting again with it resumes.
    expect((await a.client.connect(a.addr, { servername: 'localhost' })).resumed).toBe(true);
    a.client.closeSession(a.addr);
    a.client.forgetSession(a.addr, 'localhost');
    expect((await a.client.connect(a.addr, { servername: 'localhost' })).resumed).toBe(false);
    const b = await make(cert, { ca });
    await expect(b.client.connect(b.addr, { servername: 'example.org' })).rejects.toMatchObject({
      code: 'ERR_DTLS_CERT_REJECTED',
      message: /host name mismatch/,
    });
  });

  it('mutual authentication: CertificateRequest, client chain validated, sslClientAuthentication', async () => {
    const { client, addr, server } = await make(
      { ...cert, requestClientCert: true, clientCa: ca },
      { ca, cert: pki.pem(pki.clientCert), key: pki.pem(pki.clientKey) },
    );
    const seen = next<[CertificateVerdict]>(server, 'sslClientAuthentication');
    expect(await echo(client, addr, 'mutual')).toBe('mutual');
    const [v] = await seen;
    expect(v).toMatchObject({ subject: 'CN=client', issuer: 'CN=iotwire test root', status: 'OK', accept: true });
    expect(v.connectionId).toBe(`127.0.0.1:${client.address()!.port}`);
    expect(server.sessions()[0]?.peerCertificates?.[0]?.subject).toBe('CN=client');
  });

  it('a client without a certificate fails when one is required, passes when optional', async () => {
    const a = await make({ ...cert, requestClientCert: true, clientCa: ca }, { ca });
    await expect(a.client.connect(a.addr)).rejects.toMatchObject({ code: 'ERR_DTLS_ALERT_RECEIVED', alert: 40 });
    const b = await make({ ...cert, requestClientCert: true, requireClientCert: false, clientCa: ca }, { ca });
    await b.client.connect(b.addr);
    expect(b.server.sessions()[0]?.peerCertificates).toBeUndefined();
  });

  it('honours the configured signature algorithms (a P-256 client key cannot sign sha384 only)', async () => {
    const a = await make(
      { ...cert, requestClientCert: true, clientCa: ca, signatureAlgorithms: 'sha384-ecdsa' },
      { ca, cert: pki.pem(pki.clientCert), key: pki.pem(pki.clientKey) },
    );
    const status: string[] = [];
    a.client.on('sslStatus', (m) => status.push(m));
    await expect(a.client.connect(a.addr)).rejects.toMatchObject({ alert: 40 });
    expect(status).toContain('no suitable client certificate: sending an empty Certificate');
  });

  it('trusts anchors from caDir (seed OpenSSLCADir)', async () => {
    const { client, addr } = await make(cert, { caDir: pki.dir });
    expect((await client.connect(addr)).peerCertificates?.[0]?.subject).toBe('CN=localhost');
  });

  it('a client certificate from an untrusted CA is rejected by the server', async () => {
    const { client, addr, server } = await make(
      { ...cert, requestClientCert: true, clientCa: pki.pem(pki.selfCert) },
      { ca, cert: pki.pem(pki.clientCert), key: pki.pem(pki.clientKey) },
    );
    const err = next<[DtlsError]>(server, 'handshakeError');
    await expect(client.connect(addr)).rejects.toMatchObject({ alert: 48 });
    expect((await err)[0]).toMatchObject({ code: 'ERR_DTLS_CERT_REJECTED' });
  });
});

describe('raw public key mode (RFC 7250)', () => {
  const serverKey = pki.pem(pki.rpkKey);
  const clientKey = pki.pem(pki.rpkKey2);
  const serverSpki = spkiOf(createPrivateKey(serverKey));
  const clientSpki = spkiOf(createPrivateKey(clientKey));

  it('mutual RPK with pinned keys; identities are RFC 6920 names', async () => {
    const { client, addr, server } = await make(
      { key: serverKey, useRawPublicKey: true, requestClientCert: true, trustedPeerKeys: [clientSpki] },
      { key: clientKey, useRawPublicKey: true, trustedPeerKeys: [serverSpki] },
    );
    const sv = next<[CertificateVerdict]>(server, 'sslClientAuthentication');
    expect(await echo(client, addr, 'rpk')).toBe('rpk');
    expect(client.session(addr)?.peerRawPublicKeyIdentity).toBe(rawPublicKeyIdentity(serverSpki));
    const [v] = await sv;
    expect(v).toMatchObject({ rawPublicKey: true, subject: rawPublicKeyIdentity(clientSpki), status: 'OK', chain: [] });
    expect(v.certEncoded).toEqual(clientSpki);
  });

  it('an unknown key reaches the verdict event with accept=false and is refused by default', async () => {
    const { client, addr } = await make({ key: serverKey, useRawPublicKey: true }, { key: clientKey, useRawPublicKey: true });
    await expect(client.connect(addr)).rejects.toMatchObject({ code: 'ERR_DTLS_CERT_REJECTED', alert: 46 });
    client.on('sslServerAuthentication', (v) => {
      expect(v.statusCode).toBe('UNTRUSTED_KEY');
      v.accept = v.subject === rawPublicKeyIdentity(serverSpki);
    });
    await client.connect(addr);
  });

  it('an X.509-only client cannot talk to an RPK-only server (no common certificate type)', async () => {
    const { client, addr } = await make({ key: serverKey, useRawPublicKey: true }, { ca });
    await expect(client.connect(addr)).rejects.toMatchObject({ alert: 43 });
  });
});

describe('session features', () => {
  it('resumes a cached session with an abbreviated handshake (ReuseSSLSession)', async () => {
    const { client, addr, server } = await make({ psk: serverPsk }, { psk: PSK });
    const first = await client.connect(addr);
    expect(first.sessionId).toHaveLength(64);
    const closed = next(server, 'sessionClose');
    client.closeSession(addr);
    await closed;
    const second = await client.connect(addr);
    expect(second).toMatchObject({ resumed: true, sessionId: first.sessionId, cipherSuite: first.cipherSuite });
    expect(second.securityContext).not.toBe(first.securityContext);
    expect(await echo(client, addr, 'again')).toBe('again');
    expect(server.stats.handshakes.resumed).toBe(1);
  });

  it('resumes certificate sessions and keeps the peer identity', async () => {
    const { client, addr } = await make(
      { ...cert, requestClientCert: true, clientCa: ca },
      { ca, cert: pki.pem(pki.clientCert), key: pki.pem(pki.clientKey) },
    );
    await client.connect(addr);
    client.closeSession(addr);
    const again = await client.connect(addr);
    expect(again.resumed).toBe(true);
    expect(again.peerCertificates?.[0]?.subject).toBe('CN=localhost');
  });

  it('without a session cache there is nothing to resume', async () => {
    const { client, addr } = await make({ psk: serverPsk, sessionCache: false }, { psk: PSK });
    expect((await client.connect(addr)).sessionId).toBe('');
    client.closeSession(addr);
    expect((await client.connect(addr)).resumed).toBe(false);
  });

  it('a resumption offer whose EMS status no longer matches gets a full handshake (RFC 7627 §5.3)', async () => {
    const { client, addr, server } = await make({ psk: serverPsk }, { psk: PSK });
    const first = await client.connect(addr);
    client.closeSession(addr);
    // The cached session used EMS; a server that no longer negotiates it must not resume it.
    (server.config as { ems: boolean }).ems = false;
    const s = await client.connect(addr);
    expect(s).toMatchObject({ resumed: false, extendedMasterSecret: false });
    expect(s.sessionId).not.toBe(first.sessionId);
  });

  it('extended master secret can be disabled, or required', async () => {
    const a = await make({ psk: serverPsk }, { psk: PSK, extendedMasterSecret: false });
    expect((await a.client.connect(a.addr)).extendedMasterSecret).toBe(false);
    const b = await make({ psk: serverPsk, requireExtendedMasterSecret: true }, { psk: PSK, extendedMasterSecret: false });
    await expect(b.client.connect(b.addr)).rejects.toMatchObject({ alert: 40 });
  });

  it('fails cleanly when no cipher suite is shared', async () => {
    const { client, addr, server } = await make(cert, { psk: PSK });
    const err = next<[DtlsError]>(server, 'handshakeError');
    await expect(client.connect(addr)).rejects.toMatchObject({ alert: 40 });
    expect((await err)[0]).toMatchObject({ code: 'ERR_DTLS_NO_SHARED_CIPHER' });
  });

  it('close_notify ends the session on both sides', async () => {
    const { client, addr, server } = await make({ psk: serverPsk }, { psk: PSK });
    await client.connect(addr);
    const s = next<[unknown, string]>(server, 'sessionClose');
    const c = next<[unknown, string]>(client, 'sessionClose');
    client.closeSession(addr);
    expect((await s)[1]).toBe('close_notify');
    expect((await c)[1]).toBe('local');
    expect(server.sessionCount).toBe(0);
    const serverSide = next<[DtlsSessionInfo]>(server, 'session');
    await client.connect(addr); // resumed: the client finishes first, the server on our last flight
    await serverSide;
    const back = next<[unknown, string]>(client, 'sessionClose');
    server.closeSession(server.sessions()[0]!.peer);
    expect((await back)[1]).toBe('close_notify');
  });

  it('tags each message with the session-and-epoch security context', async () => {
    const { client, addr, server } = await make({ psk: serverPsk }, { psk: PSK });
    const infos: unknown[] = [];
    server.on('message', (_d, _p, info) => infos.push(info.securityContext));
    await echo(client, addr, 'a');
    const got = next<[Buffer, unknown, { securityContext: unknown }]>(client, 'message');
    await client.send(Buffer.from('b'), addr);
    const ctx = (await got)[2].securityContext;
    const s = client.session(addr)!;
    expect(ctx).toBe(s.securityContext);
    expect(client.securityContextOf(addr)).toBe(s.securityContext);
    expect(infos[0]).toBe(infos[1]);
    expect(infos[0]).toBe(server.sessions()[0]!.securityContext);
    expect(s.securityContext).toMatchObject({ kind: 'dtls', epoch: 1 });
    expect(Object.isFrozen(s.securityContext)).toBe(true);
  });

  it('logs the same NSS key log line on both sides, to the event and the file', async () => {
    const file = join(pki.dir, `keylog-${process.pid}-${Date.now()}.txt`);
    const { client, addr, server } = await make({ psk: serverPsk, keyLogFile: file }, { psk: PSK });
    const lines: string[] = [];
    client.on('keylog', (l) => lines.push(l.toString()));
    server.on('keylog', (l) => lines.push(l.toString()));
    await echo(client, addr, 'k');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(lines[1]);
    expect(lines[0]).toMatch(/^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}\n$/);
    await server.close();
    expect(readFileSync(file, 'utf8')).toBe(lines[0]);
  });

  it('reports progress and, with logPackets, every record through sslStatus', async () => {
    const { client, addr } = await make({ psk: serverPsk }, { psk: PSK, logPackets: true });
    const msgs: string[] = [];
    client.on('sslStatus', (m) => msgs.push(m));
    await client.connect(addr);
    expect(msgs.some((m) => m.startsWith('HelloVerifyRequest received'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('record in: type 22'))).toBe(true);
    expect(msgs.some((m) => m.startsWith('handshake complete'))).toBe(true);
  });

  it('emits session with the negotiated parameters (seed SSLNegotiated*)', async () => {
    const { client, addr, server } = await make({ psk: serverPsk }, { psk: PSK });
    const s = next<[DtlsSessionInfo]>(server, 'session');
    await client.connect(addr);
    expect((await s)[0]).toMatchObject({
      role: 'server',
      cipherSuite: 'TLS_PSK_WITH_AES_128_CCM_8',
      cipherStrength: 128,
      keyExchange: 'PSK',
    });
  });
});
