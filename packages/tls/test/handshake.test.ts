import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type CertificateVerdict,
  clientCertificateVerdict,
  clientTlsOptions,
  createSecureContext,
  createTestPki,
  generateSelfSigned,
  keyLogWriter,
  NO_CERTIFICATE,
  type ServerTlsInput,
  serverCertificateVerdict,
  serverTlsOptions,
} from '../src/index.js';
import { tempDir } from './fixtures.js';

const pki = createTestPki({ clients: ['device-1'] });
const tmp = tempDir();
afterAll(() => tmp.cleanup());

async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

/** Runs one handshake against a tls.Server built from serverTlsOptions; returns the server-side verdict. */
async function mutualTls(
  input: ServerTlsInput,
  client: tls.ConnectionOptions,
): Promise<{ verdict: CertificateVerdict; cipher: tls.CipherNameAndProtocol }> {
  const server = tls.createServer(serverTlsOptions(input));
  const port = await listen(server);
  try {
    const serverSide = new Promise<{ verdict: CertificateVerdict; cipher: tls.CipherNameAndProtocol }>((resolve, reject) => {
      server.once('secureConnection', (s) => {
        resolve({ verdict: clientCertificateVerdict(s), cipher: s.getCipher() });
        s.destroy();
      });
      server.once('tlsClientError', reject);
    });
    const c = tls.connect({ host: '127.0.0.1', port, ca: pki.ca.cert, ...client });
    c.on('error', () => {});
    const r = await serverSide;
    c.destroy();
    return r;
  } finally {
    server.close();
  }
}

describe('client-certificate verdicts over real handshakes', () => {
  const base: ServerTlsInput = { certificate: pki.server, authenticateClients: true, trustedCaCerts: pki.ca.cert };

  it('accepts a client certificate issued by the trusted CA', async () => {
    const { verdict } = await mutualTls(base, { cert: pki.clients['device-1']!.cert, key: pki.clients['device-1']!.key });
    expect(verdict.status).toBe('OK');
    expect(verdict.accept).toBe(true);
    expect(verdict.subject).toBe('CN=device-1');
    expect(verdict.issuer).toBe('CN=iotwire test CA');
    expect(verdict.certEncoded).toContain('BEGIN CERTIFICATE');
  });

  it('pre-rejects a certificate from another CA, with OpenSSL’s reason', async () => {
    const { verdict } = await mutualTls(base, { cert: pki.rogue.client.cert, key: pki.rogue.client.key });
    expect(verdict.accept).toBe(false);
    expect(verdict.status).toMatch(/UNABLE_TO_(GET_ISSUER_CERT|VERIFY_LEAF_SIGNATURE)/);
    expect(verdict.subject).toBe('CN=rogue');
  });

  it('reports a client that sends no certificate', async () => {
    const { verdict } = await mutualTls(base, {});
    expect(verdict).toMatchObject({ status: NO_CERTIFICATE, accept: false, subject: '' });
  });

  it('works on a hand-built server TLSSocket (the upgrade path servers use)', async () => {
    const context = createSecureContext({ ...base }, { side: 'server', protocols: 3072 });
    const server = net.createServer();
    const port = await listen(server);
    const verdict = new Promise<CertificateVerdict>((resolve) => {
      server.once('connection', (raw) => {
        const s = new tls.TLSSocket(raw, { isServer: true, secureContext: context, requestCert: true, rejectUnauthorized: false });
        s.once('secure', () => {
          resolve(clientCertificateVerdict(s));
          s.destroy();
        });
      });
    });
    const c = tls.connect({ host: '127.0.0.1', port, ca: pki.ca.cert, cert: pki.rogue.client.cert, key: pki.rogue.client.key });
    c.on('error', () => {});
    const v = await verdict;
    expect(v.accept).toBe(false);
    expect(v.status).not.toBe('OK');
    c.destroy();
    server.close();
  });

  it('negotiates only the enabled cipher suites and protocols', async () => {
    const { cipher } = await mutualTls(
      { ...base, authenticateClients: false, cipherSuites: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384' },
      {},
    );
    expect(cipher.standardName).toBe('TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384');
    expect(cipher.version).toBe('TLSv1.2');
    // A TLS 1.3-only client cannot talk to the TLS 1.2-only default server.
    const server = tls.createServer(serverTlsOptions(base));
    const port = await listen(server);
    const err = await new Promise<Error>((resolve) => {
      const c = tls.connect({ host: '127.0.0.1', port, ca: pki.ca.cert, minVersion: 'TLSv1.3' });
      c.once('error', resolve);
    });
    expect(String(err)).toMatch(/protocol version|alert/i);
    server.close();
  });
});

describe('server-certificate verdicts (client side)', () => {
  const selfSigned = generateSelfSigned({ keyType: 'ec', commonName: 'self' });

  async function connectTo(
    cert: { cert: string; key: string },
    client: Parameters<typeof clientTlsOptions>[0],
    pin?: string,
  ): Promise<CertificateVerdict> {
    const server = tls.createServer(serverTlsOptions({ certificate: cert }), (s) => s.on('error', () => {}));
    const port = await listen(server);
    try {
      return await new Promise<CertificateVerdict>((resolve, reject) => {
        const c = tls.connect({ host: '127.0.0.1', port, ...clientTlsOptions(client) }, () => {
          resolve(serverCertificateVerdict(c, pin));
          c.destroy();
        });
        c.once('error', reject);
      });
    } finally {
      server.close();
    }
  }

  it('trusts a server certificate from a trusted CA', async () => {
    const v = await connectTo(pki.server, { trustedCaCerts: pki.ca.cert, servername: 'localhost' });
    expect(v).toMatchObject({ status: 'OK', accept: true, subject: 'CN=localhost' });
  });

  it('reports an untrusted self-signed certificate, and accepts it when pinned', async () => {
    const fp = (await connectTo(selfSigned, {})).certificate!.fingerprint256;
    const unpinned = await connectTo(selfSigned, {});
    expect(unpinned).toMatchObject({ status: 'DEPTH_ZERO_SELF_SIGNED_CERT', accept: false });
    const pinned = await connectTo(selfSigned, {}, fp);
    expect(pinned).toMatchObject({ status: 'DEPTH_ZERO_SELF_SIGNED_CERT', accept: true });
    const wrongPin = await connectTo(selfSigned, {}, pki.ca.cert);
    expect(wrongPin.accept).toBe(false);
  });

  it('reports a host-name mismatch', async () => {
    const v = await connectTo(pki.server, { trustedCaCerts: pki.ca.cert, servername: 'not-the-server.example' });
    expect(v).toMatchObject({ status: 'ERR_TLS_CERT_ALTNAME_INVALID', accept: false });
  });
});

describe('key log', () => {
  it('appends NSS key-log lines', async () => {
    const file = tmp.path('keys.log');
    const server = tls.createServer(serverTlsOptions({ certificate: pki.server }), (s) => s.end());
    server.on('keylog', keyLogWriter(file));
    const port = await listen(server);
    await new Promise<void>((resolve, reject) => {
      const c = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => c.end());
      c.on('close', () => resolve());
      c.on('error', reject);
    });
    server.close();
    // The write stream flushes asynchronously.
    for (let i = 0; i < 100 && !/CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}/.test(safeRead(file)); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(safeRead(file)).toMatch(/^CLIENT_RANDOM [0-9a-f]{64} [0-9a-f]{96}$/m);
  });
});

function safeRead(f: string): string {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return '';
  }
}
