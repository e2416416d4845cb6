#!/usr/bin/env node
// Installs the real peers the interop tests run against (Debian packages) when any is missing.
// `apt-get update` runs once, only when something must be installed. Exits non-zero, with a
// clear message, when a peer is missing and cannot be installed here.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const NEEDED = {
  mosquitto: 'mosquitto',
  mosquitto_pub: 'mosquitto-clients',
  mosquitto_sub: 'mosquitto-clients',
  'coap-server-notls': 'libcoap3-bin',
  'coap-client-openssl': 'libcoap3-bin',
  openssl: 'openssl',
  'redis-server': 'redis-server',
  chromium: 'chromium',
  // Prometheus's exposition linter (`promtool check metrics`) for the broker's /metrics.
  promtool: 'prometheus',
  // HTTP CONNECT and SOCKS4/5 proxies for the MQTT client's proxy support.
  tinyproxy: 'tinyproxy',
  danted: 'dante-server',
};

const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
const has = (bin) =>
  dirs.some((d) => {
    try {
      accessSync(join(d, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });

const missing = Object.entries(NEEDED).filter(([bin]) => !has(bin));
if (missing.length === 0) {
  console.log('install-peers: all interop peers present');
  process.exit(0);
}
const pkgs = [...new Set(missing.map(([, pkg]) => pkg))];
console.log(`install-peers: missing ${missing.map(([b]) => b).join(', ')}; installing Debian packages: ${pkgs.join(' ')}`);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
if (!isRoot || !has('apt-get')) {
  console.error(
    `install-peers: cannot install here (${isRoot ? 'no apt-get' : 'not root'}). Install as root: apt-get update && apt-get install -y ${pkgs.join(' ')}`,
  );
  process.exit(1);
}
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const run = (args) => {
  const r = spawnSync('apt-get', args, { stdio: 'inherit', env });
  if (r.status !== 0) {
    console.error(`install-peers: apt-get ${args.join(' ')} failed with ${r.status}`);
    process.exit(1);
  }
};
run(['update']);
run(['install', '-y', '--no-install-recommends', ...pkgs]);
const still = Object.keys(NEEDED).filter((b) => !has(b));
if (still.length) {
  console.error(`install-peers: still missing after install: ${still.join(', ')}`);
  process.exit(1);
}
console.log('install-peers: done');
