import { describe, expect, it } from 'vitest';
import {
  allowedProperties,
  decode,
  isPropertyAllowed,
  MqttPacketError,
  PROPERTY_SPECS,
  type PropertyContext,
  PropertyId,
  propertiesLength,
  propertiesSize,
} from '../src/index.js';

// 5.0 §2.2.2.2 Table 2-4: identifier, name, type, packets.
const TABLE: [number, string, string, PropertyContext[]][] = [
  [0x01, 'payloadFormatIndicator', 'byte', ['publish', 'will']],
  [0x02, 'messageExpiryInterval', 'four-byte', ['publish', 'will']],
  [0x03, 'contentType', 'utf8', ['publish', 'will']],
  [0x08, 'responseTopic', 'utf8', ['publish', 'will']],
  [0x09, 'correlationData', 'binary', ['publish', 'will']],
  [0x0b, 'subscriptionIdentifier', 'varint', ['publish', 'subscribe']],
  [0x11, 'sessionExpiryInterval', 'four-byte', ['connect', 'connack', 'disconnect']],
  [0x12, 'assignedClientIdentifier', 'utf8', ['connack']],
  [0x13, 'serverKeepAlive', 'two-byte', ['connack']],
  [0x15, 'authenticationMethod', 'utf8', ['connect', 'connack', 'auth']],
  [0x16, 'authenticationData', 'binary', ['connect', 'connack', 'auth']],
  [0x17, 'requestProblemInformation', 'byte', ['connect']],
  [0x18, 'willDelayInterval', 'four-byte', ['will']],
  [0x19, 'requestResponseInformation', 'byte', ['connect']],
  [0x1a, 'responseInformation', 'utf8', ['connack']],
  [0x1c, 'serverReference', 'utf8', ['connack', 'disconnect']],
  [0x1f, 'reasonString', 'utf8', ['connack', 'puback', 'pubrec', 'pubrel', 'pubcomp', 'suback', 'unsuback', 'disconnect', 'auth']],
  [0x21, 'receiveMaximum', 'two-byte', ['connect', 'connack']],
  [0x22, 'topicAliasMaximum', 'two-byte', ['connect', 'connack']],
  [0x23, 'topicAlias', 'two-byte', ['publish']],
  [0x24, 'maximumQoS', 'byte', ['connack']],
  [0x25, 'retainAvailable', 'byte', ['connack']],
  [
    0x26,
    'userProperties',
    'utf8-pair',
    [
      'connect',
      'connack',
      'publish',
      'will',
      'puback',
      'pubrec',
      'pubrel',
      'pubcomp',
      'subscribe',
      'suback',
      'unsubscribe',
      'unsuback',
      'disconnect',
      'auth',
    ],
  ],
  [0x27, 'maximumPacketSize', 'four-byte', ['connect', 'connack']],
  [0x28, 'wildcardSubscriptionAvailable', 'byte', ['connack']],
  [0x29, 'subscriptionIdentifiersAvailable', 'byte', ['connack']],
  [0x2a, 'sharedSubscriptionAvailable', 'byte', ['connack']],
];

const CONTEXTS: PropertyContext[] = [
  'connect',
  'connack',
  'publish',
  'will',
  'puback',
  'pubrec',
  'pubrel',
  'pubcomp',
  'subscribe',
  'suback',
  'unsubscribe',
  'unsuback',
  'disconnect',
  'auth',
];

/** A valid value of each wire type (1 is valid for every byte, integer and identifier property). */
const VALUE: Record<string, string> = {
  byte: '01',
  'two-byte': '0001',
  'four-byte': '00000001',
  varint: '01',
  utf8: '000161',
  binary: '000161',
  'utf8-pair': '000161000162',
};

function varint(n: number): string {
  const out: number[] = [];
  do {
    let d = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) d |= 0x80;
    out.push(d);
  } while (n > 0);
  return Buffer.from(out).toString('hex');
}

function pkt(header: number, body: string): Buffer {
  return Buffer.from(`${header.toString(16)}${varint(body.length / 2)}${body}`, 'hex');
}

/** A 5.0 packet of `context` carrying the property block `props` (hex, without the length). */
function carrying(context: PropertyContext, props: string): Buffer {
  const block = `${varint(props.length / 2)}${props}`;
  switch (context) {
    case 'connect':
      return pkt(0x10, `00044d51545405020000${block}000163`);
    case 'will':
      return pkt(0x10, `00044d51545405060000${'00'}000163${block}000177${'0000'}`);
    case 'connack':
      return pkt(0x20, `0000${block}`);
    case 'publish':
      return pkt(0x30, `000174${block}`);
    case 'puback':
      return pkt(0x40, `000a00${block}`);
    case 'pubrec':
      return pkt(0x50, `000a00${block}`);
    case 'pubrel':
      return pkt(0x62, `000a00${block}`);
    case 'pubcomp':
      return pkt(0x70, `000a00${block}`);
    case 'subscribe':
      return pkt(0x82, `000a${block}00016100`);
    case 'suback':
      return pkt(0x90, `000a${block}00`);
    case 'unsubscribe':
      return pkt(0xa2, `000a${block}000161`);
    case 'unsuback':
      return pkt(0xb0, `000a${block}00`);
    case 'disconnect':
      return pkt(0xe0, `00${block}`);
    case 'auth':
      return pkt(0xf0, `00${block}`);
  }
}

describe('property table', () => {
  it('has every MQTT 5.0 property with its identifier and type', () => {
    expect(PROPERTY_SPECS.map((s) => [s.id, s.name, s.type])).toEqual(TABLE.map(([id, name, type]) => [id, name, type]));
    expect(Object.values(PropertyId).sort((a, b) => a - b)).toEqual(TABLE.map(([id]) => id));
  });

  it.each(TABLE)('0x%s %s (%s) is allowed exactly in its packets, and the decoder agrees', (id, name, type, contexts) => {
    for (const ctx of CONTEXTS) {
      const allowed = contexts.includes(ctx);
      const key = id === 0x0b && ctx === 'publish' ? 'subscriptionIdentifiers' : name;
      expect(isPropertyAllowed(ctx, key as never), `${name} in ${ctx}`).toBe(allowed);
      let props = `${id.toString(16).padStart(2, '0')}${VALUE[type]}`;
      if (id === 0x16 && allowed) props = `15000178${props}`; // Authentication Data needs a Method
      const bytes = carrying(ctx, props);
      if (allowed) {
        expect(() => decode(bytes, 5), `${name} in ${ctx}`).not.toThrow();
      } else {
        expect(() => decode(bytes, 5), `${name} in ${ctx}`).toThrow(
          expect.objectContaining({ code: 'ERR_PROPERTY_NOT_ALLOWED', reasonCode: 0x81 }),
        );
      }
    }
  });

  it('rejects a repeated property except User Property and PUBLISH Subscription Identifier', () => {
    for (const [id, name, type, contexts] of TABLE) {
      const ctx = contexts[0] as PropertyContext;
      let one = `${id.toString(16).padStart(2, '0')}${VALUE[type]}`;
      if (id === 0x16) one += '15000178';
      const twice = `${one}${id.toString(16).padStart(2, '0')}${VALUE[type]}`;
      const repeatable = id === 0x26 || (id === 0x0b && ctx === 'publish');
      const run = () => decode(carrying(ctx, twice), 5);
      if (repeatable) expect(run, name).not.toThrow();
      else expect(run, name).toThrow(expect.objectContaining({ code: 'ERR_PROPERTY_DUPLICATE', reasonCode: 0x82 }));
    }
  });

  it('lists the allowed properties of a context', () => {
    expect(allowedProperties('publish')).toEqual([
      'payloadFormatIndicator',
      'messageExpiryInterval',
      'contentType',
      'responseTopic',
      'correlationData',
      'subscriptionIdentifiers',
      'topicAlias',
      'userProperties',
    ]);
    expect(allowedProperties('pubrel')).toEqual(['reasonString', 'userProperties']);
  });

  it('computes property sizes', () => {
    expect(propertiesLength(undefined, 'publish')).toBe(0);
    expect(propertiesSize(undefined, 'publish')).toBe(1);
    // 0x0B + varint(200) (2 bytes) + 0x26 + "k" + "vv" + 0x02 + 4 bytes
    const p = { subscriptionIdentifiers: [200], userProperties: [['k', 'vv']] as [string, string][], messageExpiryInterval: 1 };
    expect(propertiesLength(p, 'publish')).toBe(3 + 8 + 5);
    expect(propertiesSize(p, 'publish')).toBe(17);
    const many = { userProperties: Array.from({ length: 20 }, () => ['key', 'value'] as [string, string]) };
    expect(propertiesSize(many, 'connect')).toBe(2 + 20 * 13);
    expect(() => propertiesLength({ topicAlias: 1 }, 'connect')).toThrow(MqttPacketError);
  });
});
