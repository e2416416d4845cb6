// MQTT 5.0 §4.9 flow control, Maximum Packet Size, Request Problem Information, §3.14 DISCONNECT
// from the server and §4.13 error handling.
import type { Packet } from '@iotwire/mqtt-packet';
import { describe, expect, it } from 'vitest';
import type { BrokerOptions } from '../../../src/index.js';
import {
  bye,
  connect,
  drop,
  nextEvent,
  pub,
  RawClient,
  recordBytes,
  sleep,
  startBroker,
  subscribe,
  subscriber,
  withProps,
} from '../helpers.js';

const DISCONNECT_CODES = [
  0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c,
  0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
];

/** Splits recorded bytes into packets (fixed header + Remaining Length). */
function frames(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let i = 0;
  while (i < b.length) {
    let len = 0;
    let mul = 1;
    let j = i + 1;
    for (;;) {
      const d = b[j++] as number;
      len += (d & 0x7f) * mul;
      mul *= 128;
      if ((d & 0x80) === 0) break;
    }
    out.push(b.subarray(i, j + len));
    i = j + len;
  }
  return out;
}

describe('5.0 flow control', () => {
  it("[MQTT-3.3.4-9] [MQTT-4.9.0-1] [MQTT-4.9.0-2] no more unacknowledged QoS 1/2 PUBLISH than the client's Receive Maximum", async () => {
    const { port } = await startBroker();
    const s = await subscriber(port, 5, 'rm', 2, { properties: { receiveMaximum: 2 } });
    const { client } = await connect(port, 5);
    for (let i = 1; i <= 5; i++) client.send(pub('rm', String(i), ((i % 2) + 1) as 1 | 2));
    const a = await s.next('publish');
    const b = await s.next('publish');
    expect(await s.none('publish', 300)).toBe(true);
    if (a.qos === 1) s.send({ type: 'puback', packetId: a.packetId as number });
    else {
      s.send({ type: 'pubrec', packetId: a.packetId as number });
      await s.next('pubrel');
      expect(await s.none('publish', 200)).toBe(true); // PUBREC alone does not free the slot
      s.send({ type: 'pubcomp', packetId: a.packetId as number });
    }
    const c = await s.next('publish');
    expect([a, b, c].map((m) => m.payload.toString())).toEqual(['1', '2', '3']);
    expect(await s.none('publish', 200)).toBe(true);
  });

  it('[MQTT-3.3.4-10] [MQTT-4.9.0-3] with the send quota at zero, other packets are still processed and answered at once', async () => {
    const { port } = await startBroker();
    const s = await subscriber(port, 5, 'rq', 1, { properties: { receiveMaximum: 1 } });
    const { client } = await connect(port, 5);
    client.send(pub('rq', '1', 1));
    client.send(pub('rq', '2', 1));
    await s.next('publish');
    s.send({ type: 'pingreq' });
    await s.next('pingresp');
    await subscribe(s, 'other', 0);
    s.send({ type: 'unsubscribe', packetId: 2, topicFilters: ['other'] });
    await s.next('unsuback');
    s.send(pub('rq-own', 'x', 1, { packetId: 3 }));
    expect((await s.next('puback')).packetId).toBe(3);
    expect(await s.none('publish', 200)).toBe(true);
  });
});

describe('5.0 Maximum Packet Size of the client', () => {
  it('[MQTT-3.1.2-24] [MQTT-3.1.2-25] a message too large for the client is not sent, and the delivery counts as done', async () => {
    const { port } = await startBroker();
    const s = await subscriber(port, 5, 'mp/#', 1, { properties: { maximumPacketSize: 64, receiveMaximum: 1 } });
    const rec = recordBytes(s);
    const { client } = await connect(port, 5);
    client.send(pub('mp/big', Buffer.alloc(200, 1), 1));
    client.send(pub('mp/small', 'ok', 1));
    const m = await s.next('publish');
    expect(m.topic).toBe('mp/small');
    s.send({ type: 'puback', packetId: m.packetId as number });
    client.send(pub('mp/retained', Buffer.alloc(100, 2), 0, { retain: true }));
    await subscribe(s, 'mp/retained', 0);
    expect(await s.none('publish', 200)).toBe(true);
    expect(frames(rec.bytes()).every((f) => f.length <= 64)).toBe(true);
  });

  it("[MQTT-3.4.2-2] [MQTT-3.4.2-3] [MQTT-3.5.2-2] [MQTT-3.5.2-3] [MQTT-3.6.2-2] [MQTT-3.6.2-3] [MQTT-3.7.2-2] [MQTT-3.7.2-3] acknowledgements fit the client's Maximum Packet Size", async () => {
    const { port } = await startBroker({ hooks: [{ authorizePublish: (a) => !a.message.topic.startsWith('deny/') }] });
    const { client } = await connect(port, 5, { properties: { maximumPacketSize: 16 } });
    await subscribe(client, 'ack/#', 2);
    const rec = recordBytes(client);
    client.send(pub('deny/a', 'x', 1, { packetId: 1 }));
    expect((await client.next('puback')).reasonCode).toBe(0x87);
    client.send(pub('deny/b', 'x', 2, { packetId: 2 }));
    expect((await client.next('pubrec')).reasonCode).toBe(0x87);
    client.send({ type: 'pubrel', packetId: 77 });
    expect((await client.next('pubcomp')).reasonCode).toBe(0x92);
    const { client: p } = await connect(port, 5);
    p.send(pub('ack/q2', '', 2));
    const m = await client.next('publish');
    client.send({ type: 'pubrec', packetId: m.packetId as number });
    await client.next('pubrel');
    const all = frames(rec.bytes());
    expect(all.every((f) => f.length <= 16)).toBe(true);
    expect(all.filter((f) => f[0] === 0x40 || f[0] === 0x50 || f[0] === 0x62 || f[0] === 0x70)).toHaveLength(4);
  });

  it('[MQTT-3.1.2-29] with Request Problem Information 0, no Reason String or User Property outside PUBLISH, CONNACK and DISCONNECT', async () => {
    const { port } = await startBroker({
      hooks: [
        {
          authorizePublish: (a) => !a.message.topic.startsWith('deny/'),
          authorizeSubscribe: (a) => (a.topicFilter === 'no' ? 0x87 : undefined),
        },
      ],
    });
    const { client } = await connect(port, 5, { properties: { requestProblemInformation: false } });
    const seen: Packet[] = [await subscribe(client, 'no', 1)];
    client.send({ type: 'unsubscribe', packetId: 4, topicFilters: ['x'] });
    seen.push(await client.next('unsuback'));
    client.send(pub('deny/a', 'x', 1, { packetId: 1 }));
    seen.push(await client.next('puback'));
    client.send(pub('deny/b', 'x', 2, { packetId: 2 }));
    seen.push(await client.next('pubrec'));
    client.send({ type: 'pubrel', packetId: 99 });
    seen.push(await client.next('pubcomp'));
    expect(seen.map((p) => p.type)).toEqual(['suback', 'unsuback', 'puback', 'pubrec', 'pubcomp']);
    expect(seen.map((p) => ('reasonCode' in p ? p.reasonCode : (p as { reasonCodes: number[] }).reasonCodes[0]))).toEqual([
      0x87, 0x11, 0x87, 0x87, 0x92,
    ]);
    for (const p of seen) {
      const props = (p as { properties?: Record<string, unknown> }).properties;
      expect(props?.reasonString).toBeUndefined();
      expect(props?.userProperties).toBeUndefined();
    }
  });
});

describe('5.0 DISCONNECT from the server and error handling', () => {
  it('[MQTT-3.14.1-1] [MQTT-4.13.1-1] a DISCONNECT with reserved flag bits set gets DISCONNECT 0x81 and a close', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, 5);
    client.sendRaw([0xe1, 0x00]);
    expect((await client.next('disconnect')).reasonCode).toBe(0x81);
    await client.expectClose();
  });

  it("[MQTT-3.14.2-1] [MQTT-3.14.2-2] [MQTT-3.14.4-1] [MQTT-3.14.4-2] [MQTT-4.13.2-1] the server's DISCONNECT: a DISCONNECT code, no Session Expiry, nothing after it, then the close", async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, 5, { properties: { sessionExpiryInterval: 30 } });
    await subscribe(client, 'after', 0);
    const rec = recordBytes(client);
    client.send({ type: 'connect', protocolVersion: 5, clean: true, keepAlive: 0, clientId: 'twice' });
    client.send({ type: 'pingreq' });
    const { client: p } = await connect(port, 5);
    p.send(pub('after', 'late'));
    const d = await client.next('disconnect');
    expect(DISCONNECT_CODES).toContain(d.reasonCode);
    expect(d.properties?.sessionExpiryInterval).toBeUndefined();
    await client.expectClose();
    const all = frames(rec.bytes());
    expect(all).toHaveLength(1);
    expect(all[0]?.[0]).toBe(0xe0);
  });

  it("[MQTT-3.14.2-3] [MQTT-3.14.2-4] the server's DISCONNECT drops its Reason String rather than exceed the client's Maximum Packet Size", async () => {
    const { port } = await startBroker();
    const roomy = await connect(port, 5);
    roomy.client.sendRaw([0x36, 0x06, 0x00, 0x01, 0x61, 0x00, 0x01, 0x00]);
    expect((await roomy.client.next('disconnect')).properties?.reasonString).toBeTruthy();
    const tight = await connect(port, 5, { properties: { maximumPacketSize: 8 } });
    const rec = recordBytes(tight.client);
    tight.client.sendRaw([0x36, 0x06, 0x00, 0x01, 0x61, 0x00, 0x01, 0x00]);
    const d = await tight.client.next('disconnect');
    expect([d.reasonCode, d.properties?.reasonString]).toEqual([0x81, undefined]);
    await tight.client.expectClose();
    expect(rec.bytes().length).toBeLessThanOrEqual(8);
  });

  it('[MQTT-3.14.0-1] the server sends no DISCONNECT before a successful CONNACK: a bad CONNECT gets a CONNACK or a bare close', async () => {
    const { broker, port } = await startBroker();
    broker.on('sessionRequest', (e) => {
      e.accept = e.userName !== 'nope';
    });
    const refused = await RawClient.open(port, 5);
    refused.send({ type: 'connect', protocolVersion: 5, clean: true, keepAlive: 0, clientId: 'r1', username: 'nope' });
    await refused.expectClose();
    expect(refused.packets.map((p) => p.type)).toEqual(['connack']);
    const malformed = await RawClient.open(port, 5);
    const rec = recordBytes(malformed);
    malformed.sendRaw([0x10, 0x03, 0x00, 0x04, 0x4d]);
    await malformed.expectClose();
    const b = rec.bytes();
    expect(b.length === 0 || b[0] === 0x20).toBe(true);
  });
});

describe('5.0 protocol errors: DISCONNECT with the reason code, then the close', () => {
  const cases: { name: string; options?: BrokerOptions; raw?: number[]; packet?: Packet; code: number }[] = [
    { name: 'QoS 3 (Malformed Packet)', raw: [0x36, 0x06, 0x00, 0x01, 0x61, 0x00, 0x01, 0x00], code: 0x81 },
    { name: 'PUBREL with reserved flags 0000 (Malformed Packet)', raw: [0x60, 0x02, 0x00, 0x01], code: 0x81 },
    { name: 'Topic Alias 0 (Protocol Error)', raw: [0x30, 0x07, 0x00, 0x01, 0x61, 0x03, 0x23, 0x00, 0x00], code: 0x82 },
    {
      name: 'a Subscription Identifier from the client (Protocol Error)',
      raw: [0x30, 0x06, 0x00, 0x01, 0x61, 0x02, 0x0b, 0x01],
      code: 0x82,
    },
    { name: 'AUTH without enhanced authentication (Protocol Error)', packet: { type: 'auth', reasonCode: 0x19 }, code: 0x82 },
    {
      name: 'a Topic Alias above the maximum (Topic Alias invalid)',
      options: { topicAliasMaximum: 2 },
      packet: withProps(pub('t', 'x'), { topicAlias: 3 }),
      code: 0x94,
    },
    {
      name: 'a packet above the Maximum Packet Size (Packet too large)',
      options: { limits: { maxPacketSize: 64 } },
      packet: pub('t', Buffer.alloc(100)),
      code: 0x95,
    },
    { name: 'QoS above Maximum QoS (QoS not supported)', options: { maximumQoS: 1 }, packet: pub('t', 'x', 2), code: 0x9b },
    {
      name: 'RETAIN without retain support (Retain not supported)',
      options: { retainAvailable: false },
      packet: pub('t', 'x', 0, { retain: true }),
      code: 0x9a,
    },
    {
      name: 'a Subscription Identifier the server does not support',
      options: { subscriptionIdentifiersAvailable: false },
      packet: { type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 't', qos: 0 }], properties: { subscriptionIdentifier: 4 } },
      code: 0xa1,
    },
  ];
  for (const c of cases) {
    it(`[MQTT-4.13.1-1] [MQTT-4.13.2-1] ${c.name}: DISCONNECT 0x${c.code.toString(16)}`, async () => {
      const { port } = await startBroker(c.options);
      const s = await subscriber(port, 5, 't');
      const { client } = await connect(port, 5);
      if (c.raw) client.sendRaw(c.raw);
      else client.send(c.packet as Packet);
      expect((await client.next('disconnect')).reasonCode).toBe(c.code);
      await client.expectClose();
      // Nothing else is affected.
      const { client: p } = await connect(port, 5);
      p.send(pub('t', 'fine'));
      expect((await s.next('publish')).payload.toString()).toBe('fine');
    });
  }
});

describe('5.0 flow control and expiry across sessions', () => {
  it('[MQTT-3.3.4-9] [MQTT-4.9.0-2] messages queued for a resumed session respect the Receive Maximum of the new connection', async () => {
    const { broker, port } = await startBroker();
    const id = `rq${process.pid}`;
    const a = await connect(port, 5, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } });
    await subscribe(a.client, 'q/#', 1);
    const gone = nextEvent(broker, 'disconnected');
    await drop(a.client);
    await gone;
    const { client } = await connect(port, 5);
    for (let i = 0; i < 4; i++) client.send(pub(`q/${i}`, String(i), 1));
    for (let i = 0; i < 4; i++) await client.next('puback');
    const b = await connect(port, 5, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60, receiveMaximum: 1 } });
    const m0 = await b.client.next('publish');
    expect(await b.client.none('publish', 300)).toBe(true);
    b.client.send({ type: 'puback', packetId: m0.packetId as number });
    const m1 = await b.client.next('publish');
    expect([m0.payload.toString(), m1.payload.toString()]).toEqual(['0', '1']);
    expect(await b.client.none('publish', 200)).toBe(true);
  });

  it('[MQTT-3.3.2-5] [MQTT-3.3.2-6] a retained message expires: later subscribers get the reduced interval, then nothing', async () => {
    const { port } = await startBroker();
    const { client } = await connect(port, 5);
    client.send(withProps(pub('rx/a', 'soon', 1, { retain: true }), { messageExpiryInterval: 2 }));
    await client.next('puback');
    await sleep(1100);
    const s1 = await connect(port, 5);
    await subscribe(s1.client, 'rx/#');
    const m = await s1.client.next('publish');
    expect(m.payload.toString()).toBe('soon');
    expect(m.properties?.messageExpiryInterval).toBeLessThanOrEqual(1);
    await sleep(1200);
    const s2 = await connect(port, 5);
    await subscribe(s2.client, 'rx/#');
    expect(await s2.client.none('publish', 300)).toBe(true);
  });

  it('[MQTT-4.1.0-2] a Session Expiry Interval of 0 on DISCONNECT ends the session at once', async () => {
    const { broker, port } = await startBroker();
    const id = `sx${process.pid}`;
    const a = await connect(port, 5, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } });
    await subscribe(a.client, 'sx/t', 1);
    const removed = nextEvent<{ clientId: string }>(broker, 'sessionRemoved', (e) => e.clientId === id);
    await bye(a.client, 0, 0);
    await removed;
    const b = await connect(port, 5, { clientId: id, clean: false, properties: { sessionExpiryInterval: 60 } });
    expect(b.connack.sessionPresent).toBe(false);
  });
});

describe('5.0 ordering and expiry while the send quota is used up', () => {
  it('[MQTT-3.3.2-5] a message that expires while waiting for send quota is not sent', async () => {
    const { port } = await startBroker();
    const s = await subscriber(port, 5, 'wq', 1, { properties: { receiveMaximum: 1 } });
    const { client } = await connect(port, 5);
    client.send(pub('wq', 'first', 1));
    client.send(withProps(pub('wq', 'expires', 1), { messageExpiryInterval: 1 }));
    client.send(pub('wq', 'last', 1));
    const a = await s.next('publish');
    await sleep(1300);
    s.send({ type: 'puback', packetId: a.packetId as number });
    const b = await s.next('publish');
    expect([a.payload.toString(), b.payload.toString()]).toEqual(['first', 'last']);
  });

  it('[MQTT-4.6.0-5] [MQTT-4.6.0-6] messages queued for a session go out before newer ones published during the resume', async () => {
    const { broker, port } = await startBroker();
    const id = `oq${process.pid}`;
    const props = { sessionExpiryInterval: 60, receiveMaximum: 2 };
    const a = await connect(port, 5, { clientId: id, clean: false, properties: props });
    await subscribe(a.client, 'oq', 1);
    const gone = nextEvent(broker, 'disconnected');
    await drop(a.client);
    await gone;
    const { client } = await connect(port, 5);
    for (let i = 0; i < 10; i++) client.send(pub('oq', String(i), 1));
    for (let i = 0; i < 10; i++) await client.next('puback');
    const b = await connect(port, 5, { clientId: id, clean: false, properties: props });
    for (let i = 10; i < 20; i++) client.send(pub('oq', String(i), 1));
    const got: number[] = [];
    while (got.length < 20) {
      const m = await b.client.next('publish');
      got.push(Number(m.payload.toString()));
      b.client.send({ type: 'puback', packetId: m.packetId as number });
    }
    expect(got).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
