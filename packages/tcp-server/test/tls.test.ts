import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { CertificateAuthority, type CertificateVerdict, CertStoreType, createPfx, createTestPki, generateSelfSigned } from '@iotwire/tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, TcpServer, TcpServerErrorCode } from '../src/index.js';
import { listen, next, Peer, until } from './helpers.js';

const pki = createTestPki({ clients: ['device-1'] });
const client = pki.clients['device-1']!;
const pfx = createPfx({ cert: pki.server.cert, key: pki.server.key, chain: [pki.ca.cert], password: 'pfx-pass' });

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iotwire-tcp-tls-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function events(s: TcpServer): string[] {
  const log: string[] = [];
  s.on('sslStatus', (id, m) => log.push(`sslStatus ${id} ${m.split(':')[0]}`));
  s.on('connected', (id, code) => log.push(`connected ${id} ${code}`));
  s.on('readyToSend', (id) => log.push(`readyToSend ${id}`));
  s.on('disconnected', (id, code) => log.push(`disconnected ${id} ${code}`));
  s.on('sslClientAuthentication', (v, id) => log.push(`sslClientAuthentication ${id} ${v.status} ${v.accept}`));
  return log;
}

const echo = (s: TcpServer) => s.on('dataIn', (id, d) => s.send(id, d));

describe('implicit TLS', () => {
  it('serves TLS with a certificate from a PFX blob: events in order, negotiated facts', async () => {
    const s = await listen({
      sslStartMode: 'implicit',
      sslCert: { storeType: CertStoreType.PfxBlob, store: pfx, storePassword: 'pfx-pass' },
    });
    expect(s.sslEnabled).toBe(true);
    const log = events(s);
    echo(s);
    const connected = next<[string, number, string, Connection]>(s, 'connected');
    const peer = await Peer.connectTls(s.localPort, { ca: pki.ca.cert, servername: 'localhost', rejectUnauthorized: true });
    const [id, , , conn] = await connected;
    peer.write('over tls');
    await peer.waitFor((t) => t === 'over tls');
    expect(log).toEqual(['sslStatus 1 TLS handshake started', 'sslStatus 1 TLS handshake complete', 'connected 1 0', 'readyToSend 1']);
    expect(conn.encrypted).toBe(true);
    expect(conn.sslNegotiatedVersion).toBe('TLSv1.2'); // the toolkit's server default
    expect(conn.sslNegotiatedCipherSuite).toMatch(/^TLS_ECDHE_ECDSA_WITH_/);
    expect(conn.sslNegotiatedCipher).toBe((peer.socket as tls.TLSSocket).getCipher().name);
    expect(conn.sslNegotiatedCipherStrength).toBeGreaterThanOrEqual(128);
    expect(conn.sslNegotiatedKeyExchange).toBe('ECDHE');
    expect(s.config(`SSLNegotiatedVersion[${id}]`)).toBe('TLSv1.2');
    expect(s.config(`SSLNegotiatedCipherSuite[${id}]`)).toBe(conn.sslNegotiatedCipherSuite);
    // The chain from the PFX is sent: the client verified against the CA only.
    expect((peer.socket as tls.TLSSocket).authorized).toBe(true);
    const gone = next(s, 'disconnected');
    peer.socket.end();
    await gone;
    expect([conn.remoteHost, conn.remotePort]).toEqual(['127.0.0.1', peer.socket.localPort ?? conn.remotePort]);
  });

  it('loads the certificate from a PFX file and enables TLS 1.3 when asked', async () => {
    const file = join(dir, 'server.pfx');
    await import('node:fs/promises').then((fs) => fs.writeFile(file, pfx));
    const s = await listen({
      sslEnabled: true,
      sslCert: { storeType: 'pfxFile', store: file, storePassword: 'pfx-pass', subject: 'CN=localhost' },
      tls: { enabledProtocols: ['TLSv1.2', 'TLSv1.3'] },
    });
    expect(s.sslStartMode).toBe('none'); // sslEnabled with mode none = implicit
    echo(s);
    const connected = next<[string, number, string, Connection]>(s, 'connected');
    const peer = await Peer.connectTls(s.localPort, { ca: pki.ca.cert });
    const [, , , conn] = await connected;
    expect(conn.sslNegotiatedVersion).toBe('TLSv1.3');
    expect(conn.sslNegotiatedCipherSuite).toMatch(/^TLS_AES_|^TLS_CHACHA20/);
    peer.write('v1.3');
    await peer.waitFor((t) => t === 'v1.3');
  });

  it('refuses to start without a usable certificate (272/271/273)', async () => {
    await expect(new TcpServer({ localHost: '127.0.0.1', sslStartMode: 'implicit' }).startListening()).rejects.toMatchObject({ code: 272 });
    await expect(
      new TcpServer({
        localHost: '127.0.0.1',
        sslStartMode: 1,
        sslCert: { storeType: 'pfxBlob', store: pfx, storePassword: 'wrong' },
      }).startListening(),
    ).rejects.toMatchObject({ code: 271 });
    await expect(
      new TcpServer({
        localHost: '127.0.0.1',
        sslStartMode: 1,
        sslCert: { storeType: 'publicKeyBlob', store: pki.server.cert },
      }).startListening(),
    ).rejects.toMatchObject({ code: 272 });
    await expect(
      new TcpServer({
        localHost: '127.0.0.1',
        sslStartMode: 1,
        sslCert: pki.server,
        tls: { cipherSuites: 'TLS_NOT_A_SUITE' },
      }).startListening(),
    ).rejects.toMatchObject({ code: 273 });
  });

  it('stalled handshake: a client that never sends its hello is dropped after DefaultConnectionTimeout with 276', async () => {
    const s = await listen({ sslStartMode: 'implicit', sslCert: pki.server, defaultConnectionTimeout: 0.3 });
    const log = events(s);
    const gone = next<[string, number, string]>(s, 'disconnected');
    const peer = await Peer.connect(s.localPort); // plain TCP, silent
    const [, code, description] = await gone;
    expect(code).toBe(TcpServerErrorCode.HandshakeError);
    expect(description).toMatch(/timed out/);
    expect(log).toEqual(['sslStatus 1 TLS handshake started', 'connected 1 276', 'disconnected 1 276']);
    await peer.closed;
  });

  it('plaintext on a TLS port fails the handshake with 276, other clients unaffected', async () => {
    const s = await listen({ sslStartMode: 'implicit', sslCert: pki.server });
    echo(s);
    const gone = next<[string, number, string]>(s, 'disconnected');
    const plain = await Peer.connect(s.localPort);
    plain.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    const [, code, description] = await gone;
    expect(code).toBe(276);
    expect(description).toMatch(/TLS/);
    const good = await Peer.connectTls(s.localPort, { ca: pki.ca.cert });
    good.write('ok');
    await good.waitFor((t) => t === 'ok');
  });

  it('works over IPv6 (::1) and in raw mode (decrypted chunks to onData)', async () => {
    const chunks: string[] = [];
    const s = await listen({
      localHost: '::1',
      sslStartMode: 'implicit',
      sslCert: pki.server,
      onData: (c, conn) => {
        chunks.push(c.toString());
        conn.write(c);
      },
    });
    const peer = await Peer.connectTls(s.localPort, { host: '::1', ca: pki.ca.cert, servername: 'localhost' });
    peer.write('six');
    await peer.waitFor((t) => t === 'six');
    expect(chunks.join('')).toBe('six');
  });

  it('writes the key log (SSLKeyLogFile)', async () => {
    const file = join(dir, 'keys.log');
    const s = await listen({ sslStartMode: 'implicit', sslCert: pki.server, tls: { keyLogFile: file } });
    echo(s);
    const peer = await Peer.connectTls(s.localPort, { ca: pki.ca.cert });
    peer.write('k');
    await peer.waitFor((t) => t === 'k');
    await until(() => {
      try {
        return /CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}/.test(readFileSync(file, 'utf8'));
      } catch {
        return false;
      }
    });
  });
});

describe('client-certificate authentication (mutual TLS)', () => {
  const mtls = {
    sslStartMode: 'implicit' as const,
    sslCert: pki.server,
    sslAuthenticateClients: true,
    tls: { trustedCaCerts: pki.ca.cert },
  };

  it('accepts a client certificate from the trusted CA', async () => {
    const s = await listen(mtls);
    const log = events(s);
    const verdicts: CertificateVerdict[] = [];
    s.on('sslClientAuthentication', (v) => verdicts.push(v));
    echo(s);
    const connected = next<[string, number, string, Connection]>(s, 'connected');
    const peer = await Peer.connectTls(s.localPort, { ca: pki.ca.cert, cert: client.cert, key: client.key });
    const [, code, , conn] = await connected;
    expect(code).toBe(0);
    expect(verdicts[0]).toMatchObject({ status: 'OK', accept: true, subject: 'CN=device-1', issuer: 'CN=iotwire test CA' });
    expect(verdicts[0]!.certEncodedB.equals(new X509Certificate(client.cert).raw)).toBe(true);
    expect(conn.peerCertificate()?.subject).toBe('CN=device-1');
    expect(log).toContain('sslClientAuthentication 1 OK true');
    peer.write('mutual');
    await peer.waitFor((t) => t === 'mutual');
  });

  it('rejects a certificate from another CA: Connected and Disconnected report 280, the client is cut off', async () => {
    const s = await listen(mtls);
    const log = events(s);
    const gone = next<[string, number, string]>(s, 'disconnected');
    const peer = tls.connect({
      port: s.localPort,
      host: '127.0.0.1',
      ca: pki.ca.cert,
      cert: pki.rogue.client.cert,
      key: pki.rogue.client.key,
    });
    peer.on('error', () => {});
    const [, code, description] = await gone;
    expect(code).toBe(TcpServerErrorCode.CertificateRejected);
    expect(description).toMatch(/^Client certificate rejected: UNABLE_TO_/);
    expect(log.filter((l) => !l.startsWith('sslStatus'))).toEqual([
      expect.stringMatching(/^sslClientAuthentication 1 UNABLE_TO_\S+ false$/),
      'connected 1 280',
      'disconnected 1 280',
    ]);
    await new Promise((r) => peer.once('close', r));
  });

  it('the handler decides: it may accept an unverified certificate (async) and reject a verified one', async () => {
    const s = await listen(mtls);
    const pinnedRogue = new X509Certificate(pki.rogue.client.cert).fingerprint256;
    s.on('sslClientAuthentication', async (v) => {
      await new Promise((r) => setTimeout(r, 10));
      if (v.certificate?.fingerprint256 === pinnedRogue) v.accept = true;
      if (v.subject === 'CN=device-1') v.accept = false;
    });
    echo(s);
    const rogue = await Peer.connectTls(s.localPort, { ca: pki.ca.cert, cert: pki.rogue.client.cert, key: pki.rogue.client.key });
    rogue.write('let in');
    await rogue.waitFor((t) => t === 'let in');
    const gone = next<[string, number]>(s, 'disconnected', (id) => id === '2');
    const good = tls.connect({ port: s.localPort, host: '127.0.0.1', ca: pki.ca.cert, cert: client.cert, key: client.key });
    good.on('error', () => {});
    expect((await gone)[1]).toBe(280);
  });

  it('a client without a certificate gets NO_PEER_CERTIFICATE and accept=false', async () => {
    const s = await listen(mtls);
    const verdict = next<[CertificateVerdict]>(s, 'sslClientAuthentication');
    const peer = tls.connect({ port: s.localPort, host: '127.0.0.1', ca: pki.ca.cert });
    peer.on('error', () => {});
    const [v] = await verdict;
    expect(v).toMatchObject({ status: 'NO_PEER_CERTIFICATE', accept: false, subject: '', certEncoded: '' });
    expect((await next<[string, number]>(s, 'disconnected'))[1]).toBe(280);
  });
});

describe('explicit TLS (StartSSL)', () => {
  /** A STARTTLS exchange: the client sends the command (plus injected bytes), reads "OK", then starts TLS. */
  async function starttls(s: TcpServer, inject: string): Promise<tls.TLSSocket> {
    const raw = net.connect({ port: s.localPort, host: '127.0.0.1' });
    await new Promise((r) => raw.once('connect', r));
    raw.write(`STARTTLS\r\n${inject}`);
    await new Promise<void>((resolve) => {
      let got = '';
      const onData = (d: Buffer) => {
        got += d.toString();
        if (got.includes('OK\r\n')) {
          raw.removeListener('data', onData);
          resolve();
        }
      };
      raw.on('data', onData);
    });
    return await new Promise<tls.TLSSocket>((resolve, reject) => {
      const t = tls.connect({ socket: raw, ca: pki.ca.cert, servername: 'localhost' }, () => resolve(t));
      t.once('error', reject);
    });
  }

  it('upgrades at the command boundary; bytes injected after the command never become TLS data', async () => {
    const s = await listen({ sslStartMode: 'explicit', sslCert: pki.server, defaultEol: '\r\n' });
    const log = events(s);
    const lines: string[] = [];
    const statuses: string[] = [];
    s.on('sslStatus', (_id, m) => statuses.push(m));
    s.on('dataIn', (id, d, _eol, conn) => {
      lines.push(`${conn.encrypted ? 'tls' : 'plain'}:${d}`);
      if (d.toString() === 'STARTTLS') {
        s.sendLine(id, 'OK');
        void s.startSSL(id);
      } else if (conn.encrypted) {
        s.sendLine(id, `echo ${d}`);
      }
    });
    const t = await starttls(s, 'INJECTED\r\n');
    t.write('secret\r\n');
    await new Promise<void>((resolve) => t.on('data', (d) => d.toString().includes('echo secret') && resolve()));
    expect(lines).toEqual(['plain:STARTTLS', 'tls:secret']);
    expect(statuses).toContain('Discarded 10 plaintext bytes received before the TLS handshake');
    expect(s.connections.get('1')!.discardedBeforeTls).toBe(10);
    // Connected fires a second time once TLS is up.
    expect(log.filter((l) => l.startsWith('connected'))).toEqual(['connected 1 0', 'connected 1 0']);
    expect(s.connections.get('1')!.sslNegotiatedVersion).toBe('TLSv1.2');
    t.destroy();
  });

  it('a failed StartSSL handshake rejects, reports 276 and closes', async () => {
    const s = await listen({ sslStartMode: 'explicit', sslCert: pki.server, defaultEol: '\n' });
    let result: Promise<void> | undefined;
    s.on('dataIn', (id, d) => {
      if (d.toString() === 'STARTTLS') {
        s.sendLine(id, 'OK');
        result = s.startSSL(id);
      }
    });
    const codes: number[] = [];
    s.on('connected', (_id, code) => codes.push(code));
    const peer = await Peer.connect(s.localPort);
    peer.write('STARTTLS\n');
    await peer.waitFor((t) => t.includes('OK'));
    peer.write('this is not a ClientHello\n');
    const [, code] = await next<[string, number]>(s, 'disconnected');
    expect(code).toBe(276);
    await expect(result).rejects.toMatchObject({ code: 276 });
    expect(codes).toEqual([0, 276]);
    await expect(s.startSSL('1')).rejects.toMatchObject({ code: 126 });
  });

  it('StartSSL twice is refused', async () => {
    const s = await listen({ sslStartMode: 'explicit', sslCert: pki.server, defaultEol: '\n' });
    const p = new Promise<unknown>((resolve) => {
      s.on('dataIn', (id) => {
        void s.startSSL(id).catch(() => {});
        s.startSSL(id).then(resolve, resolve);
      });
    });
    const peer = await Peer.connect(s.localPort);
    peer.write('go\n');
    expect(await p).toMatchObject({ code: TcpServerErrorCode.InvalidArgument });
  });
});

describe('SSLConnectionRequest', () => {
  const rsaCa = CertificateAuthority.create({ keyType: 'rsa', keySize: 2048 });
  const rsaServer = rsaCa.issue({ keyType: 'rsa', keySize: 2048, usage: 'server' });
  const ecServer = pki.server;

  it('picks the certificate per connection from what the client offers', async () => {
    const s = await listen({ sslStartMode: 'implicit', sslCert: rsaServer });
    const offers: string[] = [];
    s.on('sslConnectionRequest', (r) => {
      offers.push(r.supportedSignatureAlgs);
      expect(r.serverName).toBe('localhost');
      expect(r.supportedCipherSuites).toContain('TLS_');
      if (!r.supportedSignatureAlgs.includes('rsa')) r.certificate = ecServer;
    });
    echo(s);
    const ecdsaOnly = await Peer.connectTls(s.localPort, {
      ca: [pki.ca.cert, rsaCa.cert],
      servername: 'localhost',
      sigalgs: 'ecdsa_secp256r1_sha256',
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256',
    });
    expect((ecdsaOnly.socket as tls.TLSSocket).getPeerX509Certificate()?.publicKey.asymmetricKeyType).toBe('ec');
    const rsa = await Peer.connectTls(s.localPort, { ca: [pki.ca.cert, rsaCa.cert], servername: 'localhost' });
    expect((rsa.socket as tls.TLSSocket).getPeerX509Certificate()?.publicKey.asymmetricKeyType).toBe('rsa');
    rsa.write('still works');
    await rsa.waitFor((t) => t === 'still works');
    expect(offers[0]).toBe('ecdsa_secp256r1_sha256');
  });

  it('may refuse the handshake, and garbage instead of a ClientHello is a 276', async () => {
    const s = await listen({ sslStartMode: 'implicit', sslCert: ecServer });
    s.on('sslConnectionRequest', async (r) => {
      await Promise.resolve();
      r.accept = r.serverName !== 'blocked.example';
    });
    const gone = next<[string, number]>(s, 'disconnected');
    const blocked = tls.connect({ port: s.localPort, host: '127.0.0.1', servername: 'blocked.example', rejectUnauthorized: false });
    blocked.on('error', () => {});
    expect((await gone)[1]).toBe(276);
    const gone2 = next<[string, number, string]>(s, 'disconnected');
    const plain = await Peer.connect(s.localPort);
    plain.write('\x16\x09\x09garbage');
    const [, code, description] = await gone2;
    expect(code).toBe(276);
    expect(description).toMatch(/ClientHello/);
  });
});

describe('TLS settings while listening', () => {
  it('a new certificate applies to new handshakes; a bad one is refused at once', async () => {
    const s = await listen({ sslStartMode: 'implicit', sslCert: pki.server });
    const other = generateSelfSigned({ keyType: 'ec', commonName: 'rotated' });
    s.sslCert = other;
    const peer = await Peer.connectTls(s.localPort, {});
    expect((peer.socket as tls.TLSSocket).getPeerX509Certificate()?.subject).toBe('CN=rotated');
    expect(() => (s.sslCert = { storeType: 'pfxBlob', store: pfx, storePassword: 'bad' })).toThrow(expect.objectContaining({ code: 271 }));
  });
});
