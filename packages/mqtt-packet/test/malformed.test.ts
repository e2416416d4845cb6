import { describe, expect, it } from 'vitest';
import { Decoder, decode, MqttPacketError, type Packet } from '../src/index.js';
import { MALFORMED } from './vectors/malformed.js';
import { hex } from './vectors/packets.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

const rows = MALFORMED.flatMap((r) =>
  r.versions.map((version) => ({
    ...r,
    version,
    hex: typeof r.hex === 'string' ? r.hex : r.hex(version),
    label: `${r.rule} ${r.name} @${version}`,
  })),
);

describe('malformed input table', () => {
  it.each(rows.filter((r) => !r.streamOnly))('decode() rejects: $label', ({ hex: h, version, code, reason, options }) => {
    const e = thrown(() => decode(hex(h), version, options));
    expect(e).toBeInstanceOf(MqttPacketError);
    expect(e).toMatchObject({ code, reasonCode: reason });
  });

  it.each(rows)('the streaming decoder rejects and stays failed: $label', ({ hex: h, version, code, reason, options, streamOnly }) => {
    const got: Packet[] = [];
    const protocolVersion = streamOnly && options?.side === 'server' ? undefined : version;
    const d = new Decoder((p) => got.push(p), { ...options, protocolVersion });
    const bytes = hex(h);
    let e: unknown;
    for (let i = 0; i < bytes.length && e === undefined; i++) e = thrown(() => d.push(bytes.subarray(i, i + 1)));
    expect(e).toBeInstanceOf(MqttPacketError);
    expect(e).toMatchObject({ code, reasonCode: reason });
    expect(d.error).toBe(e);
    // Poisoned: any later input gets the same error, nothing more is delivered.
    const before = got.length;
    expect(thrown(() => d.push(Buffer.from([0xc0, 0x00])))).toBe(e);
    expect(got.length).toBe(before);
    expect(d.bufferedBytes).toBe(0);
  });

  it('names the packet type and protocol level on errors', () => {
    const e = thrown(() => decode(hex('62 02 0000'), 5)) as MqttPacketError;
    expect(e.packetType).toBe('pubrel');
    expect(e.protocolVersion).toBe(5);
    const c = thrown(() => decode(hex('10 0c 0004 4d515454 04 00 003c 0000'), 5)) as MqttPacketError;
    expect(c).toMatchObject({ code: 'ERR_CLIENT_ID_INVALID', packetType: 'connect', protocolVersion: 4 });
    const u = thrown(() => decode(hex('10 0c 0004 4d515454 07 00 003c 0000'), 4)) as MqttPacketError;
    expect(u).toMatchObject({ code: 'ERR_UNSUPPORTED_PROTOCOL_VERSION', packetType: 'connect', protocolVersion: undefined });
  });

  it('every error code of the codec appears in the table or in the encoder tests', () => {
    const covered = new Set(MALFORMED.map((r) => r.code));
    for (const c of [
      'ERR_RESERVED_PACKET_TYPE',
      'ERR_HEADER_FLAGS',
      'ERR_VARINT_TOO_LONG',
      'ERR_VARINT_NOT_MINIMAL',
      'ERR_QOS_INVALID',
      'ERR_DUP_QOS0',
      'ERR_TRUNCATED',
      'ERR_TRAILING_BYTES',
      'ERR_UTF8_INVALID',
      'ERR_UTF8_NULL',
      'ERR_PROTOCOL_NAME',
      'ERR_UNSUPPORTED_PROTOCOL_VERSION',
      'ERR_CONNECT_FLAGS',
      'ERR_CLIENT_ID_INVALID',
      'ERR_CONNACK_FLAGS',
      'ERR_SESSION_PRESENT',
      'ERR_TOPIC_NAME_INVALID',
      'ERR_TOPIC_FILTER_INVALID',
      'ERR_TOPIC_NAME_EMPTY',
      'ERR_PACKET_ID_ZERO',
      'ERR_REASON_CODE_INVALID',
      'ERR_PROPERTY_UNKNOWN',
      'ERR_PROPERTY_NOT_ALLOWED',
      'ERR_PROPERTY_DUPLICATE',
      'ERR_PROPERTY_VALUE',
      'ERR_AUTH_DATA_WITHOUT_METHOD',
      'ERR_EMPTY_PAYLOAD',
      'ERR_SUBSCRIPTION_OPTIONS',
      'ERR_RETAIN_HANDLING',
      'ERR_NO_LOCAL_SHARED',
      'ERR_UNEXPECTED_PACKET',
      'ERR_PACKET_TOO_LARGE',
    ]) {
      expect(covered.has(c as never), c).toBe(true);
    }
  });
});
