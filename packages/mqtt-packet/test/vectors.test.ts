import { describe, expect, it } from 'vitest';
import { Decoder, decode, encode, type Packet } from '../src/index.js';
import { hex, VECTORS } from './vectors/packets.js';

const cases = VECTORS.flatMap((v) => v.versions.map((version) => ({ ...v, version, label: `${v.name} @${version}` })));

describe('byte-exact vectors', () => {
  it('cover every packet type at every protocol level (AUTH at 5 only)', () => {
    const types = [
      'connect',
      'connack',
      'publish',
      'puback',
      'pubrec',
      'pubrel',
      'pubcomp',
      'subscribe',
      'suback',
      'unsubscribe',
      'unsuback',
      'pingreq',
      'pingresp',
      'disconnect',
    ];
    for (const version of [3, 4, 5]) {
      const have = new Set(cases.filter((c) => c.version === version && !c.decodeOnly).map((c) => c.packet.type));
      for (const t of version === 5 ? [...types, 'auth'] : types) expect(have.has(t as Packet['type']), `${t} @${version}`).toBe(true);
    }
  });

  it.each(cases)('decodes $label', ({ hex: h, version, packet }) => {
    expect(decode(hex(h), version)).toEqual(packet);
  });

  it.each(cases.filter((c) => !c.decodeOnly))('encodes $label byte for byte', ({ hex: h, version, packet }) => {
    expect(encode(packet, version).toString('hex')).toBe(hex(h).toString('hex'));
  });

  it.each(cases)('streams $label one byte at a time', ({ hex: h, version, packet }) => {
    const got: Packet[] = [];
    const d = new Decoder((p) => got.push(p), { protocolVersion: version });
    for (const byte of hex(h)) d.push(Buffer.from([byte]));
    expect(got).toEqual([packet]);
  });
});
