// Malformed and protocol-violating packets from the server: the client reports a typed error,
// closes the connection (5.0: DISCONNECT with the right reason code first) and acknowledges
// nothing it did not receive intact.
import { encode, type Packet } from '@iotwire/mqtt-packet';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MqttClient, type MqttClientError } from '../src/index.js';
import { type FakeConnection, FakeServer, once } from './helpers/fake-server.js';

let server: FakeServer;
const clients: MqttClient[] = [];
beforeEach(async () => {
  server = await FakeServer.start();
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.interrupt();
  await server.close();
});

async function setup(version: 4 | 5, extra: Partial<ConstructorParameters<typeof MqttClient>[0]> = {}) {
  const c = new MqttClient({ url: server.url, protocolVersion: version, reconnect: false, ...extra });
  clients.push(c);
  const errors: MqttClientError[] = [];
  c.on('error', (e) => errors.push(e));
  const p = c.connect();
  const conn = await server.connection();
  await conn.accept();
  await p;
  return { c, conn, errors };
}

const pub = (o: Partial<Extract<Packet, { type: 'publish' }>>, v: 4 | 5 = 5) =>
  encode({ type: 'publish', topic: 't', payload: Buffer.from('x'), qos: 0, retain: false, dup: false, ...o } as Packet, v);

interface Case {
  name: string;
  bytes: (conn: FakeConnection) => Uint8Array;
  code: string;
  reason: number;
  options?: Partial<ConstructorParameters<typeof MqttClient>[0]>;
}

const cases: Case[] = [
  {
    name: 'Remaining Length of five bytes',
    bytes: () => Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]),
    code: 'ERR_MALFORMED_PACKET',
    reason: 0x81,
  },
  { name: 'reserved packet type 0', bytes: () => Buffer.from([0x00, 0x00]), code: 'ERR_MALFORMED_PACKET', reason: 0x81 },
  {
    name: 'PUBLISH with QoS 3',
    bytes: () => Buffer.from([0x36, 0x05, 0x00, 0x01, 0x74, 0x00, 0x01]),
    code: 'ERR_MALFORMED_PACKET',
    reason: 0x81,
  },
  {
    name: 'invalid UTF-8 in a topic',
    bytes: () => Buffer.from([0x30, 0x05, 0x00, 0x02, 0xc3, 0x28, 0x00]),
    code: 'ERR_MALFORMED_PACKET',
    reason: 0x81,
  },
  {
    name: 'PUBREL with wrong header flags',
    bytes: () => Buffer.from([0x60, 0x02, 0x00, 0x01]),
    code: 'ERR_MALFORMED_PACKET',
    reason: 0x81,
  },
  {
    name: 'a CONNECT sent to the client',
    bytes: () => encode({ type: 'connect', protocolVersion: 5, clean: true, keepAlive: 0, clientId: 'x' }, 5),
    code: 'ERR_PROTOCOL',
    reason: 0x82,
  },
  {
    name: 'a second CONNACK',
    bytes: (conn) => encode({ type: 'connack', sessionPresent: false, reasonCode: 0 }, conn.version),
    code: 'ERR_PROTOCOL',
    reason: 0x82,
  },
  {
    name: 'SUBACK for a packet id never used',
    bytes: () => encode({ type: 'suback', packetId: 77, reasonCodes: [0] }, 5),
    code: 'ERR_PROTOCOL',
    reason: 0x82,
  },
  {
    name: 'AUTH without an exchange',
    bytes: () => encode({ type: 'auth', reasonCode: 0x18, properties: { authenticationMethod: 'X' } }, 5),
    code: 'ERR_PROTOCOL',
    reason: 0x82,
  },
  {
    name: 'topic alias never established',
    bytes: () => pub({ topic: '', properties: { topicAlias: 1 } }),
    code: 'ERR_PROTOCOL',
    reason: 0x82,
    options: { topicAliasMaximum: 4 },
  },
  {
    name: 'topic alias above our maximum',
    bytes: () => pub({ properties: { topicAlias: 9 } }),
    code: 'ERR_PROTOCOL',
    reason: 0x94,
    options: { topicAliasMaximum: 4 },
  },
  { name: 'topic alias when we allowed none', bytes: () => pub({ properties: { topicAlias: 1 } }), code: 'ERR_PROTOCOL', reason: 0x94 },
  {
    name: 'packet above our Maximum Packet Size',
    bytes: () => pub({ payload: Buffer.alloc(300) }),
    code: 'ERR_MALFORMED_PACKET',
    reason: 0x95,
    options: { maximumPacketSize: 128 },
  },
  {
    name: 'more QoS 2 deliveries than our Receive Maximum',
    bytes: () => Buffer.concat([1, 2, 3].map((id) => pub({ qos: 2, packetId: id }))),
    code: 'ERR_PROTOCOL',
    reason: 0x93,
    options: { receiveMaximum: 2 },
  },
  {
    name: 'Subscription Identifier 0 on PUBLISH',
    bytes: () => Buffer.from([0x30, 0x07, 0x00, 0x01, 0x74, 0x02, 0x0b, 0x00, 0x78]),
    code: 'ERR_PROTOCOL',
    reason: 0x82,
  },
];

describe('bad input from the server (MQTT 5.0)', () => {
  for (const k of cases) {
    it(`${k.name}: error ${k.code}, DISCONNECT 0x${k.reason.toString(16)}, closed`, async () => {
      const { c, conn, errors } = await setup(5, k.options);
      const closed = once(c, 'disconnected');
      conn.raw(k.bytes(conn));
      const disc = await conn.next('disconnect');
      expect(disc.reasonCode).toBe(k.reason);
      await closed;
      await conn.closed;
      expect(errors.map((e) => e.code)).toEqual([k.code]);
      expect(errors[0]!.reasonCode).toBe(k.reason);
      expect(c.connected).toBe(false);
    });
  }
});

describe('bad input from the server (MQTT 3.1.1)', () => {
  for (const k of cases.filter((x) =>
    ['Remaining Length of five bytes', 'PUBLISH with QoS 3', 'a second CONNACK', 'invalid UTF-8 in a topic'].includes(x.name),
  )) {
    it(`${k.name}: error ${k.code}, connection closed without DISCONNECT`, async () => {
      const { c, conn, errors } = await setup(4);
      conn.raw(k.bytes(conn));
      await conn.closed;
      expect(errors.map((e) => e.code)).toEqual([k.code]);
      expect(conn.packets.filter((p) => p.type === 'disconnect')).toEqual([]);
      expect(c.connected).toBe(false);
    });
  }
});

describe('nothing is acknowledged that was not received', () => {
  it('acks the intact PUBLISH before a malformed packet, and nothing after it', async () => {
    const { c, conn, errors } = await setup(5);
    const got: string[] = [];
    c.on('messageIn', (m) => got.push(m.text));
    conn.raw(
      Buffer.concat([
        pub({ qos: 1, packetId: 1, payload: Buffer.from('ok') }),
        Buffer.from([0x36, 0x03, 0x00, 0x01, 0x74]),
        pub({ qos: 1, packetId: 2 }),
      ]),
    );
    await conn.closed;
    expect(conn.packets.filter((p) => p.type === 'puback').map((p) => (p as { packetId: number }).packetId)).toEqual([1]);
    expect(got).toEqual(['ok']);
    expect(errors).toHaveLength(1);
  });

  it('a PUBLISH cut off by the connection loss is neither acknowledged nor delivered', async () => {
    const { c, conn } = await setup(4);
    const got: string[] = [];
    c.on('messageIn', (m) => got.push(m.text));
    const whole = pub({ qos: 1, packetId: 9, payload: Buffer.alloc(100, 1) }, 4);
    conn.socket.end(whole.subarray(0, 50));
    await conn.closed;
    expect(conn.packets.filter((p) => p.type === 'puback')).toEqual([]);
    expect(got).toEqual([]);
  });

  it('a listener that throws does not break the protocol engine', async () => {
    const { c, conn, errors } = await setup(4);
    c.on('messageIn', () => {
      throw new Error('app bug');
    });
    conn.send({ type: 'publish', topic: 't', payload: Buffer.from('x'), qos: 1, retain: false, dup: false, packetId: 3 });
    expect((await conn.next('puback')).packetId).toBe(3);
    expect(errors.map((e) => (e as Error).message)).toEqual(['app bug']);
    expect(c.connected).toBe(true);
  });
});
