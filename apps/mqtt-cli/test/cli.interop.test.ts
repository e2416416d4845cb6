// End to end: the built bins (dist/, from `pnpm --filter @iotwire/mqtt-cli... build`) run as
// processes against Debian's Mosquitto 2.0 over TCP, TLS and WebSocket, checked against
// mosquitto_pub / mosquitto_sub on the same broker: exit codes, stdout bytes, stderr lines.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type MosquittoPeer, requireBinary, startMosquitto } from '@iotwire/interop';
import { createTestPki, type TestPki } from '@iotwire/tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPTIONS } from '../src/options.js';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const src = fileURLToPath(new URL('../src/', import.meta.url));
const BIN = join(dist, 'bin.js');

interface Result {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  /** stdout lines without the -d debug lines. */
  lines: string[];
}

const children: ChildProcess[] = [];

function collect(child: ChildProcess, input?: string | Buffer): { result: Promise<Result>; stdout: () => string } {
  children.push(child);
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdin!.on('error', () => {});
  if (input !== undefined) child.stdin!.end(input);
  else child.stdin!.end();
  const result = new Promise<Result>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      const stdout = Buffer.concat(out);
      const lines = stdout
        .toString('latin1')
        .split('\n')
        .filter((l) => !l.startsWith('Client ') && !l.startsWith('Subscribed'));
      if (lines[lines.length - 1] === '') lines.pop();
      resolve({ code, stdout, stderr: err, lines });
    });
  });
  return { result, stdout: () => Buffer.concat(out).toString('latin1') };
}

type Tool = 'ours' | 'mosquitto_pub' | 'mosquitto_sub' | 'iotwire-pub' | 'iotwire-sub';

function spawnTool(tool: Tool, args: string[], lineBuffered = false): ChildProcess {
  const env = { ...process.env, TZ: 'UTC' };
  // mosquitto_sub's -d lines go through stdio buffering: line-buffer them so readiness shows.
  if (lineBuffered && tool === 'mosquitto_sub') return spawn(requireBinary('stdbuf'), ['-oL', requireBinary(tool), ...args], { env });
  if (tool === 'ours') return spawn(process.execPath, [BIN, ...args], { env });
  if (tool === 'iotwire-pub') return spawn(process.execPath, [join(dist, 'bin-pub.js'), ...args], { env });
  if (tool === 'iotwire-sub') return spawn(process.execPath, [join(dist, 'bin-sub.js'), ...args], { env });
  return spawn(requireBinary(tool), args, { env });
}

/** Runs a command to its end (with an optional stdin). */
function run(tool: Tool, args: string[], input?: string | Buffer): Promise<Result> {
  return collect(spawnTool(tool, args), input).result;
}
const ours = (args: string[], input?: string | Buffer) => run('ours', args, input);

/** Starts a subscriber with -d and resolves once its SUBACK arrived; `done` is its exit. */
async function subscriber(tool: 'ours' | 'mosquitto_sub', args: string[]): Promise<{ done: Promise<Result>; child: ChildProcess }> {
  const child = spawnTool(tool, tool === 'ours' ? ['sub', ...args, '-d'] : [...args, '-d'], true);
  const { result, stdout } = collect(child);
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (stdout().includes('Subscribed')) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
    void result.then((r) => {
      clearInterval(timer);
      reject(new Error(`subscriber exited early (${r.code}): ${r.stderr}${r.stdout}`));
    });
  });
  return { done: result, child };
}

let broker: MosquittoPeer;
let locked: MosquittoPeer;
let pki: TestPki;
let dir: string;
let mutualPort: number;
let otherNamePort: number;
const files: Record<string, string> = {};
let seq = 0;
const topic = (name: string) => `cli/${process.pid}/${seq++}/${name}`;

beforeAll(async () => {
  // The bins must be built from the current sources.
  const built = statSync(BIN, { throwIfNoEntry: false });
  const newest = Math.max(
    ...readdirSync(src, { recursive: true })
      .filter((f) => String(f).endsWith('.ts'))
      .map((f) => statSync(join(src, String(f))).mtimeMs),
  );
  if (!built || built.mtimeMs < newest)
    throw new Error(`${BIN} is missing or older than src/: run \`pnpm --filter @iotwire/mqtt-cli... build\``);

  dir = mkdtempSync(join(tmpdir(), 'iotwire-cli-'));
  pki = createTestPki();
  const other = pki.ca.issue({ commonName: 'other.example', altNames: ['other.example'], usage: 'server' });
  const w = (name: string, text: string) => {
    const f = join(dir, name);
    writeFileSync(f, text, { mode: 0o644 });
    files[name] = f;
    return f;
  };
  w('ca.pem', pki.ca.cert);
  w('rogue-ca.pem', pki.rogue.ca.cert);
  w('client.crt', pki.clients.client!.cert);
  w('client.key', pki.clients.client!.key);
  w('server.crt', pki.server.cert);
  w('server.key', pki.server.key);
  w('other.crt', other.cert);
  w('other.key', other.key);
  mutualPort = await freePort('tcp');
  otherNamePort = await freePort('tcp');
  broker = await startMosquitto({
    websockets: true,
    tls: { cert: pki.server.cert, key: pki.server.key },
    extraConfig: [
      `listener ${mutualPort} 127.0.0.1`,
      `certfile ${files['server.crt']}`,
      `keyfile ${files['server.key']}`,
      `cafile ${files['ca.pem']}`,
      'require_certificate true',
      `listener ${otherNamePort} 127.0.0.1`,
      `certfile ${files['other.crt']}`,
      `keyfile ${files['other.key']}`,
    ],
  });
  const passwd = join(dir, 'passwd');
  execFileSync(requireBinary('mosquitto_passwd'), ['-b', '-c', passwd, 'alice', 'wonderland'], { stdio: 'ignore' });
  w('acl', 'user alice\ntopic readwrite open/#\n');
  locked = await startMosquitto({ extraConfig: ['allow_anonymous false', `password_file ${passwd}`, `acl_file ${files.acl}`] });
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await broker?.stop();
  await locked?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const P = () => ['-h', '127.0.0.1', '-p', String(broker.port)];

describe.concurrent('help, version and bins', () => {
  it('--help of every subcommand lists every flag; iotwire-pub / iotwire-sub are the same commands', async () => {
    const [top, pub, sub, bench, pubAlias, subAlias, version] = await Promise.all([
      ours(['--help']),
      ours(['pub', '--help']),
      ours(['sub', '--help']),
      ours(['bench', '--help']),
      run('iotwire-pub', ['--help']),
      run('iotwire-sub', ['--help']),
      ours(['--version']),
    ]);
    for (const r of [top, pub, sub, bench, pubAlias, subAlias, version]) expect(r.code).toBe(0);
    expect(top.stdout.toString()).toContain('Usage: iotwire-mqtt <command>');
    const texts = { pub: pub.stdout.toString(), sub: sub.stdout.toString(), bench: bench.stdout.toString() };
    for (const o of OPTIONS) {
      for (const command of o.commands) {
        const text = texts[command];
        if (o.long === 'property') expect(text).toContain('-D command');
        else expect(text, `${command} --${o.long}`).toContain(`--${o.long}`);
        if (o.short && o.long !== 'property') expect(text, `${command} -${o.short}`).toContain(`-${o.short}, --${o.long}`);
      }
    }
    expect(texts.sub).toContain('Format (-F)');
    expect(pubAlias.stdout.toString()).toBe(pub.stdout.toString());
    expect(subAlias.stdout.toString()).toBe(sub.stdout.toString());
    expect(version.stdout.toString()).toMatch(/^iotwire-mqtt \d+\.\d+\.\d+\n$/);
  });
});

describe.concurrent('bad flags and unreachable brokers', () => {
  // The same mistakes given to mosquitto_sub/mosquitto_pub: same first line, same exit code.
  const mistakes: ['pub' | 'sub', string[]][] = [
    ['sub', ['-t', 'a', '-Z']],
    ['sub', ['-t', 'a', '-q', '3']],
    ['sub', ['-t', 'a/#/b']],
    ['pub', ['-t', 'a/+', '-m', 'x']],
    ['sub', ['-t', 'a', '-F', '%Z']],
    ['pub', ['-t', 'a', '-m', 'x', '-D', 'connect', 'content-type', '1']],
  ];
  it.each(mistakes)('%s %j: mosquitto’s message and exit code', async (command, args) => {
    const [mine, theirs] = await Promise.all([ours([command, ...args]), run(command === 'pub' ? 'mosquitto_pub' : 'mosquitto_sub', args)]);
    expect(mine.code).toBe(1);
    expect(theirs.code).toBe(1);
    const [first, hint] = mine.stderr.split('\n');
    expect(first).toBe(theirs.stderr.split('\n')[0]);
    expect(hint).toBe(`Use 'iotwire-mqtt ${command} --help' to see usage.`);
    expect(mine.stdout.length).toBe(0);
  });

  it('an unknown subcommand and missing message', async () => {
    const [unknown, missing] = await Promise.all([ours(['frobnicate']), ours(['pub', '-t', 'a'])]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.split('\n')[0]).toBe("Error: Unknown command 'frobnicate' (use pub, sub or bench).");
    expect(missing.code).toBe(1);
    expect(missing.stderr.split('\n')[0]).toBe('Error: Both topic and message must be supplied.');
  });

  it('a closed port: one clear line, exit 1 (as mosquitto_pub)', async () => {
    const port = await freePort('tcp');
    const [pub, sub, ws, theirs] = await Promise.all([
      ours(['pub', '-h', '127.0.0.1', '-p', String(port), '-t', 'a', '-m', 'x']),
      ours(['sub', '-h', '127.0.0.1', '-p', String(port), '-t', 'a']),
      ours(['sub', '-L', `ws://127.0.0.1:${port}/a`]),
      run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-t', 'a', '-m', 'x']),
    ]);
    expect(theirs.code).toBe(1);
    for (const r of [pub, sub, ws]) {
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`Error: Connection refused (127.0.0.1:${port}).\n`);
    }
    const quiet = await ours(['pub', '-h', '127.0.0.1', '-p', String(port), '-t', 'a', '-m', 'x', '--quiet']);
    expect(quiet.code).toBe(1);
    expect(quiet.stderr).toBe('');
  });

  it('an unknown host: a lookup error, exit 1', async () => {
    const r = await ours(['pub', '-h', 'no-such-host.invalid', '-t', 'a', '-m', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe("Error: Unable to connect (Lookup error: host 'no-such-host.invalid' not found).\n");
  }, 45_000);

  it('not authorised: the CONNACK code as exit code, as mosquitto (5 in 3.1.1, 135 in 5.0)', async () => {
    const L = ['-h', '127.0.0.1', '-p', String(locked.port)];
    const bad = ['-u', 'alice', '-P', 'wrong'];
    const [v3, v5, bad3, bad5, m3, m5, mbad3, mbad5] = await Promise.all([
      ours(['pub', ...L, '-t', 'open/a', '-m', 'x']),
      ours(['sub', ...L, '-t', 'open/a', '-V', '5']),
      ours(['pub', ...L, '-t', 'open/a', '-m', 'x', ...bad]),
      ours(['pub', ...L, '-t', 'open/a', '-m', 'x', ...bad, '-V', '5']),
      run('mosquitto_pub', [...L, '-t', 'open/a', '-m', 'x']),
      run('mosquitto_sub', [...L, '-t', 'open/a', '-V', '5']),
      run('mosquitto_pub', [...L, '-t', 'open/a', '-m', 'x', ...bad]),
      run('mosquitto_pub', [...L, '-t', 'open/a', '-m', 'x', ...bad, '-V', '5']),
    ]);
    expect([v3.code, v5.code]).toEqual([5, 135]);
    // Mosquitto 2.0 answers a wrong password with "not authorised" too; whatever it sends is the exit code.
    expect([m3.code, m5.code, mbad3.code, mbad5.code]).toEqual([v3.code, v5.code, bad3.code, bad5.code]);
    expect(v3.stderr).toBe('Connection error: Connection Refused: not authorised.\n');
    expect(v5.stderr).toBe('Connection error: Not authorized\n');
    for (const [mine, theirs] of [
      [v3, m3],
      [v5, m5],
      [bad3, mbad3],
      [bad5, mbad5],
    ] as const) {
      expect(mine.stderr.split('\n')[0]).toBe(theirs.stderr.split('\n')[0]);
    }
  });

  it('a publish the broker refuses (MQTT 5 PUBACK 0x87): exit 1 with the reason', async () => {
    const L = ['-h', '127.0.0.1', '-p', String(locked.port), '-u', 'alice', '-P', 'wonderland', '-V', '5'];
    const [denied, allowed] = await Promise.all([
      ours(['pub', ...L, '-t', 'secret/a', '-m', 'x', '-q', '1']),
      ours(['pub', ...L, '-t', 'open/a', '-m', 'x', '-q', '1']),
    ]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toBe('Error: Publish 1 failed: Not authorized.\n');
    expect(allowed.code).toBe(0);
  });
});

describe.concurrent('pub → sub round trips', () => {
  const cases = [0, 1, 2].flatMap((q) => [
    [q, '311'],
    [q, '5'],
  ]) as [number, string][];
  it.each(cases)('QoS %i, MQTT %s', async (q, v) => {
    const t = topic(`rt${q}`);
    const s = await subscriber('ours', [...P(), '-t', t, '-q', String(q), '-C', '1', '-V', v, '-F', '%t|%q|%r|%m|%p']);
    const p = await ours(['pub', ...P(), '-A', '127.0.0.1', '-t', t, '-m', `hello ${q}`, '-q', String(q), '-V', v]);
    expect(p).toMatchObject({ code: 0, stderr: '' });
    const r = await s.done;
    expect(r.code).toBe(0);
    expect(r.lines).toHaveLength(1);
    const [tt, qq, rr, mid, payload] = r.lines[0]!.split('|');
    expect([tt, qq, rr, payload]).toEqual([t, String(q), '0', `hello ${q}`]);
    if (q > 0) expect(Number(mid)).toBeGreaterThan(0);
    else expect(mid).toBe('0');
  });

  it('retained messages, -R, -C and -W (exit 27 "Timed out", even after messages)', async () => {
    const t = topic('retained');
    expect((await ours(['pub', ...P(), '-t', t, '-m', 'kept', '-r', '-q', '1'])).code).toBe(0);
    const [first, fresh, timed] = await Promise.all([
      ours(['sub', ...P(), '-t', t, '-C', '1', '-F', '%r %p']),
      ours(['sub', ...P(), '-t', t, '-R', '-W', '1', '-v']),
      ours(['sub', ...P(), '-t', t, '-W', '1', '-v']),
    ]);
    expect(first).toMatchObject({ code: 0, lines: ['1 kept'] });
    expect(fresh).toMatchObject({ code: 27, stderr: 'Timed out\n', lines: [] });
    expect(timed).toMatchObject({ code: 27, stderr: 'Timed out\n', lines: [`${t} kept`] });
    // --retained-only prints the stale message and exits at the first fresh one.
    const only = await subscriber('ours', [...P(), '-t', t, '--retained-only', '-v']);
    expect((await ours(['pub', ...P(), '-t', t, '-m', 'fresh'])).code).toBe(0);
    expect(await only.done).toMatchObject({ code: 0, lines: [`${t} kept`] });
    expect((await ours(['pub', ...P(), '-t', t, '-n', '-r'])).code).toBe(0);
    const gone = await ours(['sub', ...P(), '-t', t, '-W', '1', '-v']);
    expect(gone).toMatchObject({ code: 27, lines: [] });
  });

  it('persistent sessions: -c -i with -E creates one, messages queue, -U unsubscribes', async () => {
    const t = topic('session');
    const id = `cli-${process.pid}-${seq}`;
    const S = [...P(), '-c', '-i', id, '-q', '1'];
    expect(await ours(['sub', ...S, '-t', t, '-E'])).toMatchObject({ code: 0, lines: [] });
    expect((await ours(['pub', ...P(), '-t', t, '-m', 'queued', '-q', '1'])).code).toBe(0);
    expect(await ours(['sub', ...S, '-t', t, '-C', '1', '-v'])).toMatchObject({ code: 0, lines: [`${t} queued`] });
    expect(await ours(['sub', ...S, '-U', t, '-E'])).toMatchObject({ code: 0, lines: [] });
    expect((await ours(['pub', ...P(), '-t', t, '-m', 'not for us', '-q', '1'])).code).toBe(0);
    expect(await ours(['sub', ...S, '-t', `${t}/other`, '-W', '1', '-v'])).toMatchObject({ code: 27, lines: [] });
  });

  it('--will-topic: the broker publishes the Will when the client dies', async () => {
    const t = topic('will');
    const watcher = await subscriber('mosquitto_sub', [...P(), '-t', t, '-C', '1', '-F', '%t|%p|%q']);
    const dying = await subscriber('ours', [
      ...P(),
      '-t',
      topic('will-sub'),
      '--will-topic',
      t,
      '--will-payload',
      'gone',
      '--will-qos',
      '1',
      '-k',
      '5',
    ]);
    dying.child.kill('SIGKILL');
    expect(await watcher.done).toMatchObject({ code: 0, lines: [`${t}|gone|0`] });
  });

  it('-C stops after the count; -v prints "topic (null)" for an empty payload', async () => {
    const t = topic('count');
    const s = await subscriber('ours', [...P(), '-t', `${t}/#`, '-C', '2', '-v', '-q', '1']);
    await ours(['pub', ...P(), '-t', `${t}/a`, '-n', '-q', '1']);
    await ours(['pub', ...P(), '-t', `${t}/b`, '-m', 'two', '-q', '1']);
    await ours(['pub', ...P(), '-t', `${t}/c`, '-m', 'three', '-q', '1']);
    expect(await s.done).toMatchObject({ code: 0, lines: [`${t}/a (null)`, `${t}/b two`] });
  });

  it('-l sends each stdin line (empty lines too, \\r kept); -s, -f and --repeat', async () => {
    const t = topic('lines');
    const s = await subscriber('ours', [...P(), '-t', t, '-C', '7', '-F', '[%p]', '-q', '1']);
    expect((await ours(['pub', ...P(), '-t', t, '-l', '-q', '1'], 'l1\n\nl3\r\nl4')).code).toBe(0);
    expect((await ours(['pub', ...P(), '-t', t, '-s', '-q', '1'], 'all\nof it')).code).toBe(0);
    const f = join(dir, 'payload.bin');
    writeFileSync(f, 'from file');
    expect((await ours(['pub', ...P(), '-t', t, '-f', f, '--repeat', '2', '--repeat-delay', '0.05'])).code).toBe(0);
    const r = await s.done;
    expect(r.code).toBe(0);
    expect(r.lines).toEqual(['[l1]', '[]', '[l3\r]', '[l4]', '[all', 'of it]', '[from file]', '[from file]']);
    const missing = await ours(['pub', ...P(), '-t', t, '-f', join(dir, 'nope')]);
    expect(missing).toMatchObject({ code: 1, stderr: `Error: Unable to open file "${join(dir, 'nope')}".\n` });
  });

  it('-D user properties arrive and show in -F %P and %j (ours and mosquitto_sub)', async () => {
    const t = topic('props');
    const fmt = '%P|%C|%R|%D|%F|%j';
    const [a, b] = await Promise.all([
      subscriber('ours', [...P(), '-t', t, '-C', '1', '-V', '5', '-F', fmt]),
      subscriber('mosquitto_sub', [...P(), '-t', t, '-C', '1', '-V', '5', '-F', fmt]),
    ]);
    const p = await ours([
      'pub',
      ...P(),
      '-t',
      t,
      '-m',
      'with props',
      '-q',
      '1',
      '-D',
      'publish',
      'user-property',
      'source',
      'cli',
      '-D',
      'publish',
      'user-property',
      'k',
      'v',
      '-D',
      'publish',
      'content-type',
      'text/plain',
      '-D',
      'publish',
      'response-topic',
      'r/t',
      '-D',
      'publish',
      'correlation-data',
      'cd',
      '-D',
      'publish',
      'payload-format-indicator',
      '1',
    ]);
    expect(p.code).toBe(0);
    const [mine, theirs] = await Promise.all([a.done, b.done]);
    const norm = (s: string) => s.replace(/"tst":"[^"]*"/, '"tst":"T"');
    expect(mine.lines).toHaveLength(1);
    expect(mine.lines[0]!.startsWith('source:cli k:v|text/plain|r/t|cd|1|{')).toBe(true);
    expect(mine.lines[0]).toContain('"user-properties":{"source":"cli","k":"v"}');
    expect(norm(mine.lines[0]!)).toBe(norm(theirs.lines[0]!));
  });

  it('sub reconnects and re-subscribes when the broker restarts (as mosquitto_sub)', async () => {
    const own = await startMosquitto();
    try {
      const t = topic('restart');
      const O = ['-h', '127.0.0.1', '-p', String(own.port)];
      const s = await subscriber('ours', [...O, '-t', t, '-C', '1', '-v']);
      await own.process.stop();
      const again = await startMosquitto({ port: own.port });
      try {
        // Publish until the re-subscribed client gets one (the reconnect backoff decides when).
        let result: Result | undefined;
        void s.done.then((r) => {
          result = r;
        });
        for (let i = 0; i < 100 && !result; i++) {
          await ours(['pub', ...O, '-t', t, '-m', 'after restart']);
          await new Promise((r) => setTimeout(r, 200));
        }
        expect(await s.done).toMatchObject({ code: 0, lines: [`${t} after restart`] });
      } finally {
        await again.stop();
      }
    } finally {
      await own.stop();
    }
  }, 60_000);

  it('SIGINT ends sub cleanly with exit 0', async () => {
    const s = await subscriber('ours', [...P(), '-t', topic('sigint')]);
    s.child.kill('SIGINT');
    expect((await s.done).code).toBe(0);
  });
});

describe.concurrent('-F output, byte for byte against mosquitto_sub', () => {
  it('fields, widths, flags, escapes and %j for text, binary, empty and property-laden messages', async () => {
    const t = topic('fmt');
    const fmt =
      '%t|%p|%q|%r|%l|%x|%X|%P|%C|%R|%D|%F|%A|%S|[%10t]|[%-10t]|[%.2t]|[%05l]|[%-p]|[%6x]|[%-8X]|[%10p]|[%03A]|[%5C]|%%|@@|\\t|%j';
    const args = [...P(), '-t', `${t}/#`, '-C', '4', '-V', '5', '-q', '1', '-F', fmt];
    const [a, b] = await Promise.all([subscriber('ours', args), subscriber('mosquitto_sub', args)]);
    const props = [
      '-D',
      'publish',
      'user-property',
      'k',
      'v',
      '-D',
      'publish',
      'user-property',
      'k',
      'v2',
      '-D',
      'publish',
      'content-type',
      'text/plain',
    ];
    await run('mosquitto_pub', [
      ...P(),
      '-t',
      `${t}/a`,
      '-m',
      'he"l\\lo',
      '-q',
      '1',
      '-V',
      '5',
      ...props,
      '-D',
      'publish',
      'response-topic',
      'r/t',
      '-D',
      'publish',
      'correlation-data',
      'cd',
    ]);
    await run('mosquitto_pub', [...P(), '-t', `${t}/bb`, '-m', 'abc', '-q', '0']);
    await run('mosquitto_pub', [...P(), '-t', `${t}/ccc`, '-s', '-q', '1'], Buffer.from([0x61, 0x01, 0xff, 0x62, 0x1b, 0x7f]));
    await run('mosquitto_pub', [...P(), '-t', `${t}/dddd`, '-n', '-q', '1', '-V', '5', '-D', 'publish', 'payload-format-indicator', '0']);
    const [mine, theirs] = await Promise.all([a.done, b.done]);
    expect(mine.code).toBe(0);
    const norm = (lines: string[]) => lines.map((l) => l.replace(/"tst":"[^"]*"/, '"tst":"T"').replace(/"mid":\d+/, '"mid":N'));
    expect(norm(mine.lines)).toHaveLength(4);
    expect(norm(mine.lines)).toEqual(norm(theirs.lines));
  });

  it('%J prints JSON payloads as cJSON does and reports the others on stderr', async () => {
    const t = topic('json');
    const payloads = [
      '{"a":1}',
      '  [1, 27.0, 1.5e-7, 0.1, 3e9, 1e400, -0.0, "x\\u00e9\\/\\n", {"a":{}, "b":[], "a":true}, null, false, 123456789012345678, 0.30000000000000004]  ',
      '01',
      '[1,]',
      'not json',
      '"\\ud83d\\ude00 \\u0001"',
      '0.333333333333333314829616256247390992939472198486328125',
      '[1e-5, 2.5e-300, 1E+2, -12.50]',
      '{"k":"tab\\tquote\\"back\\\\"}',
      '{}',
    ];
    const args = [...P(), '-t', t, '-C', String(payloads.length), '-q', '1', '-F', '%J'];
    const [a, b] = await Promise.all([subscriber('ours', args), subscriber('mosquitto_sub', args)]);
    for (const m of payloads) await run('mosquitto_pub', [...P(), '-t', t, '-m', m, '-q', '1']);
    const [mine, theirs] = await Promise.all([a.done, b.done]);
    const norm = (lines: string[]) => lines.map((l) => l.replace(/"tst":"[^"]*"/, '"tst":"T"').replace(/"mid":\d+/, '"mid":N'));
    expect(mine.lines).toHaveLength(payloads.length);
    expect(norm(mine.lines)).toEqual(norm(theirs.lines));
    expect(mine.stderr).toBe(theirs.stderr);
    expect(mine.stderr).toContain(`Error: Message payload is not valid JSON on topic ${t}.`);
  });

  it('time sequences have the same shape as mosquitto_sub’s', async () => {
    const t = topic('time');
    const fmt = '%I|%U|@Y-@m-@dT@H:@M:@S@z|@N|@s';
    const args = [...P(), '-t', t, '-C', '1', '-F', fmt];
    const [a, b] = await Promise.all([subscriber('ours', args), subscriber('mosquitto_sub', args)]);
    await run('mosquitto_pub', [...P(), '-t', t, '-m', 'x']);
    const [mine, theirs] = await Promise.all([a.done, b.done]);
    const shape = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4})\|(\d+)\.\d{9}\|(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4})\|\d{9}\|(\d+)$/;
    const m1 = shape.exec(mine.lines[0]!);
    const m2 = shape.exec(theirs.lines[0]!);
    expect(m1, mine.lines[0]).not.toBeNull();
    expect(m2, theirs.lines[0]).not.toBeNull();
    expect(Math.abs(Number(m1![2]) - Number(m2![2]))).toBeLessThanOrEqual(2);
    expect(Math.abs(Date.parse(m1![1]!.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')) - Date.now())).toBeLessThan(60_000);
  });
});

describe.concurrent('cross-checks with mosquitto_pub / mosquitto_sub', () => {
  it('mosquitto_sub receives what iotwire-mqtt pub sends (QoS 2, MQTT 5, retained)', async () => {
    const t = topic('cross1');
    const s = await subscriber('mosquitto_sub', [...P(), '-t', t, '-C', '2', '-q', '2', '-V', '5', '-F', '%t|%q|%p|%P']);
    await run('iotwire-pub', [...P(), '-t', t, '-m', 'one', '-q', '2', '-V', '5', '-D', 'publish', 'user-property', 'a', 'b']);
    await ours(['pub', ...P(), '-t', t, '-m', 'two', '-q', '1']);
    expect(await s.done).toMatchObject({ code: 0, lines: [`${t}|2|one|a:b`, `${t}|1|two|`] });
  });

  it('iotwire-sub receives what mosquitto_pub sends (QoS 1/2, line mode)', async () => {
    const t = topic('cross2');
    const s = await subscriber('ours', [...P(), '-t', t, '-C', '3', '-q', '2', '-F', '%q %p']);
    await run('mosquitto_pub', [...P(), '-t', t, '-m', 'first', '-q', '1']);
    await run('mosquitto_pub', [...P(), '-t', t, '-l', '-q', '2'], 'second\nthird\n');
    expect(await s.done).toMatchObject({ code: 0, lines: ['1 first', '2 second', '2 third'] });
    const viaAlias = await run('iotwire-sub', [...P(), '-t', t, '-W', '1']);
    expect(viaAlias.code).toBe(27);
  });
});

describe.concurrent('TLS and WebSocket', () => {
  const TLS = () => ['-h', 'localhost', '-p', String(broker.tlsPort)];

  it('--cafile: round trip over TLS; -L mqtts:// too', async () => {
    const t = topic('tls');
    const s = await subscriber('ours', [...TLS(), '--cafile', files['ca.pem']!, '-t', t, '-C', '2', '-v']);
    expect((await ours(['pub', ...TLS(), '--cafile', files['ca.pem']!, '-t', t, '-m', 'secure', '-q', '1'])).code).toBe(0);
    expect(
      (
        await ours([
          'pub',
          '-L',
          `mqtts://localhost:${broker.tlsPort}/${t}`,
          '--cafile',
          files['ca.pem']!,
          '-m',
          'url',
          '--tls-version',
          'tlsv1.3',
        ])
      ).code,
    ).toBe(0);
    expect(await s.done).toMatchObject({ code: 0, lines: [`${t} secure`, `${t} url`] });
  });

  it('client certificates: --cert/--key accepted, none refused', async () => {
    const t = topic('mtls');
    const M = ['-h', 'localhost', '-p', String(mutualPort), '--cafile', files['ca.pem']!];
    const [withCert, without] = await Promise.all([
      ours(['pub', ...M, '--cert', files['client.crt']!, '--key', files['client.key']!, '-t', t, '-m', 'x', '-q', '1']),
      ours(['pub', ...M, '-t', t, '-m', 'x', '-q', '1']),
    ]);
    expect(withCert).toMatchObject({ code: 0, stderr: '' });
    expect(without.code).toBe(1);
    expect(without.stderr).toMatch(
      new RegExp(`^Error: (TLS connection to localhost:${mutualPort} failed|Unable to connect to localhost:${mutualPort})`),
    );
    expect(without.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('an untrusted CA fails; a host-name mismatch fails unless --insecure', async () => {
    const t = topic('insecure');
    const O = ['-h', 'localhost', '-p', String(otherNamePort), '--cafile', files['ca.pem']!, '-t', t, '-m', 'x'];
    const [rogue, mismatch, insecure, missing] = await Promise.all([
      ours(['pub', ...TLS(), '--cafile', files['rogue-ca.pem']!, '-t', t, '-m', 'x']),
      ours(['pub', ...O]),
      ours(['pub', ...O, '--insecure']),
      ours(['pub', ...TLS(), '--cafile', join(dir, 'missing.pem'), '-t', t, '-m', 'x']),
    ]);
    expect(rogue.code).toBe(1);
    expect(rogue.stderr).toMatch(new RegExp(`^Error: TLS connection to localhost:${broker.tlsPort} failed: .*\\n$`));
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/ALTNAME|host ?name|does not match/i);
    expect(insecure).toMatchObject({ code: 0, stderr: '' });
    expect(missing).toMatchObject({ code: 1, stderr: 'Error: Problem setting TLS options: File not found.\n' });
  });

  it('-L ws:// for sub and pub', async () => {
    const t = topic('ws');
    const s = await subscriber('ours', ['-L', `ws://127.0.0.1:${broker.wsPort}/${t}`, '-C', '2', '-F', '%t %p', '-q', '1']);
    expect((await ours(['pub', '-L', `ws://127.0.0.1:${broker.wsPort}/${t}`, '-m', 'over websocket', '-q', '1', '-V', '5'])).code).toBe(0);
    expect(
      (await ours(['pub', '--ws', '-h', '127.0.0.1', '-p', String(broker.wsPort), '--ws-path', '/mqtt', '-t', t, '-m', 'with --ws'])).code,
    ).toBe(0);
    expect(await s.done).toMatchObject({ code: 0, lines: [`${t} over websocket`, `${t} with --ws`] });
  });
});

describe.concurrent('bench', () => {
  it('prints progress on stderr and the summary table on stdout', async () => {
    const r = await ours([
      'bench',
      ...P(),
      '--publishers',
      '2',
      '--subscribers',
      '2',
      '-C',
      '200',
      '-q',
      '1',
      '--size',
      '32',
      '-t',
      topic('bench'),
    ]);
    expect(r.code).toBe(0);
    const out = r.stdout.toString();
    expect(out).toMatch(/\| Messages sent +\| +400 \|/);
    expect(out).toMatch(/\| Messages received +\| +800 \|/);
    expect(out).toMatch(/\| Lost +\| +0 \|/);
    for (const p of ['p50', 'p95', 'p99']) expect(out).toMatch(new RegExp(`\\| Latency ${p} \\(ms\\) +\\| +\\d+\\.\\d{3} \\|`));
    expect(out).toMatch(/\| Receive rate \(msg\/s\) +\| +[\d,]+ \|/);
    expect(r.stderr).toMatch(/^progress: sent=400 received=800 elapsed=\d+\.\d+s$/m);
  });

  it('--json and --duration with --rate', async () => {
    const r = await ours([
      'bench',
      ...P(),
      '--duration',
      '1',
      '--rate',
      '200',
      '-q',
      '0',
      '--json',
      '--no-progress',
      '-t',
      topic('bench2'),
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const j = JSON.parse(r.stdout.toString()) as { sent: number; received: number; latencyMs: { p50: number; p99: number } };
    expect(j.sent).toBeGreaterThan(50);
    expect(j.sent).toBeLessThanOrEqual(205);
    expect(j.received).toBe(j.sent);
    expect(j.latencyMs.p99).toBeGreaterThanOrEqual(j.latencyMs.p50);
  });
});
