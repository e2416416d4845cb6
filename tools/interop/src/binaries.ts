import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PeerUnavailableError } from './errors.js';

/** Debian package that provides each peer binary; the install script reads this table. */
export const PEER_PACKAGES: Record<string, string> = {
  mosquitto: 'mosquitto',
  mosquitto_pub: 'mosquitto-clients',
  mosquitto_sub: 'mosquitto-clients',
  'coap-server-notls': 'libcoap3-bin',
  'coap-server-openssl': 'libcoap3-bin',
  'coap-server-gnutls': 'libcoap3-bin',
  'coap-client-notls': 'libcoap3-bin',
  'coap-client-openssl': 'libcoap3-bin',
  'coap-client-gnutls': 'libcoap3-bin',
  openssl: 'openssl',
  'redis-server': 'redis-server',
  'redis-cli': 'redis-tools',
  chromium: 'chromium',
  promtool: 'prometheus',
  tinyproxy: 'tinyproxy',
  danted: 'dante-server',
};

const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

/** Absolute path of an executable on PATH (plus the sbin directories Debian uses for daemons). */
export function findBinary(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRS];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Like {@link findBinary} but throws a {@link PeerUnavailableError} that says how to install it. */
export function requireBinary(name: string): string {
  const path = findBinary(name);
  if (path) return path;
  const pkg = PEER_PACKAGES[name] ?? name;
  throw new PeerUnavailableError(
    name,
    `not installed. Run \`node tools/interop/scripts/install-peers.mjs\` (as root) or \`apt-get install ${pkg}\`.`,
  );
}
