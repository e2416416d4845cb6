// Fixtures for the codec suite: the same packets in our shape and in npm mqtt-packet's shape.
import type { Packet, ProtocolVersion, PublishPacket } from '@iotwire/mqtt-packet';

export interface Case {
  name: string;
  version: ProtocolVersion;
  ours: Packet;
  theirs: Record<string, unknown>;
}

const payload = (n: number) => Buffer.alloc(n, 0x61);

function publish(name: string, size: number, qos: 0 | 1 = 0): Case {
  const p: PublishPacket = {
    type: 'publish',
    topic: 'sensors/building-7/floor-3/temperature',
    payload: payload(size),
    qos,
    retain: false,
    dup: false,
    packetId: qos ? 42 : undefined,
  };
  return {
    name,
    version: 4,
    ours: p,
    theirs: { cmd: 'publish', topic: p.topic, payload: p.payload, qos, retain: false, dup: false, messageId: p.packetId },
  };
}

export const PUBLISH_16 = publish('PUBLISH 16 B', 16);
export const PUBLISH_1K = publish('PUBLISH 1 KB', 1024);
export const PUBLISH_64K = publish('PUBLISH 64 KB', 65_536);

export const CONNECT: Case = {
  name: 'CONNECT (3.1.1, will, user/pass)',
  version: 4,
  ours: {
    type: 'connect',
    protocolVersion: 4,
    clean: true,
    keepAlive: 60,
    clientId: 'sensor-gateway-000123',
    username: 'gateway',
    password: Buffer.from('s3cr3t-passw0rd'),
    will: { topic: 'status/sensor-gateway-000123', payload: Buffer.from('offline'), qos: 1, retain: true },
  },
  theirs: {
    cmd: 'connect',
    protocolId: 'MQTT',
    protocolVersion: 4,
    clean: true,
    keepalive: 60,
    clientId: 'sensor-gateway-000123',
    username: 'gateway',
    password: Buffer.from('s3cr3t-passw0rd'),
    will: { topic: 'status/sensor-gateway-000123', payload: Buffer.from('offline'), qos: 1, retain: true },
  },
};

export const SUBSCRIBE: Case = {
  name: 'SUBSCRIBE (3.1.1, 3 filters)',
  version: 4,
  ours: {
    type: 'subscribe',
    packetId: 7,
    subscriptions: [
      { topicFilter: 'sensors/+/temperature', qos: 1 },
      { topicFilter: 'alerts/#', qos: 2 },
      { topicFilter: 'config/sensor-gateway-000123', qos: 0 },
    ],
  },
  theirs: {
    cmd: 'subscribe',
    messageId: 7,
    subscriptions: [
      { topic: 'sensors/+/temperature', qos: 1 },
      { topic: 'alerts/#', qos: 2 },
      { topic: 'config/sensor-gateway-000123', qos: 0 },
    ],
  },
};

const v5Props = {
  payloadFormatIndicator: 1 as const,
  messageExpiryInterval: 3600,
  contentType: 'application/json',
  responseTopic: 'replies/sensor-gateway-000123',
  correlationData: Buffer.from('req-000001'),
};

export const PUBLISH_V5: Case = {
  name: 'PUBLISH 5.0 + properties, 256 B',
  version: 5,
  ours: {
    type: 'publish',
    topic: 'sensors/building-7/floor-3/temperature',
    payload: payload(256),
    qos: 1,
    retain: false,
    dup: false,
    packetId: 42,
    properties: {
      ...v5Props,
      userProperties: [
        ['unit', 'celsius'],
        ['source', 'probe-12'],
      ],
    },
  },
  theirs: {
    cmd: 'publish',
    topic: 'sensors/building-7/floor-3/temperature',
    payload: payload(256),
    qos: 1,
    retain: false,
    dup: false,
    messageId: 42,
    properties: { ...v5Props, payloadFormatIndicator: true, userProperties: { unit: 'celsius', source: 'probe-12' } },
  },
};
