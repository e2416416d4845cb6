// Interop with Debian's mosquitto_pub / mosquitto_sub (2.0.11): MQTT 3.1.1 and 5.0 over TCP
// and TLS. Debian's clients are built without WebSocket support (no --ws option, `-L ws://`
// is refused), so WebSocket interop is proven with MQTT.js in mqttjs.interop.test.ts.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki } from '@iotwire/tls';
import { describe, expect, it } from 'vitest';
import { nextEvent, startBroker } from './helpers/broker.js';
import { mosquittoPub, mosquittoSub } from './helpers/mosquitto-clients.js';

const versions = [
  ['3.1.1', 'mqttv311'],
  ['5.0', 'mqttv5'],
  ['3.1', 'mqttv31'],
] as const;

describe('mosquitto_pub/mosquitto_sub over TCP', () => {
  for (const [label, v] of versions) {
    it(`MQTT ${label}: QoS 0, 1 and 2 in both directions`, async () => {
      const { broker, port } = await startBroker();
      const subscribed = nextEvent(broker, 'subscribe');
      const sub = mosquittoSub([
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-V',
        v,
        '-t',
        'interop/#',
        '-q',
        '2',
        '-v',
        '-C',
        '3',
        '-i',
        `sub-${v}`,
      ]);
      await subscribed;
      for (const q of ['0', '1', '2']) {
        await mosquittoPub(['-h', '127.0.0.1', '-p', String(port), '-V', v, '-t', `interop/q${q}`, '-m', `hello ${q}`, '-q', q]);
      }
      expect(await sub.waitLines(3)).toEqual(['interop/q0 hello 0', 'interop/q1 hello 1', 'interop/q2 hello 2']);
      expect(await sub.exited).toBe(0);
    });
  }

  it('retained message is delivered to a later mosquitto_sub, and cleared', async () => {
    const { broker, port } = await startBroker();
    await mosquittoPub(['-h', '127.0.0.1', '-p', String(port), '-t', 'ret/a', '-m', 'kept', '-r', '-q', '1']);
    expect(broker.messages.get('ret/a')?.payload.toString()).toBe('kept');
    const sub = mosquittoSub(['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv5', '-t', 'ret/#', '-v', '-C', '1', '-F', '%r %t %p']);
    expect(await sub.waitLines(1)).toEqual(['1 ret/a kept']);
    await mosquittoPub(['-h', '127.0.0.1', '-p', String(port), '-t', 'ret/a', '-n', '-r']);
    expect(broker.messages.has('ret/a')).toBe(false);
  });

  it('MQTT 5 user properties, response topic and correlation data pass through', async () => {
    const { broker, port } = await startBroker();
    const subscribed = nextEvent(broker, 'subscribe');
    const sub = mosquittoSub(['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv5', '-t', 'req/#', '-C', '1', '-F', '%t|%p|%P|%R|%C']);
    await subscribed;
    await mosquittoPub([
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-V',
      'mqttv5',
      '-t',
      'req/1',
      '-m',
      'ping',
      '-D',
      'publish',
      'user-property',
      'who',
      'me',
      '-D',
      'publish',
      'response-topic',
      'res/1',
      '-D',
      'publish',
      'correlation-data',
      'c42',
    ]);
    const [line] = await sub.waitLines(1);
    expect(line).toContain('req/1|ping|who:me|res/1');
  });

  it('persistent session (-c) receives QoS 1 messages published while it was offline', async () => {
    const { broker, port } = await startBroker();
    const first = mosquittoSub(['-h', '127.0.0.1', '-p', String(port), '-t', 'off/#', '-q', '1', '-c', '-i', 'offline-sub', '-C', '1']);
    await nextEvent(broker, 'subscribe');
    await mosquittoPub(['-h', '127.0.0.1', '-p', String(port), '-t', 'off/0', '-m', 'online', '-q', '1']);
    await first.waitLines(1);
    await first.exited;
    await mosquittoPub(['-h', '127.0.0.1', '-p', String(port), '-t', 'off/1', '-m', 'while away', '-q', '1']);
    expect(broker.sessions.get('offline-sub')?.outgoingMessages.length).toBe(1);
    const second = mosquittoSub(['-h', '127.0.0.1', '-p', String(port), '-t', 'off/#', '-q', '1', '-c', '-i', 'offline-sub', '-C', '1']);
    expect(await second.waitLines(1)).toEqual(['while away']);
  });

  it('will message published when mosquitto_sub is killed', async () => {
    const { broker, port } = await startBroker();
    const watcherSubscribed = nextEvent(broker, 'subscribe');
    const watcher = mosquittoSub(['-h', '127.0.0.1', '-p', String(port), '-t', 'wills/#', '-v', '-C', '1', '-i', 'watcher']);
    await watcherSubscribed;
    const dying = mosquittoSub([
      '-h',
      '127.0.0.1',
      '-p',
      String(port),
      '-t',
      'x',
      '-i',
      'dying',
      '--will-topic',
      'wills/dying',
      '--will-payload',
      'gone',
    ]);
    await nextEvent(broker, 'subscribe', (e: { clientId: string }) => e.clientId === 'dying');
    dying.child.kill('SIGKILL');
    expect(await watcher.waitLines(1)).toEqual(['wills/dying gone']);
  });
});

describe('mosquitto_pub/mosquitto_sub over TLS (--cafile)', () => {
  const pki = createTestPki({ clients: ['device'] });
  const dir = mkdtempSync(join(tmpdir(), 'iotwire-broker-tls-'));
  const caFile = join(dir, 'ca.crt');
  writeFileSync(caFile, pki.ca.cert);
  const certFile = join(dir, 'device.crt');
  const keyFile = join(dir, 'device.key');
  writeFileSync(certFile, pki.clients.device!.cert);
  writeFileSync(keyFile, pki.clients.device!.key);

  for (const [label, v] of versions.slice(0, 2)) {
    it(`MQTT ${label} over TLS`, async () => {
      const { broker, port } = await startBroker({}, [
        { protocol: 'tls', host: '127.0.0.1', port: 0, certificate: { cert: pki.server.cert, key: pki.server.key } },
      ]);
      const subscribed = nextEvent(broker, 'subscribe');
      const sub = mosquittoSub(['-h', 'localhost', '-p', String(port), '--cafile', caFile, '-V', v, '-t', 'tls/#', '-v', '-C', '1']);
      await subscribed;
      await mosquittoPub(['-h', 'localhost', '-p', String(port), '--cafile', caFile, '-V', v, '-t', 'tls/x', '-m', 'secret', '-q', '1']);
      expect(await sub.waitLines(1)).toEqual(['tls/x secret']);
    });
  }

  it('client certificate: requested, verified against the CA, accepted by sslClientAuthentication', async () => {
    const { broker, port } = await startBroker({}, [
      {
        protocol: 'tls',
        host: '127.0.0.1',
        port: 0,
        certificate: { cert: pki.server.cert, key: pki.server.key },
        requestCert: true,
        tls: { trustedCaCerts: pki.ca.cert },
      },
    ]);
    const seen: { subject: string; status: string }[] = [];
    broker.on('sslClientAuthentication', (e) => {
      seen.push({ subject: e.certSubject, status: e.status });
    });
    await mosquittoPub([
      '-h',
      'localhost',
      '-p',
      String(port),
      '--cafile',
      caFile,
      '--cert',
      certFile,
      '--key',
      keyFile,
      '-t',
      'a',
      '-m',
      'b',
    ]);
    expect(seen[0]?.status).toBe('OK');
    expect(seen[0]?.subject).toContain('CN=device');
    // Without a certificate the verdict is "no certificate" and the connection is refused.
    await expect(mosquittoPub(['-h', 'localhost', '-p', String(port), '--cafile', caFile, '-t', 'a', '-m', 'b'])).rejects.toThrow();
  });
});
