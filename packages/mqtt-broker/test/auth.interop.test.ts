// Authentication (password file, TLS client-certificate identity) and authorization (ACL file)
// over real sockets, with clients nobody here wrote: Debian's mosquitto_pub / mosquitto_sub and
// MQTT.js (3.1.1 and 5.0).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki } from '@iotwire/tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AclFile,
  aclAuthorization,
  type BrokerListenerOptions,
  type BrokerOptions,
  hashPassword,
  PasswordFile,
  passwordFileAuth,
} from '../src/index.js';
import { startBroker } from './helpers/broker.js';
import { mosquittoPub, mosquittoSub } from './helpers/mosquitto-clients.js';

const ACL = `
# anonymous clients
topic read public/#

user alice
topic readwrite alice/#
topic read shared/#
topic deny shared/secret
topic read $SYS/#

user bob
topic write shared/#
topic readwrite bob/#
topic readwrite $SYS/#

user device
topic readwrite device/#

pattern readwrite devices/%c/#
pattern read users/%u/inbox
`;

const dir = mkdtempSync(join(tmpdir(), 'iotwire-auth-'));
const passwdPath = join(dir, 'passwd');
const aclPath = join(dir, 'acl');
writeFileSync(aclPath, ACL);

async function authBroker(options: BrokerOptions = {}, listeners?: BrokerListenerOptions[], allowAnonymous = false) {
  const file = PasswordFile.empty(passwdPath);
  await file.set('alice', 'alice-pw');
  await file.set('bob', 'bob-pw');
  await file.save();
  const passwords = await PasswordFile.load(passwdPath);
  const acl = await AclFile.load(aclPath);
  return startBroker({ ...options, hooks: [passwordFileAuth(passwords, { allowAnonymous }), aclAuthorization(acl)] }, listeners);
}

const clients: MqttClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.endAsync(true).catch(() => {});
});
async function js(port: number, opts: IClientOptions): Promise<MqttClient> {
  const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
  clients.push(c);
  return c;
}
async function jsError(port: number, opts: IClientOptions): Promise<{ code?: number; message: string }> {
  try {
    await js(port, opts);
  } catch (err) {
    return err as { code?: number; message: string };
  }
  throw new Error('connected');
}
/** SUBACK codes (MQTT.js rejects a SUBSCRIBE with any refusal; the codes are on the error). */
async function suback(c: MqttClient, topics: string[]): Promise<number[]> {
  try {
    return (await c.subscribeAsync(topics)).map((g) => g.qos);
  } catch (err) {
    const granted = (err as { packet?: { granted?: number[] } }).packet?.granted;
    if (granted === undefined) throw err;
    return granted;
  }
}
function received(c: MqttClient): string[] {
  const got: string[] = [];
  c.on('message', (t, p) => got.push(`${t}=${p.toString()}`));
  return got;
}
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('password file', () => {
  it('wrong or unknown password: mosquitto_pub (3.1.1) gets 0x04, MQTT.js 5.0 gets 0x86; the right one connects', async () => {
    const { port } = await authBroker();
    const p = String(port);
    await expect(mosquittoPub(['-h', '127.0.0.1', '-p', p, '-u', 'alice', '-P', 'nope', '-t', 'alice/x', '-m', 'x'])).rejects.toThrow(
      /bad user name or password/i,
    );
    await expect(mosquittoPub(['-h', '127.0.0.1', '-p', p, '-u', 'mallory', '-P', 'x', '-t', 'a', '-m', 'x'])).rejects.toThrow(
      /bad user name or password/i,
    );
    await mosquittoPub(['-h', '127.0.0.1', '-p', p, '-u', 'alice', '-P', 'alice-pw', '-t', 'alice/x', '-m', 'x']);
    expect((await jsError(port, { protocolVersion: 5, username: 'alice', password: 'wrong' })).code).toBe(0x86);
    expect((await jsError(port, { protocolVersion: 4, username: 'alice', password: 'wrong' })).code).toBe(4);
    await js(port, { protocolVersion: 5, username: 'bob', password: 'bob-pw' });
  });

  it('anonymous access is off with a password file (0x05 / 0x87) unless allowed; anonymous clients get the anonymous ACL', async () => {
    const closed = await authBroker();
    await expect(mosquittoPub(['-h', '127.0.0.1', '-p', String(closed.port), '-t', 'public/x', '-m', 'x'])).rejects.toThrow(
      /not authori[sz]ed/i,
    );
    expect((await jsError(closed.port, { protocolVersion: 5 })).code).toBe(0x87);

    const open = await authBroker({}, undefined, true);
    const anon = await js(open.port, { protocolVersion: 5, clientId: 'anon' });
    expect(await suback(anon, ['public/#', 'alice/#'])).toEqual([0, 0x87]);
  });

  it("the broker's allowAnonymous: false refuses clients without credentials even with no hook", async () => {
    const { port } = await startBroker({ allowAnonymous: false });
    await expect(mosquittoPub(['-h', '127.0.0.1', '-p', String(port), '-t', 'a', '-m', 'x'])).rejects.toThrow(/not authori[sz]ed/i);
    await mosquittoPub(['-h', '127.0.0.1', '-p', String(port), '-u', 'anyone', '-t', 'a', '-m', 'x']);
  });

  it('reads a password file written by mosquitto_passwd ($7$ PBKDF2-SHA512)', async () => {
    const { spawnSync } = await import('node:child_process');
    const { requireBinary } = await import('@iotwire/interop');
    const f = join(dir, 'mosquitto-passwd');
    const r = spawnSync(requireBinary('mosquitto_passwd'), ['-c', '-b', f, 'carol', 'carol-pw'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const file = await PasswordFile.load(f);
    expect(await file.verify('carol', 'carol-pw')).toBe(true);
    expect(await file.verify('carol', 'carol-pw!')).toBe(false);
    const { port } = await startBroker({ hooks: [passwordFileAuth(file)] });
    await mosquittoPub(['-h', '127.0.0.1', '-p', String(port), '-u', 'carol', '-P', 'carol-pw', '-t', 'a', '-m', 'x']);
  });

  it('reload() picks up a changed file; a broken file is refused and the old one stays', async () => {
    const path = join(dir, 'reload-passwd');
    writeFileSync(path, `dave:${await hashPassword('one')}\n`);
    const file = await PasswordFile.load(path);
    const { port } = await startBroker({ hooks: [passwordFileAuth(file)] });
    await js(port, { protocolVersion: 5, username: 'dave', password: 'one' });
    writeFileSync(path, `dave:${await hashPassword('two')}\n`);
    await file.reload();
    expect((await jsError(port, { protocolVersion: 5, username: 'dave', password: 'one' })).code).toBe(0x86);
    await js(port, { protocolVersion: 5, username: 'dave', password: 'two' });
    writeFileSync(path, 'dave:plaintext\n');
    await expect(file.reload()).rejects.toMatchObject({ code: 'ERR_AUTH_FILE', message: expect.stringContaining(':1:') });
    await js(port, { protocolVersion: 5, username: 'dave', password: 'two' });
  });
});

describe('ACL file', () => {
  it('denied publish: 5.0 PUBACK 0x87 (MQTT.js); 3.1.1 acknowledged and dropped (mosquitto_pub)', async () => {
    const { port } = await authBroker();
    const bob = await js(port, { protocolVersion: 5, clientId: 'bobsub', username: 'bob', password: 'bob-pw' });
    const got = received(bob);
    await bob.subscribeAsync('bob/#', { qos: 1 });
    const alice = await js(port, { protocolVersion: 5, username: 'alice', password: 'alice-pw' });
    await expect(alice.publishAsync('bob/inbox', 'from alice', { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
    // 3.1.1 cannot refuse: mosquitto_pub succeeds, nothing is delivered.
    await mosquittoPub([
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-u',
      'alice',
      '-P',
      'alice-pw',
      '-q',
      '1',
      '-t',
      'bob/inbox',
      '-m',
      'dropped',
    ]);
    await mosquittoPub(['-h', '127.0.0.1', '-p', String(port), '-u', 'bob', '-P', 'bob-pw', '-q', '1', '-t', 'bob/inbox', '-m', 'allowed']);
    await until(() => got.length > 0);
    expect(got).toEqual(['bob/inbox=allowed']);
  });

  it('denied subscribe: SUBACK 0x87 (5.0) / 0x80 (3.1.1), seen by mosquitto_sub and MQTT.js', async () => {
    const { port } = await authBroker();
    const sub5 = mosquittoSub([
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-V',
      'mqttv5',
      '-u',
      'alice',
      '-P',
      'alice-pw',
      '-t',
      'bob/#',
      '-d',
    ]);
    await sub5.waitOutput(/SUBACK/);
    await sub5.waitOutput(/denied/i);
    sub5.stop();
    const a4 = await js(port, { protocolVersion: 4, username: 'alice', password: 'alice-pw' });
    expect(await suback(a4, ['bob/#', 'alice/#', 'shared/secret'])).toEqual([0x80, 0, 0x80]);
    const a5 = await js(port, { protocolVersion: 5, username: 'alice', password: 'alice-pw' });
    expect(await suback(a5, ['bob/#', 'shared/#', '$share/g/bob/x'])).toEqual([0x87, 0, 0x87]);
  });

  it('delivery is filtered: a "#" subscriber only receives topics it may read (deny wins)', async () => {
    const { port, broker } = await authBroker();
    const sub = mosquittoSub(['-h', '127.0.0.1', '-p', String(port), '-u', 'alice', '-P', 'alice-pw', '-t', '#', '-v', '-q', '1']);
    await until(() => [...broker.sessions.values()].some((s) => s.subscriptions.some((x) => x.topicFilter === '#')));
    const bob = await js(port, { protocolVersion: 5, username: 'bob', password: 'bob-pw' });
    await bob.publishAsync('shared/secret', 'no', { qos: 1 });
    await bob.publishAsync('bob/private', 'no', { qos: 1 });
    await broker.publish({ topic: 'elsewhere/x', payload: 'no' });
    await bob.publishAsync('shared/news', 'yes', { qos: 1 });
    expect(await sub.waitLines(1)).toEqual(['shared/news yes']);
    // A retained message the subscriber may not read is not sent on subscribe either.
    await bob.publishAsync('shared/secret', 'retained-no', { qos: 1, retain: true });
    await bob.publishAsync('shared/open', 'retained-yes', { qos: 1, retain: true });
    const late = await js(port, { protocolVersion: 5, username: 'alice', password: 'alice-pw' });
    const got = received(late);
    await late.subscribeAsync('shared/#');
    await until(() => got.length >= 1);
    await bob.publishAsync('shared/end', 'x', { qos: 1 });
    await until(() => got.length >= 2);
    expect(got).toEqual(['shared/open=retained-yes', 'shared/end=x']);
    expect(await sub.waitLines(3)).toEqual(['shared/news yes', 'shared/open retained-yes', 'shared/end x']);
    sub.stop();
    expect(sub.lines).toHaveLength(3);
  });

  it('%c and %u patterns; $SYS is read-only for clients whatever the ACL says', async () => {
    const { port, broker } = await authBroker();
    const bob = await js(port, { protocolVersion: 5, clientId: 'dev1', username: 'bob', password: 'bob-pw' });
    await bob.publishAsync('devices/dev1/state', 'ok', { qos: 1 });
    await expect(bob.publishAsync('devices/dev2/state', 'no', { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
    await expect(bob.publishAsync('$SYS/broker/uptime', 'forged', { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
    const alice = await js(port, { protocolVersion: 5, username: 'alice', password: 'alice-pw' });
    const got = received(alice);
    expect(await suback(alice, ['$SYS/#', 'users/alice/inbox', 'users/bob/inbox'])).toEqual([0, 0, 0x87]);
    await broker.publish({ topic: '$SYS/broker/uptime', payload: '42' });
    await broker.publish({ topic: 'users/alice/inbox', payload: 'hi' });
    await until(() => got.length >= 2);
    expect(got.sort()).toEqual(['$SYS/broker/uptime=42', 'users/alice/inbox=hi']);
  });

  it('a Will is published only to a topic its owner may write', async () => {
    const { port } = await authBroker();
    const bob = await js(port, { protocolVersion: 5, username: 'bob', password: 'bob-pw' });
    const got = received(bob);
    await bob.subscribeAsync('bob/#');
    for (const [topic, id] of [
      ['bob/will-denied', 'w1'],
      ['alice/will-allowed', 'w2'],
    ]) {
      const c = await js(port, {
        protocolVersion: 5,
        clientId: id,
        username: 'alice',
        password: 'alice-pw',
        will: { topic: topic as string, payload: Buffer.from(id as string), qos: 1, retain: false },
      });
      (c as unknown as { stream: { destroy(): void } }).stream.destroy();
    }
    const alice = await js(port, { protocolVersion: 5, username: 'alice', password: 'alice-pw' });
    const seen = received(alice);
    await alice.subscribeAsync('alice/#');
    const w = await js(port, {
      protocolVersion: 5,
      clientId: 'w3',
      username: 'alice',
      password: 'alice-pw',
      will: { topic: 'alice/will-allowed', payload: Buffer.from('w3'), qos: 1, retain: false },
    });
    (w as unknown as { stream: { destroy(): void } }).stream.destroy();
    await until(() => seen.length >= 1);
    await bob.publishAsync('bob/end', 'x', { qos: 1 });
    await until(() => got.length >= 1);
    expect(got).toEqual(['bob/end=x']);
    expect(seen).toEqual(['alice/will-allowed=w3']);
  });

  it('reload() applies a changed ACL to connected clients; a broken file is refused and the old rules stay', async () => {
    const path = join(dir, 'reload-acl');
    writeFileSync(path, 'topic readwrite a/#\n');
    const acl = await AclFile.load(path);
    const { port } = await startBroker({ hooks: [aclAuthorization(acl)] });
    const c = await js(port, { protocolVersion: 5 });
    await c.publishAsync('a/1', 'x', { qos: 1 });
    writeFileSync(path, 'topic readwrite b/#\n');
    await acl.reload();
    await expect(c.publishAsync('a/1', 'x', { qos: 1 })).rejects.toMatchObject({ code: 0x87 });
    await c.publishAsync('b/1', 'x', { qos: 1 });
    writeFileSync(path, 'topic readwrite b/#\nbogus line\n');
    await expect(acl.reload()).rejects.toMatchObject({ code: 'ERR_AUTH_FILE', message: expect.stringContaining(':2:') });
    await c.publishAsync('b/2', 'x', { qos: 1 });
  });
});

describe('TLS client certificates', () => {
  const pki = createTestPki({ clients: ['device'] });
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, pki.ca.cert);
  const files = (name: string, pair: { cert: string; key: string }) => {
    writeFileSync(join(dir, `${name}.crt`), pair.cert);
    writeFileSync(join(dir, `${name}.key`), pair.key);
    return ['--cert', join(dir, `${name}.crt`), '--key', join(dir, `${name}.key`)];
  };
  const device = files('device', pki.clients.device as { cert: string; key: string });
  const rogue = files('rogue', pki.rogue.client);
  const tlsListener = (): BrokerListenerOptions => ({
    protocol: 'tls',
    host: '127.0.0.1',
    port: 0,
    certificate: { cert: pki.server.cert, key: pki.server.key },
    tls: { trustedCaCerts: pki.ca.cert },
    certificateIdentity: 'cn',
  });

  it('the certificate CN is the user name (CONNECT credentials ignored) and the ACL applies to it', async () => {
    const { port, broker } = await authBroker({}, [tlsListener()]);
    const base = ['-h', 'localhost', '-p', String(port), '--cafile', caFile, ...device];
    const sub = mosquittoSub([...base, '-i', 'devsub', '-t', '#', '-v', '-q', '1']);
    await until(() => broker.sessions.get('devsub')?.subscriptions.length === 1);
    expect([...broker.connections.values()].find((c) => c.clientId === 'devsub')?.userName).toBe('device');
    // A wrong password does not matter: the certificate authenticates.
    await mosquittoPub([...base, '-u', 'alice', '-P', 'wrong', '-t', 'alice/x', '-m', 'denied', '-q', '1']);
    await mosquittoPub([...base, '-t', 'device/state', '-m', 'allowed', '-q', '1']);
    expect(await sub.waitLines(1)).toEqual(['device/state allowed']);
    sub.stop();
  });

  it('a certificate from another CA is rejected in the handshake; no certificate is rejected too', async () => {
    const { port, broker } = await authBroker({}, [tlsListener()]);
    const verdicts: string[] = [];
    broker.on('sslClientAuthentication', (e) => void verdicts.push(e.status));
    const base = ['-h', 'localhost', '-p', String(port), '--cafile', caFile, '-t', 'device/x', '-m', 'x'];
    await expect(mosquittoPub([...base, ...rogue])).rejects.toThrow();
    await expect(mosquittoPub(base)).rejects.toThrow();
    expect(verdicts.length).toBeGreaterThanOrEqual(1);
    expect(verdicts.every((v) => v !== 'OK')).toBe(true);
    expect(broker.sessions.size).toBe(0);
    const err = await mqtt
      .connectAsync(`mqtts://localhost:${port}`, {
        ca: pki.ca.cert,
        cert: pki.rogue.client.cert,
        key: pki.rogue.client.key,
        reconnectPeriod: 0,
        connectTimeout: 5000,
      })
      .then(
        (c) => {
          clients.push(c);
          return undefined;
        },
        (e: Error) => e,
      );
    expect(err).toBeInstanceOf(Error);
  });
});
