import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from '@iotwire/interop';

/** Paths and PEM texts of a small test PKI made with the `openssl` CLI (EC P-256). */
export interface TestPki {
  dir: string;
  /** Root CA. */
  caCert: string;
  caKey: string;
  /** Intermediate CA signed by the root. */
  intCert: string;
  /** Server leaf (CN=localhost, SAN localhost/127.0.0.1) signed by the root. */
  serverCert: string;
  serverKey: string;
  /** Server leaf signed by the intermediate. */
  serverIntCert: string;
  /** Client leaf (CN=client) signed by the root. */
  clientCert: string;
  clientKey: string;
  /** Self-signed leaf (CN=self). */
  selfCert: string;
  selfKey: string;
  /** Issued by the server leaf, which is not a CA. */
  childCert: string;
  /** Self-signed, same subject as the root, different key. */
  fakeRootCert: string;
  /** Bare EC key for raw-public-key mode (EC PRIVATE KEY PEM, as libcoap's -M wants). */
  rpkKey: string;
  rpkKey2: string;
  /** Read a PEM file from the dir. */
  pem(path: string): string;
}

let cached: TestPki | undefined;

export function makePki(): TestPki {
  if (cached) return cached;
  const openssl = requireBinary('openssl');
  const dir = mkdtempSync(join(tmpdir(), 'iotwire-dtls-pki-'));
  const run = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const key = (name: string) => run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`);
  writeFileSync(join(dir, 'ca.ext'), 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n');
  writeFileSync(
    join(dir, 'server.ext'),
    'basicConstraints=CA:FALSE\nsubjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
  );
  writeFileSync(join(dir, 'client.ext'), 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n');
  key('ca');
  run('req', '-new', '-x509', '-key', 'ca.key', '-out', 'ca.crt', '-days', '30', '-subj', '/CN=iotwire test root');
  key('int');
  run('req', '-new', '-key', 'int.key', '-out', 'int.csr', '-subj', '/CN=iotwire test intermediate');
  run(
    'x509',
    '-req',
    '-in',
    'int.csr',
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    'int.crt',
    '-days',
    '30',
    '-extfile',
    'ca.ext',
  );
  const leaf = (name: string, cn: string, ca: string, ext: string, out = `${name}.crt`) => {
    run('req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.crt`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-out',
      out,
      '-days',
      '30',
      '-extfile',
      ext,
    );
  };
  key('server');
  leaf('server', 'localhost', 'ca', 'server.ext');
  leaf('server', 'localhost', 'int', 'server.ext', 'server-int.crt');
  key('client');
  leaf('client', 'client', 'ca', 'client.ext');
  key('self');
  run('req', '-new', '-x509', '-key', 'self.key', '-out', 'self.crt', '-days', '30', '-subj', '/CN=self');
  // A certificate issued by a leaf (CA:FALSE) and a root impostor with the real root's name.
  key('child');
  leaf('child', 'child of leaf', 'server', 'client.ext');
  key('fake');
  run('req', '-new', '-x509', '-key', 'fake.key', '-out', 'fake.crt', '-days', '30', '-subj', '/CN=iotwire test root');
  key('rpk');
  key('rpk2');
  const p = (f: string) => join(dir, f);
  cached = {
    dir,
    caCert: p('ca.crt'),
    caKey: p('ca.key'),
    intCert: p('int.crt'),
    serverCert: p('server.crt'),
    serverKey: p('server.key'),
    serverIntCert: p('server-int.crt'),
    clientCert: p('client.crt'),
    clientKey: p('client.key'),
    selfCert: p('self.crt'),
    selfKey: p('self.key'),
    childCert: p('child.crt'),
    fakeRootCert: p('fake.crt'),
    rpkKey: p('rpk.key'),
    rpkKey2: p('rpk2.key'),
    pem: (path) => readFileSync(path, 'utf8'),
  };
  return cached;
}
