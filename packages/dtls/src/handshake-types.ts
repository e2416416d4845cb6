import type { KeyObject, X509Certificate } from 'node:crypto';
import type { PeerAddress } from '@iotwire/udp';
import type { RecordCipher } from './aead.js';
import type { CipherSuite } from './cipher-suites.js';
import type { NamedGroupName } from './constants.js';
import type { FlightItem, HandshakeMessage } from './fragmentation.js';
import type { CertificateVerdict } from './verdict.js';

/** What a completed handshake hands to the record layer and the session info. */
export interface HandshakeResult {
  suite: CipherSuite;
  group: NamedGroupName | undefined;
  sessionId: Buffer;
  masterSecret: Buffer;
  extendedMasterSecret: boolean;
  resumed: boolean;
  pskIdentity?: Buffer;
  pskIdentityHint?: Buffer;
  pskKeyBits?: number;
  peerCertificates?: X509Certificate[];
  peerPublicKey?: KeyObject;
  peerRawPublicKeyIdentity?: string;
  servername?: string;
}

/** The services a handshake state machine gets from its connection (record layer, flights). */
export interface HandshakeContext {
  readonly peer: PeerAddress;
  readonly peerKey: string;
  /**
   * Sends a flight and manages its retransmission. A `final` flight needs no answer: it is not
   * timed, only resent when the peer retransmits its previous flight.
   */
  sendFlight(items: FlightItem[], final: boolean): void;
  /** Installs the next epoch's ciphers: write now (for the flight's Finished), read at the peer's CCS. */
  setPendingKeys(read: RecordCipher, write: RecordCipher): void;
  /**
   * Forgets the epoch-0 replay window. Called on a HelloVerifyRequest: some servers restart their
   * record sequence numbers after it (the IKEA gateway bug noted by node-dtls-client).
   */
  resetReplayWindow(): void;
  /** Progress text for `sslStatus`. */
  status(message: string): void;
  /** Key log line for this handshake. */
  keylog(clientRandom: Buffer, masterSecret: Buffer): void;
  /** Lets the application see and override a certificate verdict; resolves with the final decision. */
  verdict(v: CertificateVerdict): Promise<boolean>;
  /** The handshake finished: switch to application data. */
  complete(result: HandshakeResult): void;
}

/** A client or server handshake state machine, fed complete messages in message_seq order. */
export interface Handshake {
  handle(msg: HandshakeMessage): void | Promise<void>;
  /** The ClientHello random (to tell a retransmitted ClientHello from a new association). */
  readonly clientRandom: Buffer | undefined;
}
