// End to end: the built `iotwire-broker` started as a process, talked to with Debian's
// mosquitto_pub / mosquitto_sub, scraped over HTTP and checked by promtool; real exit codes,
// real output, real signals.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, makeTestPki } from '@iotwire/interop';
import { hashPassword } from '@iotwire/mqtt-broker';
import { describe, expect, it } from 'vitest';
import { BROKER_USAGE } from '../src/index.js';
import { runBin, runPeer, spawnPeer, startBin } from './helpers/bin.js';

function tempConfig(text: string, name = 'broker.yaml'): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'iotwire-e2e-'));
  const file = join(dir, name);
  writeFileSync(file, text);
  return { file, dir };
}

async function loopbackYaml(extra = ''): Promise<{ yaml: string; tcp: number; ws: number; http: number }> {
  const tcp = await freePort('tcp');
  const ws = await freePort('tcp');
  const http = await freePort('tcp');
  return {
    tcp,
    ws,
    http,
    yaml: `listeners:
  - { protocol: tcp, host: 127.0.0.1, port: ${tcp} }
  - { protocol: ws, host: 127.0.0.1, port: ${ws} }
dashboard: { port: ${http} }
logging: { format: json }
${extra}`,
  };
}

describe('command line', () => {
  it('--help prints the usage (exit 0); --version the version', () => {
    const r = runBin(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(BROKER_USAGE);
    const v = runBin(['--version']);
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(/^iotwire-broker \d+\.\d+\.\d+\n$/);
  });

  it.each([
    [['--nope'], "iotwire-broker: Unknown option '--nope'"],
    [['-p', 'abc'], 'iotwire-broker: invalid port "abc": expected 0..65535'],
    [['-p', '70000'], 'iotwire-broker: invalid port "70000"'],
    [['-c'], "Option '-c, --config <value>' argument missing"],
    [['stray'], "Unexpected argument 'stray'"],
  ])('bad flags %j: exit 2, the reason and the usage on stderr', (argv, message) => {
    const r = runBin(argv);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(message);
    expect(r.stderr).toContain('Usage: iotwire-broker');
  });

  it('an invalid configuration: exit 3 and every problem with file:line:column and key path', () => {
    const { file } = tempConfig(`listeners:
  - protocol: udp
    port: 1883
limits:
  maxPacketSize: -5
dashbord:
  port: 1
`);
    const r = runBin(['-c', file]);
    expect(r.status).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('iotwire-broker: invalid configuration (3 problems):');
    expect(r.stderr).toContain(`${file}:2:5: listeners[0].protocol: must be one of tcp, tls, ws, wss, got "udp"`);
    expect(r.stderr).toContain(`${file}:5:3: limits.maxPacketSize: must be >= 1, got -5`);
    expect(r.stderr).toContain(`${file}:6:1: dashbord: unknown key (did you mean "dashboard"?)`);
  });

  it('a missing configuration file: exit 3', () => {
    const r = runBin(['-c', '/nonexistent/broker.yaml']);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('/nonexistent/broker.yaml: (top level): cannot read the file: ENOENT');
  });

  it('--test-config checks a file without starting (0 valid, 3 invalid)', () => {
    const good = tempConfig('sys: { interval: 5 }\ndashboard: { host: 0.0.0.0 }\n');
    const ok = runBin(['--test-config', '-c', good.file]);
    expect(ok.status).toBe(0);
    expect(ok.stdout).toContain('warning: dashboard.host is 0.0.0.0 and no dashboard.token is set');
    expect(ok.stdout).toContain(`${good.file}: configuration OK`);
    const bad = tempConfig('sys: { interval: soon }\n');
    const no = runBin(['--test-config', '-c', bad.file]);
    expect(no.status).toBe(3);
    expect(no.stderr).toContain('sys.interval: must be a number, got "soon"');
  });

  it('a bad line in the password or ACL file: exit 3 (at start and with --test-config), naming file and line', () => {
    const { file, dir } = tempConfig(
      'auth: { passwordFile: passwd, aclFile: acl }\nstorage: { type: memory }\ndashboard: { enabled: false }\nmetrics: { enabled: false }\nlisteners: [{ protocol: tcp, host: 127.0.0.1, port: 0 }]\n',
    );
    writeFileSync(join(dir, 'passwd'), 'alice-without-hash\n');
    writeFileSync(join(dir, 'acl'), 'topic read a/#\n');
    for (const argv of [
      ['--test-config', '-c', file],
      ['-c', file],
    ]) {
      const r = runBin(argv);
      expect(r.status, r.stderr).toBe(3);
      expect(r.stderr).toContain(`${join(dir, 'passwd')}:1`);
    }
    writeFileSync(join(dir, 'passwd'), '');
    writeFileSync(join(dir, 'acl'), 'topic read a/#\nfrobnicate x\n');
    const r = runBin(['--test-config', '-c', file]);
    expect(r.status).toBe(3);
    expect(r.stderr).toContain(`${join(dir, 'acl')}:2`);
  });
});

describe('running', { timeout: 60_000 }, () => {
  it('starts with zero configuration on the embedded defaults (own network namespace): 1883, 8080/mqtt, 18083, ./iotwire-data', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'iotwire-defaults-'));
    const b = startBin([], { cwd, netns: true });
    await b.waitLog(/^started$/);
    const pid = b.child.pid as number;
    const listening = b.logs.filter((l) => l.msg.startsWith('listening on')).map((l) => l.listener);
    expect(listening).toEqual(['tcp 0.0.0.0:1883', 'ws 0.0.0.0:8080/mqtt']);
    expect(b.logs.find((l) => l.msg.startsWith('storage:'))).toMatchObject({ msg: `storage: durable in ${cwd}/iotwire-data` });
    expect(b.logs.find((l) => l.msg.startsWith('dashboard at'))?.url).toBe('http://127.0.0.1:18083/');
    expect(b.logs.find((l) => l.msg.startsWith('metrics at'))?.url).toBe('http://127.0.0.1:18083/metrics');
    expect(b.logs.find((l) => l.msg.startsWith('$SYS'))?.interval).toBe(10);

    // README command (1): mosquitto_pub / mosquitto_sub on the default port.
    expect(runPeer('mosquitto_pub', ['-h', 'localhost', '-t', 'hello/world', '-m', 'hi', '-r', '-q', '1'], pid).status).toBe(0);
    const sub = runPeer('mosquitto_sub', ['-h', 'localhost', '-t', 'hello/#', '-v', '-C', '1', '-W', '10'], pid);
    expect(sub.out.trim()).toBe('hello/world hi');
    // The dashboard and /metrics answer on 127.0.0.1:18083.
    const probe = runPeer(
      process.execPath.split('/').pop() === 'node' ? 'node' : process.execPath,
      [
        '-e',
        "Promise.all(['/', '/metrics', '/api/info'].map((p) => fetch('http://127.0.0.1:18083' + p).then((r) => r.status))).then((s) => console.log(s.join(',')))",
      ],
      pid,
    );
    expect(probe.out.trim()).toBe('200,200,200');

    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
    expect(b.logs.at(-1)?.msg).toBe('stopped');
  });

  it('-c with -p: the file configures, -p replaces the TCP port; mosquitto_pub/sub work, retained too', async () => {
    const c = await loopbackYaml('storage: { type: memory }\n');
    const { file } = tempConfig(c.yaml.replace(`port: ${c.tcp} }`, 'port: 1 }'));
    const port = await freePort('tcp');
    const b = startBin(['-c', file, '-p', String(port), '-v']);
    await b.waitLog(/^started$/);
    expect(b.logs.filter((l) => l.msg.startsWith('listening on')).map((l) => l.listener)).toEqual([
      `tcp 127.0.0.1:${port}`,
      `ws 127.0.0.1:${c.ws}/mqtt`,
    ]);
    expect(
      runPeer('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-t', 'e2e/retained', '-m', 'hello', '-r', '-q', '1']).status,
    ).toBe(0);
    const sub = runPeer('mosquitto_sub', [
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-V',
      'mqttv5',
      '-t',
      'e2e/#',
      '-v',
      '-C',
      '1',
      '-W',
      '10',
    ]);
    expect(sub.out.trim()).toBe('e2e/retained hello');
    // -v: debug lines (level 20) are there.
    expect((await b.waitLog(/^tcp connection from/)).level).toBe(20);
    b.child.kill('SIGINT');
    expect(await b.exited).toBe(0);
  });

  it('port in use: exit 1 with a clear message', async () => {
    const blocker = createServer();
    const port = await freePort('tcp');
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', r));
    try {
      const c = await loopbackYaml('storage: { type: memory }\n');
      const { file } = tempConfig(c.yaml);
      const b = startBin(['-c', file, '-p', String(port)]);
      expect(await b.exited).toBe(1);
      expect(b.stderr()).toBe(
        `iotwire-broker: cannot start: cannot listen on tcp 127.0.0.1:${port}: address already in use (EADDRINUSE): another process is using that port: stop it, or choose another port with -p or in the configuration file\n`,
      );
      // The dashboard port in use: the same, naming the dashboard.
      const c2 = await loopbackYaml('storage: { type: memory }\n');
      const { file: f2 } = tempConfig(c2.yaml.replace(`dashboard: { port: ${c2.http} }`, `dashboard: { port: ${port} }`));
      const b2 = startBin(['-c', f2]);
      expect(await b2.exited).toBe(1);
      expect(b2.stderr()).toContain(
        `cannot listen on http 127.0.0.1:${port} for the metrics and dashboard: address already in use (EADDRINUSE)`,
      );
    } finally {
      blocker.close();
    }
  });

  it('$SYS/broker/... is readable with mosquitto_sub', async () => {
    const c = await loopbackYaml('storage: { type: memory }\nsys: { interval: 1 }\n');
    const { file } = tempConfig(c.yaml);
    const b = startBin(['-c', file]);
    await b.waitLog(/^started$/);
    const watcher = spawnPeer('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(c.tcp), '-t', '$SYS/broker/#', '-v']);
    await watcher.waitLine(/^\$SYS\/broker\/clients\/connected 1$/);
    const round = await watcher.waitLine(/^\$SYS\/broker\/uptime \d+ seconds$/);
    expect(round).toMatch(/uptime/);
    runPeer('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(c.tcp), '-t', 'load/x', '-m', 'x', '-q', '1']);
    await watcher.waitLine(/^\$SYS\/broker\/publish\/messages\/received 1$/);
    await watcher.waitLine(/^\$SYS\/broker\/load\/publish\/received\/1min (?!0\.00)\d+\.\d\d$/);
    for (const t of [
      'version',
      'clients/total',
      'clients/maximum',
      'clients/disconnected',
      'bytes/received',
      'bytes/sent',
      'messages/received',
      'publish/messages/sent',
      'publish/messages/dropped',
      'retained messages/count',
      'subscriptions/count',
      'heap/current',
      'load/bytes/sent/15min',
      'load/connections/5min',
    ]) {
      expect(
        watcher.lines.some((l) => l.startsWith(`$SYS/broker/${t} `)),
        t,
      ).toBe(true);
    }
    expect(watcher.lines).toContain(`$SYS/broker/version iotwire version ${b.logs[0]?.version}`);
    watcher.child.kill();
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });

  it('/metrics scrapes, and promtool accepts it', async () => {
    const c = await loopbackYaml('storage: { type: memory }\n');
    const { file } = tempConfig(c.yaml);
    const b = startBin(['-c', file]);
    await b.waitLog(/^started$/);
    runPeer('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(c.tcp), '-t', 'm/x', '-m', 'x', '-q', '1']);
    const res = await fetch(`http://127.0.0.1:${c.http}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^iotwire_mqtt_received_publish_messages_total 1$/m);
    expect(text).toMatch(/^iotwire_mqtt_connections_accepted_total 1$/m);
    const lint = runPeer('promtool', ['check', 'metrics'], undefined, text);
    expect(lint.out + lint.stderr).toBe('');
    expect(lint.status).toBe(0);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });

  it('SIGHUP reloads limits, ACL and log level without dropping a connected client; an invalid file is refused', async () => {
    const c = await loopbackYaml('storage: { type: memory }\nsys: { interval: 1 }\nauth: { aclFile: acl }\n');
    const { file, dir } = tempConfig(c.yaml);
    writeFileSync(join(dir, 'acl'), 'topic readwrite hup/#\n');
    const b = startBin(['-c', file]);
    await b.waitLog(/^started$/);
    const tcp = String(c.tcp);
    const pub = (topic: string, m: string) =>
      runPeer('mosquitto_pub', ['-h', '127.0.0.1', '-p', tcp, '-V', 'mqttv5', '-t', topic, '-m', m, '-q', '1']);
    const sub = spawnPeer('mosquitto_sub', ['-h', '127.0.0.1', '-p', tcp, '-V', 'mqttv5', '-i', 'stays', '-t', 'hup/#', '-v']);
    await b.waitLog(/stays connected/);
    expect(pub('hup/secret', 'one').status).toBe(0);
    await sub.waitLine(/^hup\/secret one$/);

    // 1. The ACL now denies hup/secret; maxConnections drops to 1 (the subscriber); debug logs on.
    writeFileSync(join(dir, 'acl'), 'topic readwrite hup/#\ntopic deny hup/secret\n');
    writeFileSync(
      file,
      c.yaml.replace('logging: { format: json }', 'logging: { format: json, level: debug }') + 'limits: { maxConnections: 1 }\n',
    );
    b.child.kill('SIGHUP');
    const done = await b.waitLog(/^reloaded: /);
    expect(done.applied).toEqual(expect.arrayContaining(['limits.maxConnections', 'logging.level', 'auth.aclFile (re-read)']));
    const refused = pub('hup/ok', 'refused');
    expect(refused.status).not.toBe(0); // the second connection is over the limit

    // 2. Limit back up (debug stays): publishing works, the denied topic is not delivered, the allowed one is.
    writeFileSync(file, c.yaml.replace('logging: { format: json }', 'logging: { format: json, level: debug }'));
    b.child.kill('SIGHUP');
    await b.waitLog(/^reloaded: .*limits\.maxConnections/);
    expect(pub('hup/secret', 'two').status).toBe(0); // 5.0 PUBACK 0x87: mosquitto_pub still exits 0
    expect(pub('hup/ok', 'three').status).toBe(0);
    await sub.waitLine(/^hup\/ok three$/);
    // The new log level is in force: connection lines (debug) appear.
    expect((await b.waitLog(/^tcp connection from/)).level).toBe(20);
    expect(sub.lines).not.toContain('hup/secret two');

    // 3. A listener change needs a restart; an invalid file is refused; the subscriber never noticed.
    writeFileSync(file, c.yaml.replace(`port: ${c.ws} }`, `port: ${c.ws}, path: /other }`));
    b.child.kill('SIGHUP');
    expect((await b.waitLog(/need a restart/)).keys).toEqual(['listeners']);
    writeFileSync(file, 'limits: { maxConnections: nope }\n');
    b.child.kill('SIGHUP');
    expect((await b.waitLog(/^reload refused/)).msg).toContain('limits.maxConnections: must be a number, got "nope"');
    expect(pub('hup/after', 'still here').status).toBe(0);
    await sub.waitLine(/^hup\/after still here$/);
    expect(sub.child.exitCode).toBeNull();
    expect(b.logs.filter((l) => /stays connected/.test(l.msg))).toHaveLength(1); // never reconnected
    sub.child.kill();
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });

  it('TLS with client certificates as user names, a password file and an ACL, from the file; SIGHUP adds a user', async () => {
    const pki = makeTestPki();
    const tcp = await freePort('tcp');
    const tls = await freePort('tcp');
    const http = await freePort('tcp');
    const { file, dir } = tempConfig(`listeners:
  - { protocol: tcp, host: 127.0.0.1, port: ${tcp} }
  - protocol: tls
    host: 127.0.0.1
    port: ${tls}
    certFile: ${pki.serverCert}
    keyFile: ${pki.serverKey}
    caFile: ${pki.caCert}
    requestCert: true
    certificateIdentity: cn
auth: { passwordFile: passwd, aclFile: acl }
storage: { type: memory }
dashboard: { port: ${http} }
logging: { format: json }
`);
    writeFileSync(join(dir, 'passwd'), `alice:${await hashPassword('wonderland')}\n`);
    writeFileSync(
      join(dir, 'acl'),
      'user alice\ntopic readwrite shared/#\nuser bob\ntopic read shared/#\npattern readwrite devices/%u/#\n',
    );
    const b = startBin(['-c', file]);
    await b.waitLog(/^started$/);
    expect(b.logs.map((l) => l.msg)).toEqual(
      expect.arrayContaining([`authentication: password file ${join(dir, 'passwd')}`, 'anonymous clients refused']),
    );
    const T = String(tcp);
    const tlsArgs = ['-h', '127.0.0.1', '-p', String(tls), '--cafile', pki.caCert];
    const pub = (args: string[]) => runPeer('mosquitto_pub', ['-V', 'mqttv311', ...args]);

    // Password file: right password in, wrong one and anonymous out.
    expect(pub(['-h', '127.0.0.1', '-p', T, '-u', 'alice', '-P', 'wonderland', '-t', 'shared/a', '-m', '1']).status).toBe(0);
    const wrong = pub(['-h', '127.0.0.1', '-p', T, '-u', 'alice', '-P', 'nope', '-t', 'shared/a', '-m', '1']);
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/bad user name or password/i);
    expect(pub(['-h', '127.0.0.1', '-p', T, '-t', 'shared/a', '-m', '1']).stderr).toMatch(/not authori[sz]ed/i);

    // Client certificate: CN "client" is the user name, and the ACL pattern gives it devices/client/#.
    const sub = spawnPeer('mosquitto_sub', [
      ...tlsArgs,
      '--cert',
      pki.clientCert,
      '--key',
      pki.clientKey,
      '-V',
      'mqttv5',
      '-i',
      'dev',
      '-t',
      'devices/client/#',
      '-v',
    ]);
    await b.waitLog(/dev connected/);
    expect(b.logs.find((l) => /dev connected/.test(l.msg))?.user).toBe('client');
    expect(pub([...tlsArgs, '--cert', pki.clientCert, '--key', pki.clientKey, '-t', 'devices/client/state', '-m', 'on']).status).toBe(0);
    await sub.waitLine(/^devices\/client\/state on$/);
    // Without a certificate, or with one from another CA, the TLS handshake fails.
    expect(pub([...tlsArgs, '-t', 'devices/client/state', '-m', 'x']).status).not.toBe(0);
    const selfKey = join(dir, 'self.key');
    const selfCrt = join(dir, 'self.crt');
    expect(
      runPeer('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        selfKey,
        '-out',
        selfCrt,
        '-days',
        '1',
        '-subj',
        '/CN=client',
      ]).status,
    ).toBe(0);
    expect(pub([...tlsArgs, '--cert', selfCrt, '--key', selfKey, '-t', 'devices/client/state', '-m', 'x']).status).not.toBe(0);
    expect(sub.lines).toEqual(['devices/client/state on']);

    // SIGHUP: bob is added to the password file; he may read shared/# but not write it.
    writeFileSync(join(dir, 'passwd'), `alice:${await hashPassword('wonderland')}\nbob:${await hashPassword('builder')}\n`);
    b.child.kill('SIGHUP');
    expect((await b.waitLog(/^reloaded: /)).applied).toEqual(
      expect.arrayContaining(['auth.passwordFile (re-read)', 'auth.aclFile (re-read)']),
    );
    const bob = spawnPeer('mosquitto_sub', [
      '-h',
      '127.0.0.1',
      '-p',
      T,
      '-u',
      'bob',
      '-P',
      'builder',
      '-V',
      'mqttv5',
      '-i',
      'bob1',
      '-t',
      'shared/#',
      '-v',
    ]);
    await b.waitLog(/bob1 connected/);
    expect(pub(['-h', '127.0.0.1', '-p', T, '-u', 'bob', '-P', 'builder', '-t', 'shared/b', '-m', 'from bob']).status).toBe(0); // 3.1.1: accepted, dropped
    expect(pub(['-h', '127.0.0.1', '-p', T, '-u', 'alice', '-P', 'wonderland', '-t', 'shared/c', '-m', 'from alice']).status).toBe(0);
    await bob.waitLine(/^shared\/c from alice$/);
    expect(bob.lines).not.toContain('shared/b from bob');
    expect(sub.child.exitCode).toBeNull();
    sub.child.kill();
    bob.child.kill();
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });

  it('SIGTERM: clients get DISCONNECT, sessions are saved; after a restart the queued QoS 1 message is delivered', async () => {
    const c = await loopbackYaml();
    const { file, dir } = tempConfig(c.yaml + 'storage: { directory: data }\n');
    const args = ['-c', file];
    const first = startBin(args);
    await first.waitLog(/^started$/);
    expect(first.logs.find((l) => l.msg.startsWith('storage:'))?.msg).toBe(`storage: durable in ${join(dir, 'data')}`);
    const tcp = String(c.tcp);
    // A persistent session subscribes, goes away; a QoS 1 message is queued for it.
    expect(
      runPeer('mosquitto_sub', ['-h', '127.0.0.1', '-p', tcp, '-i', 'keeper', '-c', '-q', '1', '-t', 'queued/#', '-W', '1']).status,
    ).not.toBeNull();
    expect(runPeer('mosquitto_pub', ['-h', '127.0.0.1', '-p', tcp, '-t', 'queued/1', '-m', 'kept across restart', '-q', '1']).status).toBe(
      0,
    );
    // A connected 5.0 client is told the server is shutting down (0x8B).
    const live = spawnPeer('mosquitto_sub', ['-h', '127.0.0.1', '-p', tcp, '-V', 'mqttv5', '-i', 'live', '-t', 'x', '-d']);
    await first.waitLog(/live connected/);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const msgs = first.logs.map((l) => l.msg);
    expect(msgs).toContain('SIGTERM: shutting down');
    expect(msgs).toContain('stopping: disconnecting clients and saving sessions');
    expect(msgs.at(-1)).toBe('stopped');
    await live.waitLine(/Received DISCONNECT|DISCONNECT/).catch(() => undefined);
    live.child.kill();

    const second = startBin(args);
    await second.waitLog(/^started$/);
    const got = runPeer('mosquitto_sub', [
      '-h',
      '127.0.0.1',
      '-p',
      tcp,
      '-i',
      'keeper',
      '-c',
      '-q',
      '1',
      '-t',
      'queued/#',
      '-v',
      '-C',
      '1',
      '-W',
      '10',
    ]);
    expect(got.out.trim()).toBe('queued/1 kept across restart');
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  });
});
