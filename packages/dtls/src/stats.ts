/**
 * Counters for everything the DTLS layer drops or does. Bad records are dropped silently on the
 * wire (RFC 6347 §4.1.2.7) but never invisibly: each reason has its own counter.
 */
export interface DtlsStats {
  recordsIn: number;
  recordsOut: number;
  /** Records dropped, by reason. */
  dropped: {
    /** Unparseable header fields, bad content type or version, oversized. */
    malformed: number;
    /** A record header or body cut short by the end of the datagram. */
    truncated: number;
    /** Sequence number already seen or left of the replay window. */
    replayed: number;
    /** Authentication (AEAD tag) failure: forged or corrupted. */
    badMac: number;
    /** Epoch other than the current one (or the next one, briefly buffered, during a handshake). */
    badEpoch: number;
    /** Well-formed but not acceptable in the current state (e.g. plaintext application data). */
    unexpected: number;
    /** Datagrams from a peer with no session that were not a usable ClientHello. */
    noSession: number;
    /** Handshake fragments discarded (beyond the reassembly window or size cap, inconsistent). */
    fragments: number;
  };
  handshakes: {
    /** HelloVerifyRequests sent (stateless; no server state allocated). */
    helloVerifyRequests: number;
    started: number;
    completed: number;
    resumed: number;
    failed: number;
    timedOut: number;
  };
  alertsSent: number;
  alertsReceived: number;
  /** Renegotiation attempts answered with no_renegotiation. */
  renegotiationsRefused: number;
  /** Flight retransmissions (timer or peer-triggered). */
  retransmissions: number;
}

export function createStats(): DtlsStats {
  return {
    recordsIn: 0,
    recordsOut: 0,
    dropped: { malformed: 0, truncated: 0, replayed: 0, badMac: 0, badEpoch: 0, unexpected: 0, noSession: 0, fragments: 0 },
    handshakes: { helloVerifyRequests: 0, started: 0, completed: 0, resumed: 0, failed: 0, timedOut: 0 },
    alertsSent: 0,
    alertsReceived: 0,
    renegotiationsRefused: 0,
    retransmissions: 0,
  };
}
