// Bad input: each malformed or protocol-violating input closes only its own connection; the
// broker and every other client carry on. A table of rules (with their statements), then fuzz.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startBroker } from './helpers/broker.js';
import { RawClient } from './helpers/raw-client.js';

const TABLE: [statement: string, version: 4 | 5, bytes: number[]][] = [
  ['[MQTT-2.2.2-2] PUBREL with flags 0000', 4, [0x60, 0x02, 0x00, 0x01]],
  ['[MQTT-2.2.3] Remaining Length of 5 bytes', 4, [0x30, 0x80, 0x80, 0x80, 0x80, 0x01]],
  ['[MQTT-1.5.5-1] non-minimal Remaining Length (5.0)', 5, [0xc0, 0x80, 0x00]],
  ['reserved packet type 0', 4, [0x00, 0x00]],
  ['reserved packet type 15 below 5.0 (AUTH)', 4, [0xf0, 0x00]],
  ['[MQTT-3.1.0-2] second CONNECT', 4, [0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00]],
  ['CONNACK from a client', 4, [0x20, 0x02, 0x00, 0x00]],
  ['SUBACK from a client', 4, [0x90, 0x03, 0x00, 0x01, 0x00]],
  ['PINGRESP from a client', 4, [0xd0, 0x00]],
  ['[MQTT-1.5.3-2] U+0000 in a topic', 4, [0x30, 0x04, 0x00, 0x02, 0x61, 0x00]],
  ['[MQTT-3.3.2-2] "+" in a topic name', 4, [0x30, 0x03, 0x00, 0x01, 0x2b]],
  ['[MQTT-3.14.1-1] DISCONNECT with reserved flags', 4, [0xe1, 0x00]],
  ['truncated PUBLISH (topic longer than the packet)', 4, [0x30, 0x03, 0x00, 0x09, 0x61]],
  ['[MQTT-3.10.3-2] UNSUBSCRIBE without filters', 4, [0xa2, 0x02, 0x00, 0x01]],
  ['5.0 unknown property in PUBLISH', 5, [0x30, 0x06, 0x00, 0x01, 0x61, 0x02, 0x7f, 0x00]],
  ['5.0 Topic Alias 0', 5, [0x30, 0x07, 0x00, 0x01, 0x61, 0x03, 0x23, 0x00, 0x00]],
  ['5.0 Subscription Identifier on a client PUBLISH [MQTT-3.3.4-6]', 5, [0x30, 0x06, 0x00, 0x01, 0x61, 0x02, 0x0b, 0x01]],
];

describe('malformed and protocol-violating packets close only their connection', () => {
  it.each(TABLE)('%s', async (_name, version, bytes) => {
    const { port } = await startBroker();
    const { client: watcher } = await RawClient.connect(port);
    watcher.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'ok', qos: 0 }] });
    await watcher.next('suback');
    const { client } = await RawClient.connect(port, { protocolVersion: version });
    client.sendRaw(bytes);
    await client.expectClose();
    if (version === 5) {
      // 5.0 gets a DISCONNECT with a reason code >= 0x80 before the close, where one can be sent.
      const d = client.packets.find((p) => p.type === 'disconnect') as { reasonCode: number } | undefined;
      if (d) expect(d.reasonCode).toBeGreaterThanOrEqual(0x80);
    }
    const { client: other } = await RawClient.connect(port);
    other.send({ type: 'publish', topic: 'ok', payload: Buffer.from('alive'), qos: 0, retain: false, dup: false });
    expect((await watcher.next('publish')).payload.toString()).toBe('alive');
  });
});

describe('fuzz', () => {
  it('random bytes after CONNECT never affect other clients', async () => {
    const { broker, port } = await startBroker();
    const { client: watcher } = await RawClient.connect(port);
    watcher.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'ok', qos: 0 }] });
    await watcher.next('suback');
    const samples = fc.sample(fc.uint8Array({ minLength: 1, maxLength: 64 }), { numRuns: 120, seed: 42 });
    for (let i = 0; i < samples.length; i += 20) {
      await Promise.all(
        samples.slice(i, i + 20).map(async (bytes, k) => {
          const { client } = await RawClient.connect(port, { protocolVersion: k % 2 ? 5 : 4 });
          client.sendRaw(bytes);
          // Whatever happens to it (closed, or still open waiting for more bytes), drop it.
          await new Promise((r) => setTimeout(r, 20));
          client.destroy();
        }),
      );
    }
    const { client: other } = await RawClient.connect(port);
    other.send({ type: 'publish', topic: 'ok', payload: Buffer.from('still here'), qos: 0, retain: false, dup: false });
    expect((await watcher.next('publish')).payload.toString()).toBe('still here');
    expect(broker.listening).toBe(true);
  }, 30_000);
});
