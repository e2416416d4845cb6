import type { AuthProperties } from '@iotwire/mqtt-packet';

/** What the server sent in an AUTH (or the final CONNACK) of an enhanced-authentication exchange. */
export interface AuthChallenge {
  /** 0x18 Continue authentication, 0x19 Re-authenticate, 0x00 Success (final data). */
  reasonCode: number;
  /** Authentication Data from the server, if any. */
  data: Uint8Array | undefined;
  properties: AuthProperties | undefined;
}

/**
 * MQTT 5 enhanced authentication (§4.12): the Authentication Method goes in CONNECT with
 * the initial data; each AUTH 0x18 from the server is answered with what `respond` returns.
 * `reauthenticate()` on the client starts a new exchange (AUTH 0x19) on a live connection.
 */
export interface EnhancedAuth {
  /** Authentication Method, e.g. `SCRAM-SHA-256`. */
  method: string;
  /** Initial Authentication Data for CONNECT (or for a re-authentication). */
  initialData?(): Uint8Array | undefined | Promise<Uint8Array | undefined>;
  /** Answers a server challenge; the returned bytes go back in AUTH 0x18. Throw to abort. */
  respond(challenge: AuthChallenge): Uint8Array | undefined | Promise<Uint8Array | undefined>;
  /**
   * Sees the server's final data (CONNACK or AUTH 0x00), e.g. to verify a server signature.
   * Throw (or reject) to refuse the server: the client disconnects with 0x87.
   */
  complete?(challenge: AuthChallenge): void | Promise<void>;
}
