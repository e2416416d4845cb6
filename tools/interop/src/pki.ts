import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';

/** File paths (PEM) of a small EC P-256 test PKI made with the `openssl` CLI, for DTLS/TLS peers. */
export interface TestPki {
  dir: string;
  /** Root CA certificate and key. */
  caCert: string;
  caKey: string;
  /** Server leaf, CN=localhost, SAN DNS:localhost + IP:127.0.0.1 + IP:::1, signed by the root. */
  serverCert: string;
  serverKey: string;
  /** Server leaf, CN=other.example, SAN DNS:other.example only (host-name mismatch tests). */
  otherCert: string;
  otherKey: string;
  /** Client leaf, CN=client, signed by the root. */
  clientCert: string;
  clientKey: string;
  /** Bare EC keys (`EC PRIVATE KEY` PEM, as libcoap's `-M` wants) for raw-public-key mode. */
  rpkKey: string;
  rpkKey2: string;
  /** Reads one of the files. */
  read(path: string): string;
}

const made = new Map<string, TestPki>();

/**
 * Creates (once per process) a throw-away PKI in a temporary directory: a root CA, server and
 * client leaves and two raw-public-key key files. Fails with `PeerUnavailableError` if `openssl`
 * is missing.
 */
export function makeTestPki(): TestPki {
  const cached = made.get('default');
  if (cached) return cached;
  const openssl = requireBinary('openssl');
  const dir = mkdtempSync(join(tmpdir(), 'iotwire-pki-'));
  const run = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const key = (name: string) => run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
  writeFileSync(join(dir, 'server.ext'), 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n');
  writeFileSync(join(dir, 'other.ext'), 'basicConstraints=CA:FALSE\nsubjectAltName=DNS:other.example\n');
  writeFileSync(join(dir, 'client.ext'), 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  key('ca');
  run(
    'req',
    '-new',
    '-x509',
    '-key',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '30',
    '-subj',
    '/CN=iotwire test root',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
  const leaf = (name: string, cn: string) => {
    key(name);
    run('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '30',
      '-extfile',
      `${name}.ext`,
    );
  };
  leaf('server', 'localhost');
  leaf('other', 'other.example');
  leaf('client', 'client');
  key('rpk');
  key('rpk2');
  const p = (f: string) => join(dir, f);
  const pki: TestPki = {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    otherCert: p('other.crt'),
    otherKey: p('other.key'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    rpkKey: p('rpk.key'),
    rpkKey2: p('rpk2.key'),
    read: (path) => readFileSync(path, 'utf8'),
  };
  made.set('default', pki);
  return pki;
}
