/** CoAP transmission parameters (RFC 7252 §4.8), in seconds as the RFC states them. */
export interface TransmissionParameters {
  ackTimeout: number;
  ackRandomFactor: number;
  maxRetransmit: number;
  nstart: number;
  defaultLeisure: number;
  probingRate: number;
  /** Maximum one-way latency assumed by the RFC (MAX_LATENCY). */
  maxLatency: number;
}

export const DEFAULT_TRANSMISSION: Readonly<TransmissionParameters> = Object.freeze({
  ackTimeout: 2,
  ackRandomFactor: 1.5,
  maxRetransmit: 4,
  nstart: 1,
  defaultLeisure: 5,
  probingRate: 1,
  maxLatency: 100,
});

/** Time values derived from the parameters (RFC 7252 §4.8.2), in seconds. */
export interface DerivedTimes {
  maxTransmitSpan: number;
  maxTransmitWait: number;
  processingDelay: number;
  maxRtt: number;
  exchangeLifetime: number;
  nonLifetime: number;
}

export function deriveTimes(p: TransmissionParameters = DEFAULT_TRANSMISSION): DerivedTimes {
  const maxTransmitSpan = p.ackTimeout * (2 ** p.maxRetransmit - 1) * p.ackRandomFactor;
  const maxTransmitWait = p.ackTimeout * (2 ** (p.maxRetransmit + 1) - 1) * p.ackRandomFactor;
  const processingDelay = p.ackTimeout;
  const maxRtt = 2 * p.maxLatency + processingDelay;
  return {
    maxTransmitSpan,
    maxTransmitWait,
    processingDelay,
    maxRtt,
    exchangeLifetime: maxTransmitSpan + 2 * p.maxLatency + processingDelay,
    nonLifetime: maxTransmitSpan + p.maxLatency,
  };
}
