import { describe, expect, it } from 'vitest';
import { deriveTimes } from '../src/index.js';

describe('RFC 7252 §4.8.2 derived times', () => {
  it('match the RFC values for the defaults', () => {
    expect(deriveTimes()).toEqual({
      maxTransmitSpan: 45,
      maxTransmitWait: 93,
      processingDelay: 2,
      maxRtt: 202,
      exchangeLifetime: 247,
      nonLifetime: 145,
    });
  });
});
