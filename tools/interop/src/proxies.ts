import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';
import { PeerUnavailableError } from './errors.js';
import { freePort } from './ports.js';
import { tcpOpen } from './probes.js';
import { type PeerProcess, startPeer } from './process.js';

export interface ProxyCredentials {
  user: string;
  password: string;
}

/** A running proxy peer. `log()` reads its log file (for "went through the proxy" checks). */
export interface ProxyPeer {
  process: PeerProcess;
  host: string;
  port: number;
  logFile: string;
  log(): string;
  stop(): Promise<void>;
}

export interface TinyproxyOptions {
  /** Listening port; a free one when omitted. */
  port?: number;
  /** Require HTTP Basic proxy authentication with these credentials. */
  auth?: ProxyCredentials;
}

/** Starts the proxy process from its generated config; stopping it also removes `dir`. */
async function runProxy(name: string, command: string, args: string[], port: number, dir: string, logFile: string): Promise<ProxyPeer> {
  const proc = await startPeer({ name, command, args, ready: () => tcpOpen(port) });
  return {
    process: proc,
    host: '127.0.0.1',
    port,
    logFile,
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts Debian's `tinyproxy` (HTTP proxy with CONNECT) in the foreground on a free loopback
 * port, every CONNECT port allowed, logging connections to a file.
 */
export async function startTinyproxy(options: TinyproxyOptions = {}): Promise<ProxyPeer> {
  const bin = requireBinary('tinyproxy');
  const dir = mkdtempSync(join(tmpdir(), 'iotwire-tinyproxy-'));
  chmodSync(dir, 0o777); // tinyproxy may drop privileges before opening its log
  const port = options.port ?? (await freePort('tcp'));
  const logFile = join(dir, 'tinyproxy.log');
  const lines = [
    `Port ${port}`,
    'Listen 127.0.0.1',
    'Timeout 600',
    'MaxClients 100',
    'Allow 127.0.0.1',
    'LogLevel Connect',
    `LogFile "${logFile}"`,
    // No ConnectPort line: CONNECT is allowed to every port (MQTT 1883/8883, test ports).
  ];
  if (options.auth) {
    if (/\s/.test(options.auth.user) || /\s/.test(options.auth.password))
      throw new Error('tinyproxy BasicAuth credentials cannot contain white space');
    lines.push(`BasicAuth ${options.auth.user} ${options.auth.password}`);
  }
  const conf = join(dir, 'tinyproxy.conf');
  writeFileSync(conf, `${lines.join('\n')}\n`, { mode: 0o644 });
  return runProxy('tinyproxy', bin, ['-d', '-c', conf], port, dir, logFile);
}

export interface DanteOptions {
  /** Listening port; a free one when omitted. */
  port?: number;
  /**
   * Require SOCKS5 username/password (RFC 1929). Dante checks them against the system user
   * database, so each user is created as a system account without home or shell (root only;
   * idempotent; the password is (re)set each time). Without users, no authentication.
   */
  users?: ProxyCredentials[];
}

function ensureSystemUser(u: ProxyCredentials): void {
  if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(u.user)) throw new Error(`invalid system user name ${JSON.stringify(u.user)}`);
  if (spawnSync('id', ['-u', u.user]).status !== 0) {
    const r = spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', u.user], { encoding: 'utf8' });
    // A concurrent test may have created it in between.
    if (r.status !== 0 && spawnSync('id', ['-u', u.user]).status !== 0)
      throw new PeerUnavailableError('danted', `cannot create the system user ${u.user}: ${r.stderr}`);
  }
  const r = spawnSync('chpasswd', [], { input: `${u.user}:${u.password}\n`, encoding: 'utf8' });
  if (r.status !== 0) throw new PeerUnavailableError('danted', `cannot set the password of ${u.user}: ${r.stderr}`);
}

/**
 * Starts Debian's Dante server (`danted`, SOCKS4 and SOCKS5; it does not speak SOCKS4a) in
 * the foreground on a free loopback port, logging connections to a file. Runs as root
 * (`user.privileged/unprivileged: root`), which the username method needs to read shadow.
 */
export async function startDante(options: DanteOptions = {}): Promise<ProxyPeer> {
  const bin = requireBinary('danted');
  if (userInfo().uid !== 0) throw new PeerUnavailableError('danted', 'the test configuration runs danted as root; run the tests as root');
  for (const u of options.users ?? []) ensureSystemUser(u);
  const dir = mkdtempSync(join(tmpdir(), 'iotwire-dante-'));
  const port = options.port ?? (await freePort('tcp'));
  const logFile = join(dir, 'danted.log');
  const method = options.users?.length ? 'username' : 'none';
  const conf = [
    `logoutput: ${logFile}`,
    `internal: 127.0.0.1 port = ${port}`,
    'external: 127.0.0.1',
    'clientmethod: none',
    `socksmethod: ${method}`,
    'user.privileged: root',
    'user.unprivileged: root',
    'client pass {',
    '  from: 127.0.0.0/8 to: 0.0.0.0/0',
    '  log: connect disconnect error',
    '}',
    'socks pass {',
    '  from: 127.0.0.0/8 to: 0.0.0.0/0',
    '  command: connect',
    '  log: connect disconnect error',
    '}',
  ];
  const file = join(dir, 'danted.conf');
  writeFileSync(file, `${conf.join('\n')}\n`, { mode: 0o644 });
  // -N 1: one process per role is enough for tests (and keeps the PID tree small).
  return runProxy('danted', bin, ['-f', file, '-N', '1'], port, dir, logFile);
}
