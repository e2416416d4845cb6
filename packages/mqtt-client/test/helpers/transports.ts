import type { TestPki } from '@iotwire/tls';
import type { MqttClient, MqttClientOptions, MqttMessage } from '../../src/index.js';

export type Transport = 'tcp' | 'tls' | 'ws';

/**
 * Client options for one transport of a broker listening on loopback: plain TCP, TLS with the
 * test PKI's `device-1` client certificate (host name `localhost` for the certificate check),
 * or WebSocket at `/mqtt`. Shared by the suites against Mosquitto and against our broker.
 */
export function transportOptions(
  t: Transport,
  ports: { tcp: number; tls: number; ws: number },
  pki: TestPki,
  o: MqttClientOptions = {},
): MqttClientOptions {
  const base: MqttClientOptions =
    t === 'tcp'
      ? { url: `mqtt://127.0.0.1:${ports.tcp}` }
      : t === 'ws'
        ? { url: `ws://127.0.0.1:${ports.ws}/mqtt` }
        : {
            url: `mqtts://localhost:${ports.tls}`,
            tls: { ca: pki.ca.cert, cert: pki.clients['device-1']!.cert, key: pki.clients['device-1']!.key },
          };
  return { ...base, connectTimeoutMs: 15_000, ...o };
}

/** Every `messageIn` of a client, in order. */
export function collectMessages(c: MqttClient): MqttMessage[] {
  const got: MqttMessage[] = [];
  c.on('messageIn', (m) => got.push(m));
  return got;
}
