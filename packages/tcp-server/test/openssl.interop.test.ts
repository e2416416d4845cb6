import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary, startOpensslTlsClient } from '@iotwire/interop';
import { type CertificateVerdict, createTestPki } from '@iotwire/tls';
import { afterAll, describe, expect, it } from 'vitest';
import type { TcpServer } from '../src/index.js';
import { listen, next } from './helpers.js';

const pki = createTestPki({ clients: ['device-7'] });
const dir = mkdtempSync(join(tmpdir(), 'iotwire-tcp-openssl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const caFile = file('ca.pem', pki.ca.cert);
const clientCert = file('client.pem', pki.clients['device-7']!.cert);
const clientKey = file('client.key', pki.clients['device-7']!.key);
const rogueCert = file('rogue.pem', pki.rogue.client.cert);
const rogueKey = file('rogue.key', pki.rogue.client.key);

// The server's PFX is written by openssl itself (a real peer's file format).
const serverPfx = join(dir, 'server.pfx');
{
  const r = spawnSync(requireBinary('openssl'), [
    'pkcs12',
    '-export',
    '-in',
    file('server.pem', pki.server.cert),
    '-inkey',
    file('server.key', pki.server.key),
    '-certfile',
    caFile,
    '-out',
    serverPfx,
    '-passout',
    'pass:interop',
  ]);
  if (r.status !== 0) throw new Error(`openssl pkcs12 failed: ${r.stderr}`);
}

/** Line-mode echo: answers every line with `echo: <line>`. */
function lineEcho(s: TcpServer): void {
  s.on('dataIn', (id, line) => s.sendLine(id, `echo: ${line}`));
}

const tlsServer = {
  sslStartMode: 'implicit' as const,
  sslCert: { storeType: 'pfxFile' as const, store: serverPfx, storePassword: 'interop' },
  defaultEol: '\n',
};

describe('openssl s_client as the TLS peer', () => {
  it('implicit TLS with the PFX certificate: verified handshake and data both ways', async () => {
    const s = await listen(tlsServer);
    lineEcho(s);
    const peer = await startOpensslTlsClient(s.localPort, ['-CAfile', caFile, '-servername', 'localhost', '-verify_return_error']);
    try {
      await peer.waitForOutput(/Verify return code: 0 \(ok\)/, 15_000);
      expect(peer.output).toMatch(/Protocol\s*: TLSv1\.2/);
      peer.write('hello from openssl\n');
      await peer.waitForOutput(/echo: hello from openssl/, 15_000);
    } finally {
      await peer.stop();
    }
  });

  it('over IPv6 (::1)', async () => {
    const s = await listen({ ...tlsServer, localHost: '::1' });
    lineEcho(s);
    const peer = await startOpensslTlsClient(s.localPort, ['-CAfile', caFile, '-servername', 'localhost'], '::1');
    try {
      await peer.waitForOutput(/Verify return code: 0 \(ok\)/, 15_000);
      peer.write('six\n');
      await peer.waitForOutput(/echo: six/, 15_000);
    } finally {
      await peer.stop();
    }
  });

  it('mutual TLS: accepts the client certificate from the trusted CA', async () => {
    const s = await listen({ ...tlsServer, sslAuthenticateClients: true, tls: { trustedCaCerts: pki.ca.cert } });
    lineEcho(s);
    const verdict = next<[CertificateVerdict]>(s, 'sslClientAuthentication');
    const connected = next<[string, number]>(s, 'connected');
    const peer = await startOpensslTlsClient(s.localPort, [
      '-CAfile',
      caFile,
      '-cert',
      clientCert,
      '-key',
      clientKey,
      '-servername',
      'localhost',
    ]);
    try {
      const [v] = await verdict;
      expect(v).toMatchObject({ status: 'OK', accept: true, subject: 'CN=device-7' });
      expect((await connected)[1]).toBe(0);
      peer.write('mutual\n');
      await peer.waitForOutput(/echo: mutual/, 15_000);
    } finally {
      await peer.stop();
    }
  });

  it('mutual TLS: rejects a certificate from another CA and closes the session', async () => {
    const s = await listen({ ...tlsServer, sslAuthenticateClients: true, tls: { trustedCaCerts: pki.ca.cert } });
    const gone = next<[string, number, string]>(s, 'disconnected');
    const peer = await startOpensslTlsClient(s.localPort, [
      '-CAfile',
      caFile,
      '-cert',
      rogueCert,
      '-key',
      rogueKey,
      '-servername',
      'localhost',
    ]);
    try {
      const [, code, description] = await gone;
      expect(code).toBe(280);
      expect(description).toMatch(/Client certificate rejected/);
      // openssl sees the server end the session.
      await peer.waitForOutput(/closed|errno|error/i, 15_000);
    } finally {
      await peer.stop();
    }
  });

  it('explicit TLS: openssl -starttls smtp upgrades at the STARTTLS command', async () => {
    const s = await listen({
      sslStartMode: 'explicit',
      sslCert: { storeType: 'pfxFile', store: serverPfx, storePassword: 'interop' },
      defaultEol: '\r\n',
    });
    const connectedCodes: number[] = [];
    s.on('connected', (id, code) => {
      connectedCodes.push(code);
      if (connectedCodes.length === 1) s.sendLine(id, '220 iotwire ESMTP ready');
    });
    s.on('dataIn', (id, line, _eol, conn) => {
      const text = line.toString();
      if (!conn.encrypted && /^EHLO /i.test(text)) {
        s.sendLine(id, '250-iotwire');
        s.sendLine(id, '250 STARTTLS');
      } else if (!conn.encrypted && text === 'STARTTLS') {
        s.sendLine(id, '220 Go ahead');
        void s.startSSL(id);
      } else if (conn.encrypted) {
        s.sendLine(id, `250 echo: ${text}`);
      }
    });
    const peer = await startOpensslTlsClient(s.localPort, ['-starttls', 'smtp', '-CAfile', caFile, '-servername', 'localhost', '-crlf']);
    try {
      await peer.waitForOutput(/Verify return code: 0 \(ok\)/, 15_000);
      peer.write('noop over tls\n');
      await peer.waitForOutput(/250 echo: noop over tls/, 15_000);
      expect(connectedCodes).toEqual([0, 0]);
      expect(s.connections.get('1')?.encrypted).toBe(true);
    } finally {
      await peer.stop();
    }
  });
});
