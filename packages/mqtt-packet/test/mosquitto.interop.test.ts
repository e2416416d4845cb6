// Interop with a real broker nobody here wrote: Mosquitto, over TCP on 127.0.0.1. Every packet
// we send is encoded by our encoder and must be accepted by Mosquitto (which closes the
// connection on a malformed packet); every packet Mosquitto sends is decoded by our streaming
// decoder (client side, so direction checks are on). Covers all packet types but AUTH, which
// Mosquitto answers with CONNACK 0x8C without an auth plugin (also checked).
import { type Socket, connect as tcpConnect } from 'node:net';
import { type MosquittoPeer, startMosquitto } from '@iotwire/interop';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Decoder, encode, type Packet, type PacketOf, type ProtocolVersion, type PublishPacket } from '../src/index.js';

class Conn {
  private readonly packets: Packet[] = [];
  private waiter: (() => void) | undefined;
  private closed = false;
  private readonly decoder: Decoder;

  private constructor(
    private readonly socket: Socket,
    readonly version: ProtocolVersion,
  ) {
    this.decoder = new Decoder(
      (p) => {
        this.packets.push(p);
        this.waiter?.();
      },
      { protocolVersion: version, side: 'client' },
    );
    socket.on('data', (chunk) => this.decoder.push(chunk));
    socket.on('close', () => {
      this.closed = true;
      this.waiter?.();
    });
  }

  static open(port: number, version: ProtocolVersion): Promise<Conn> {
    return new Promise((resolve, reject) => {
      const s = tcpConnect({ host: '127.0.0.1', port }, () => resolve(new Conn(s, version)));
      s.once('error', reject);
    });
  }

  send(p: Packet): void {
    this.socket.write(encode(p, this.version));
  }

  /** Next packet from the broker, which must be of `type`. */
  async next<T extends Packet['type']>(type: T): Promise<PacketOf<T>> {
    const deadline = Date.now() + 10_000;
    while (this.packets.length === 0) {
      if (this.closed) throw new Error(`connection closed while waiting for ${type}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${type}`);
      await new Promise<void>((r) => {
        this.waiter = r;
        setTimeout(r, 250);
      });
    }
    const p = this.packets.shift() as Packet;
    expect(p.type).toBe(type);
    return p as PacketOf<T>;
  }

  async closedByPeer(): Promise<boolean> {
    const deadline = Date.now() + 10_000;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}

let broker: MosquittoPeer;
beforeAll(async () => {
  broker = await startMosquitto();
});
afterAll(async () => {
  await broker?.stop();
});

describe.each([3, 4, 5] as ProtocolVersion[])('Mosquitto, protocol level %i', (version) => {
  it('connects, subscribes, exchanges QoS 0/1/2 messages both ways, unsubscribes, pings and disconnects', async () => {
    const sub = await Conn.open(broker.port, version);
    const pub = await Conn.open(broker.port, version);
    try {
      const topic = `iotwire/${version}/a`;
      sub.send({ type: 'connect', protocolVersion: version, clean: true, keepAlive: 30, clientId: `sub-${version}` });
      const ack = await sub.next('connack');
      expect(ack.reasonCode).toBe(0);
      pub.send({
        type: 'connect',
        protocolVersion: version,
        clean: true,
        keepAlive: 30,
        clientId: `pub-${version}`,
        will: { topic: `iotwire/${version}/will`, payload: Buffer.from('gone'), qos: 1, retain: false },
        username: 'user',
        password: Buffer.from('pass'),
      });
      expect((await pub.next('connack')).reasonCode).toBe(0);

      sub.send({
        type: 'subscribe',
        packetId: 1,
        subscriptions: [
          { topicFilter: `iotwire/${version}/#`, qos: 2 },
          { topicFilter: 'iotwire/+/never', qos: 1 },
        ],
        properties: version === 5 ? { subscriptionIdentifier: 7, userProperties: [['k', 'v']] } : undefined,
      });
      expect(await sub.next('suback')).toMatchObject({ packetId: 1, reasonCodes: [2, 1] });

      const props =
        version === 5
          ? {
              contentType: 'text/plain',
              responseTopic: 'iotwire/reply',
              correlationData: Buffer.from([1, 2, 3]),
              messageExpiryInterval: 600,
              payloadFormatIndicator: 1 as const,
              userProperties: [
                ['b', '2'],
                ['a', '1'],
                ['b', '3'],
              ] as [string, string][],
            }
          : undefined;
      // QoS 1 publish and its PUBACK.
      pub.send({ type: 'publish', topic, payload: Buffer.from('one'), qos: 1, retain: false, dup: false, packetId: 11, properties: props });
      expect(await pub.next('puback')).toMatchObject({ packetId: 11 });
      const m1 = await sub.next('publish');
      expect(m1).toMatchObject({ topic, qos: 1, retain: false, dup: false });
      expect(Buffer.from(m1.payload).toString()).toBe('one');
      if (version === 5) {
        const { messageExpiryInterval, ...rest } = props as NonNullable<typeof props>;
        expect(m1.properties).toMatchObject({ ...rest, subscriptionIdentifiers: [7] });
        expect(m1.properties?.messageExpiryInterval).toBeLessThanOrEqual(messageExpiryInterval);
      }
      sub.send({ type: 'puback', packetId: m1.packetId as number });

      // QoS 2 publish: PUBREC / PUBREL / PUBCOMP in both directions.
      pub.send({ type: 'publish', topic, payload: Buffer.alloc(70_000, 0x5a), qos: 2, retain: false, dup: false, packetId: 12 });
      expect(await pub.next('pubrec')).toMatchObject({ packetId: 12 });
      pub.send({ type: 'pubrel', packetId: 12 });
      expect(await pub.next('pubcomp')).toMatchObject({ packetId: 12 });
      const m2: PublishPacket = await sub.next('publish');
      expect(m2).toMatchObject({ topic, qos: 2 });
      expect(m2.payload.length).toBe(70_000);
      sub.send({ type: 'pubrec', packetId: m2.packetId as number });
      expect(await sub.next('pubrel')).toMatchObject({ packetId: m2.packetId });
      sub.send({ type: 'pubcomp', packetId: m2.packetId as number });

      // Retained QoS 0 message, delivered with RETAIN to a new subscription.
      pub.send({ type: 'publish', topic: `iotwire/${version}/r`, payload: Buffer.from('kept'), qos: 0, retain: true, dup: false });
      const live = await sub.next('publish');
      expect(live).toMatchObject({ topic: `iotwire/${version}/r`, qos: 0, retain: false });
      pub.send({ type: 'subscribe', packetId: 2, subscriptions: [{ topicFilter: `iotwire/${version}/r`, qos: 0 }] });
      expect(await pub.next('suback')).toMatchObject({ reasonCodes: [0] });
      expect(await pub.next('publish')).toMatchObject({ topic: `iotwire/${version}/r`, retain: true });

      sub.send({ type: 'unsubscribe', packetId: 3, topicFilters: [`iotwire/${version}/#`] });
      const unsub = await sub.next('unsuback');
      expect(unsub.packetId).toBe(3);
      if (version === 5) expect(unsub.reasonCodes).toEqual([0]);

      sub.send({ type: 'pingreq' });
      await sub.next('pingresp');

      sub.send({ type: 'disconnect', reasonCode: 0 });
      expect(await sub.closedByPeer()).toBe(true);
      // Clean up the retained message.
      pub.send({ type: 'publish', topic: `iotwire/${version}/r`, payload: Buffer.alloc(0), qos: 0, retain: true, dup: false });
      pub.send({ type: 'disconnect' });
      expect(await pub.closedByPeer()).toBe(true);
    } finally {
      sub.close();
      pub.close();
    }
  });
});

describe('Mosquitto, MQTT 5 specifics', () => {
  it('answers an unsupported Authentication Method with CONNACK 0x8C, and decodes its CONNACK properties', async () => {
    const c = await Conn.open(broker.port, 5);
    try {
      c.send({
        type: 'connect',
        protocolVersion: 5,
        clean: true,
        keepAlive: 10,
        clientId: 'auth-test',
        properties: { authenticationMethod: 'SCRAM-SHA-1', authenticationData: Buffer.from('client-first') },
      });
      const ack = await c.next('connack');
      expect(ack).toMatchObject({ sessionPresent: false, reasonCode: 0x8c });
      expect(await c.closedByPeer()).toBe(true);
    } finally {
      c.close();
    }
  });

  it('gets an Assigned Client Identifier for an empty one, and a server DISCONNECT on a protocol error', async () => {
    const c = await Conn.open(broker.port, 5);
    try {
      c.send({ type: 'connect', protocolVersion: 5, clean: true, keepAlive: 10, clientId: '', properties: { topicAliasMaximum: 5 } });
      const ack = await c.next('connack');
      expect(ack.reasonCode).toBe(0);
      expect(ack.properties?.assignedClientIdentifier).toMatch(/.+/);
      // A Topic Alias above the server's Topic Alias Maximum: Mosquitto sends DISCONNECT 0x94.
      const max = ack.properties?.topicAliasMaximum ?? 0;
      c.send({
        type: 'publish',
        topic: 'x',
        payload: Buffer.alloc(0),
        qos: 0,
        retain: false,
        dup: false,
        properties: { topicAlias: max + 1 },
      });
      const d = await c.next('disconnect');
      expect(d.reasonCode).toBeGreaterThanOrEqual(0x80);
    } finally {
      c.close();
    }
  });
});
