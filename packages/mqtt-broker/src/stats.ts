/**
 * Running counters of a broker, cheap enough to bump on the hot path (plain number fields, no
 * events). `$SYS` topics and metrics endpoints read them; nothing here is reset while running.
 */
export class BrokerStats {
  /** When the broker object was created (ms since the epoch). */
  readonly startedAt = Date.now();
  /** Bytes read from client streams (MQTT bytes, after TLS/WebSocket framing). */
  bytesReceived = 0;
  /** Bytes handed to client streams. */
  bytesSent = 0;
  /** MQTT packets decoded from clients. */
  packetsReceived = 0;
  /** MQTT packets written to clients (each fan-out copy counts). */
  packetsSent = 0;
  /** PUBLISH packets received from clients. */
  messagesReceived = 0;
  /** PUBLISH packets written to clients. */
  messagesSent = 0;
  /** Payload bytes of PUBLISH packets received from clients. */
  publishBytesReceived = 0;
  /** Payload bytes of PUBLISH packets written to clients. */
  publishBytesSent = 0;
  /** Disconnected sessions removed because their Session Expiry Interval ran out. */
  sessionsExpired = 0;
  /** Messages dropped for a subscriber (queue limits, expiry, oversize). */
  messagesDropped = 0;
  /** Messages published in-process through `publish()`. */
  messagesPublishedInternally = 0;
  /** Transport connections accepted since start. */
  connectionsAccepted = 0;
  /** Most simultaneous connections seen. */
  connectionsMaximum = 0;

  /** Seconds since start. */
  get uptimeSeconds(): number {
    return Math.floor((Date.now() - this.startedAt) / 1000);
  }
}
