/** Resource limits of the broker. Every one has a safe default. */
export interface BrokerLimits {
  /** Concurrent connections across all listeners. */
  maxConnections: number;
  /** Largest MQTT packet accepted, in bytes (checked at the length header). */
  maxPacketSize: number;
  /** Unacknowledged outgoing QoS 1/2 messages per client (capped further by the client's Receive Maximum). */
  maxInflight: number;
  /** Messages queued per offline or slow client. */
  maxQueuedMessages: number;
  /** Bytes queued per offline or slow client. */
  maxQueuedBytes: number;
  /** Milliseconds a new socket may take to send CONNECT. */
  connectTimeout: number;
  /** Longest topic name or filter, in bytes. */
  maxTopicLength: number;
  /** Most topic levels in a name or filter. */
  maxTopicLevels: number;
  /**
   * Bytes a connection may have waiting in its socket before it counts as slow: further
   * messages go to its session queue (bounded above, QoS 0 dropped first) until it drains.
   */
  maxSendBuffer: number;
}

export const DEFAULT_LIMITS: Readonly<BrokerLimits> = Object.freeze({
  maxConnections: 100_000,
  maxPacketSize: 1024 * 1024,
  maxInflight: 100,
  maxQueuedMessages: 1000,
  maxQueuedBytes: 16 * 1024 * 1024,
  connectTimeout: 10_000,
  maxTopicLength: 65_535,
  maxTopicLevels: 128,
  maxSendBuffer: 1024 * 1024,
});

/** Merges user limits over the defaults and rejects values that cannot work. */
export function resolveLimits(partial: Partial<BrokerLimits> = {}): BrokerLimits {
  const limits = { ...DEFAULT_LIMITS, ...partial };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value <= 0) throw new RangeError(`limit ${name} must be a positive integer, got ${value}`);
  }
  if (limits.maxPacketSize > 268_435_460) throw new RangeError('maxPacketSize cannot exceed 268435460 (MQTT maximum)');
  if (limits.maxInflight > 65_535) throw new RangeError('maxInflight cannot exceed 65535 packet identifiers');
  if (limits.maxTopicLength > 65_535) throw new RangeError('maxTopicLength cannot exceed 65535 (MQTT maximum)');
  if (limits.maxConnections > 1_000_000) throw new RangeError('maxConnections cannot exceed 1000000');
  return limits;
}
