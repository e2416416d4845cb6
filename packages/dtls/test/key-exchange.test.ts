import { describe, expect, it } from 'vitest';
import { DtlsError } from '../src/errors.js';
import { generateEphemeral, groupByCode, groupCode } from '../src/key-exchange.js';

describe('ephemeral ECDH', () => {
  for (const group of ['secp256r1', 'x25519'] as const) {
    it(`${group}: both sides derive the same secret`, () => {
      const a = generateEphemeral(group);
      const b = generateEphemeral(group);
      expect(a.publicKey).toHaveLength(group === 'x25519' ? 32 : 65);
      expect(a.computeSecret(b.publicKey)).toEqual(b.computeSecret(a.publicKey));
      expect(a.computeSecret(b.publicKey)).toHaveLength(32);
    });
  }

  it('rejects malformed and invalid peer values with illegal_parameter', () => {
    const p = generateEphemeral('secp256r1');
    const notOnCurve = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]);
    for (const bad of [Buffer.alloc(65), Buffer.alloc(33, 2), notOnCurve]) {
      expect(() => p.computeSecret(bad)).toThrow(DtlsError);
    }
    const x = generateEphemeral('x25519');
    expect(() => x.computeSecret(Buffer.alloc(31))).toThrow(DtlsError);
    // Small-order point (all zero) gives an all-zero secret: RFC 7748 §6.1 says abort.
    try {
      x.computeSecret(Buffer.alloc(32));
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(DtlsError);
      expect((err as DtlsError).alert).toBe(47);
    }
  });

  it('maps group code points', () => {
    expect(groupCode('secp256r1')).toBe(23);
    expect(groupCode('x25519')).toBe(29);
    expect(groupByCode(24)).toBeUndefined();
  });
});
