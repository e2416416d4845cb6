// Byte-exact vectors for normative statements that the malformed table and the other codec tests
// do not cite by id (the broker's conformance index, mqtt-broker/test/conformance/statements.ts,
// points here). Ids are 3.1.1 numbering unless marked 5.0.
import { describe, expect, it } from 'vitest';
import { decode, encode, MqttPacketError, type ProtocolVersion } from '../src/index.js';
import { hex } from './vectors/packets.js';

function code(bytes: string, version: ProtocolVersion): string | undefined {
  try {
    decode(hex(bytes), version);
  } catch (e) {
    expect(e).toBeInstanceOf(MqttPacketError);
    return (e as MqttPacketError).code;
  }
  return undefined;
}

// A length-prefixed field of raw hex bytes.
const f = (h: string) => (h.length / 2).toString(16).padStart(4, '0') + h;
const str = (s: string) => f(Buffer.from(s).toString('hex'));
function pkt(header: number, body: string): string {
  const b = body.replace(/\s+/g, '');
  const n = b.length / 2;
  if (n > 127) throw new Error('test vector too long');
  return header.toString(16).padStart(2, '0') + n.toString(16).padStart(2, '0') + b;
}
const MQTT = str('MQTT');
const BAD = 'c0af'; // overlong encoding of "/": ill-formed UTF-8

describe('packet identifiers and properties', () => {
  it('3.1.1 [MQTT-2.3.1-5] / 5.0 [MQTT-2.2.1-2] a QoS 0 PUBLISH has no Packet Identifier; 5.0 [MQTT-2.2.2-1] no properties is Property Length 0', () => {
    const p = { type: 'publish', topic: 'a', payload: Buffer.from('x'), qos: 0, retain: false, dup: false } as const;
    expect(encode(p, 4).toString('hex')).toBe('3004000161' + '78');
    expect(encode(p, 5).toString('hex')).toBe('300500016100' + '78');
    // What follows the topic of a QoS 0 PUBLISH is payload, never an identifier.
    const d = decode(hex('30 06 0001 61 0001 ff'), 4);
    expect(d.type === 'publish' && [d.packetId, Buffer.from(d.payload).toString('hex')]).toEqual([undefined, '0001ff']);
    expect(encode({ type: 'unsubscribe', packetId: 10, topicFilters: ['a'] }, 5).toString('hex')).toBe('a2060' + '00a' + '00' + '000161');
  });
});

describe('CONNECT payload', () => {
  const will = { topic: 't', payload: Buffer.from('p'), qos: 0 as const, retain: false };
  const connect = {
    type: 'connect' as const,
    clean: true,
    keepAlive: 60,
    clientId: 'id',
    will,
    username: 'u',
    password: Buffer.from('pw'),
  };

  it('3.1.1 [MQTT-3.1.3-1] [MQTT-3.1.3-3] fields in the order Client Identifier (first), Will Topic, Will Message, User Name, Password', () => {
    const wire = `10 1b ${MQTT} 04 c6 003c ${str('id')} ${str('t')} ${str('p')} ${str('u')} ${str('pw')}`.replace(/\s+/g, '');
    expect(encode({ ...connect, protocolVersion: 4 }, 4).toString('hex')).toBe(wire);
    expect(decode(hex(wire), 4)).toMatchObject({ clientId: 'id', will: { topic: 't' }, username: 'u' });
    // No payload at all: the Client Identifier is missing.
    expect(code(`10 0a ${MQTT} 04 02 003c`, 4)).toBe('ERR_TRUNCATED');
  });

  it('5.0 [MQTT-3.1.3-1] [MQTT-3.1.3-3] Client Identifier first, then Will Properties, Will Topic, Will Payload, User Name, Password', () => {
    const wire = `10 1d ${MQTT} 05 c6 003c 00 ${str('id')} 00 ${str('t')} ${str('p')} ${str('u')} ${str('pw')}`.replace(/\s+/g, '');
    expect(encode({ ...connect, protocolVersion: 5 }, 5).toString('hex')).toBe(wire);
    expect(decode(hex(wire), 5)).toMatchObject({ clientId: 'id', will: { topic: 't' }, username: 'u' });
    expect(code(`10 0b ${MQTT} 05 02 003c 00`, 5)).toBe('ERR_TRUNCATED');
  });

  it('3.1.1 [MQTT-3.1.2-20] [MQTT-3.1.2-21] / 5.0 [MQTT-3.1.2-18] [MQTT-3.1.2-19] a password is present exactly when its flag is set', () => {
    for (const v of [4, 5] as const) {
      const props = v === 5 ? '00' : '';
      // User Name and Password flags set, the password missing.
      expect(code(pkt(0x10, `${MQTT} 0${v} c2 003c ${props} ${str('id')} ${str('u')}`), v)).toBe('ERR_TRUNCATED');
      // Only the User Name flag set, a password follows anyway.
      expect(code(pkt(0x10, `${MQTT} 0${v} 82 003c ${props} ${str('id')} ${str('u')} ${str('pw')}`), v)).toBe('ERR_TRAILING_BYTES');
      const ok = decode(hex(pkt(0x10, `${MQTT} 0${v} c2 003c ${props} ${str('id')} ${str('u')} ${str('pw')}`)), v);
      expect(ok.type === 'connect' && Buffer.from(ok.password ?? []).toString()).toBe('pw');
    }
  });

  it('3.1.1 [MQTT-3.1.3-10] [MQTT-3.1.3-11] / 5.0 [MQTT-3.1.3-11] [MQTT-3.1.3-12] Will Topic and User Name must be UTF-8', () => {
    for (const v of [4, 5] as const) {
      const props = v === 5 ? '00' : '';
      expect(code(pkt(0x10, `${MQTT} 0${v} 06 003c ${props} ${str('id')} ${props} ${f(BAD)} ${str('p')}`), v)).toBe('ERR_UTF8_INVALID');
      expect(code(pkt(0x10, `${MQTT} 0${v} 82 003c ${props} ${str('id')} ${f(BAD)}`), v)).toBe('ERR_UTF8_INVALID');
    }
  });
});

describe('UTF-8 fields of PUBLISH and UNSUBSCRIBE', () => {
  it('[MQTT-3.3.2-1] the Topic Name is the first field and must be UTF-8 (3.1.1 and 5.0)', () => {
    expect(decode(hex('30 05 0002 6162 78'), 4)).toMatchObject({ topic: 'ab' });
    expect(code(`30 04 ${f(BAD)}`, 4)).toBe('ERR_UTF8_INVALID');
    expect(code(`30 05 ${f(BAD)} 00`, 5)).toBe('ERR_UTF8_INVALID');
  });

  it('5.0 [MQTT-3.3.2-13] the Response Topic and [MQTT-3.3.2-19] the Content Type must be UTF-8', () => {
    expect(code(`30 09 ${str('a')} 05 08 ${f(BAD)}`, 5)).toBe('ERR_UTF8_INVALID');
    expect(code(`30 09 ${str('a')} 05 03 ${f(BAD)}`, 5)).toBe('ERR_UTF8_INVALID');
    expect(decode(hex(`30 09 ${str('a')} 05 03 ${str('ab')}`), 5)).toMatchObject({ properties: { contentType: 'ab' } });
  });

  it('[MQTT-3.10.3-1] UNSUBSCRIBE Topic Filters must be UTF-8 (3.1.1 and 5.0)', () => {
    expect(code(`a2 06 000a ${f(BAD)}`, 4)).toBe('ERR_UTF8_INVALID');
    expect(code(`a2 07 000a 00 ${f(BAD)}`, 5)).toBe('ERR_UTF8_INVALID');
  });
});
