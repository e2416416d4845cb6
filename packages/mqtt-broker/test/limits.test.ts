import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, resolveLimits } from '../src/index.js';

describe('resolveLimits', () => {
  it('fills defaults and keeps overrides', () => {
    const l = resolveLimits({ maxInflight: 10 });
    expect(l.maxInflight).toBe(10);
    expect(l.maxPacketSize).toBe(DEFAULT_LIMITS.maxPacketSize);
  });
  it.each([{ maxInflight: 0 }, { maxInflight: 70_000 }, { maxPacketSize: 3e8 }, { connectTimeout: 1.5 }])('rejects %j', (bad) => {
    expect(() => resolveLimits(bad)).toThrow(RangeError);
  });
});
