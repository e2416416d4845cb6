import { describe, expect, it } from 'vitest';
import { TcpServerError, TcpServerErrorCode } from '../src/index.js';

describe('TcpServerError', () => {
  it('carries the reference numeric code and puts it in the message', () => {
    const e = new TcpServerError(TcpServerErrorCode.InvalidConnectionId, 'no connection "7"');
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe(126);
    expect(e.message).toBe('[126] no connection "7"');
    expect(e.name).toBe('TcpServerError');
  });
});
