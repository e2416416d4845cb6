import { describe, expect, it } from 'vitest';
import { parseBrokerArgs } from '../src/index.js';

describe('parseBrokerArgs', () => {
  it('parses port, config and verbose', () => {
    expect(parseBrokerArgs(['-p', '1884', '-c', 'b.conf', '-v'])).toEqual({ port: 1884, config: 'b.conf', verbose: true, help: false });
  });
  it('rejects bad ports and unknown flags', () => {
    expect(() => parseBrokerArgs(['-p', 'x'])).toThrow(/invalid port/);
    expect(() => parseBrokerArgs(['--nope'])).toThrow();
  });
});
