// Small shorthands for the conformance tests (raw client on real sockets).
import {
  type ConnectPacket,
  Decoder,
  type Packet,
  type PublishPacket,
  type PublishProperties,
  type QoS,
  type SubackPacket,
  type Subscription,
} from '@iotwire/mqtt-packet';
import WebSocket from 'ws';
import { startBroker as startBrokerWith } from '../helpers/broker.js';
import { RawClient } from '../helpers/raw-client.js';

export { nextEvent, sleep, startBroker } from '../helpers/broker.js';
export { RawClient };

/** The protocol level a conformance check runs at: 4 (3.1.1) or 5 (5.0). */
export type Version = 4 | 5;

let ids = 0;
/** A unique, spec-safe client id (letters and digits only). */
export const cid = (prefix = 'c') => `${prefix}${process.pid}x${++ids}`;

/** Connects (CONNECT/CONNACK) with the given protocol level and fields. */
export async function connect(port: number, version: 4 | 5, connect: Partial<ConnectPacket> = {}) {
  return RawClient.connect(port, { protocolVersion: version, clientId: cid(), ...connect });
}

/**
 * CONNECT fields that keep (and later resume) `clientId`'s session: 5.0 ends a session at the
 * close unless a Session Expiry Interval says otherwise, 3.1.1 needs only CleanSession=0.
 */
export function resumable(version: Version, clientId: string): Partial<ConnectPacket> {
  return { clientId, clean: false, ...(version === 5 ? { properties: { sessionExpiryInterval: 60 } } : {}) };
}

/** Opens a raw connection and sends CONNECT (clean, no Keep Alive, a fresh id) without waiting for the answer. */
export async function sendConnect(port: number, version: Version, fields: Partial<ConnectPacket> = {}): Promise<RawClient> {
  const c = await RawClient.open(port, version);
  c.send({ type: 'connect', protocolVersion: version, clean: true, keepAlive: 0, clientId: cid(), ...fields });
  return c;
}

/**
 * Raw CONNECT bytes with any protocol name, level and flags (Keep Alive 0, client id "ab"), for
 * malformed-CONNECT tests the encoder would refuse. `framing` 5 adds the (empty) property length.
 */
export function rawConnect(framing: Version, name: string, level: number, flags: number): number[] {
  const props = framing === 5 ? [0x00] : [];
  const body = [0x00, name.length, ...Buffer.from(name), level, flags, 0x00, 0x00, ...props, 0x00, 0x02, 0x61, 0x62];
  return [0x10, body.length, ...body];
}

export function pub(topic: string, payload: string | Buffer = 'x', qos: QoS = 0, extra: Partial<PublishPacket> = {}): PublishPacket {
  return {
    type: 'publish',
    topic,
    payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
    qos,
    retain: false,
    dup: false,
    ...(qos > 0 ? { packetId: ++ids % 60000 || 1 } : {}),
    ...extra,
  };
}

export function withProps(p: PublishPacket, properties: PublishProperties): PublishPacket {
  return { ...p, properties };
}

/** SUBSCRIBE and wait for the SUBACK. */
export async function subscribe(
  c: RawClient,
  subs: string | Subscription[],
  qos: QoS = 0,
  properties?: { subscriptionIdentifier?: number; userProperties?: [string, string][] },
  packetId = 100 + (++ids % 1000),
): Promise<SubackPacket> {
  const subscriptions = typeof subs === 'string' ? [{ topicFilter: subs, qos }] : subs;
  c.send({ type: 'subscribe', packetId, subscriptions, ...(properties ? { properties } : {}) });
  return c.next('suback');
}

/** A connected subscriber of `filter`. */
export async function subscriber(port: number, version: 4 | 5, filter: string, qos: QoS = 0, connectFields: Partial<ConnectPacket> = {}) {
  const { client } = await connect(port, version, connectFields);
  await subscribe(client, filter, qos);
  return client;
}

/** Every byte the broker sends on this connection from now on (for wire-exact checks). */
export function recordBytes(c: RawClient): { bytes: () => Buffer } {
  const chunks: Buffer[] = [];
  c.socket.on('data', (d: Buffer) => chunks.push(d));
  return { bytes: () => Buffer.concat(chunks) };
}

/** Closes the socket without DISCONNECT and waits for it. */
export async function drop(c: RawClient): Promise<void> {
  c.destroy();
  await c.closed;
}

/** Sends DISCONNECT and waits for the close. */
export async function bye(c: RawClient, reasonCode?: number, sessionExpiryInterval?: number): Promise<void> {
  c.send({
    type: 'disconnect',
    ...(reasonCode !== undefined ? { reasonCode } : {}),
    ...(sessionExpiryInterval !== undefined ? { properties: { sessionExpiryInterval } } : {}),
  });
  await c.expectClose();
}

/** A broker with a TCP and a WebSocket listener; returns both ports. */
export async function startWsBroker() {
  const { broker, ports } = await startBrokerWith({}, [
    { protocol: 'tcp', host: '127.0.0.1', port: 0 },
    { protocol: 'ws', host: '127.0.0.1', port: 0, path: '/mqtt' },
  ]);
  return { broker, tcp: ports[0] as number, ws: ports[1] as number };
}

/** Opens a WebSocket to the broker offering `protocols`; resolves once open. */
export function wsOpen(port: number, protocols: string[] = ['mqtt']): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/mqtt`, protocols);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Collects decoded packets from a WebSocket (binary frames, any split). */
export function wsPackets(ws: WebSocket, version: 4 | 5) {
  const got: Packet[] = [];
  let waiter: (() => void) | undefined;
  const decoder = new Decoder(
    (p) => {
      got.push(p);
      waiter?.();
    },
    { side: 'client', protocolVersion: version },
  );
  ws.on('message', (d: Buffer) => decoder.push(d));
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  return {
    got,
    closed,
    async next(timeoutMs = 5000): Promise<Packet> {
      const start = Date.now();
      while (got.length === 0) {
        if (Date.now() - start > timeoutMs) throw new Error('no packet over WebSocket');
        await new Promise<void>((r) => {
          waiter = r;
          setTimeout(r, 50);
        });
      }
      return got.shift() as Packet;
    },
  };
}
