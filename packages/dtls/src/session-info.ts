import type { KeyObject, X509Certificate } from 'node:crypto';
import type { PeerAddress } from '@iotwire/udp';
import type { BulkCipher, KeyExchangeAlgorithm } from './cipher-suites.js';
import type { NamedGroupName } from './constants.js';

/**
 * What a completed handshake negotiated: the seed's SSLNegotiated* settings, per session.
 * `securityContext` is the value put in `info.securityContext` of every message received on
 * this session and epoch; compare it by identity (`===`).
 */
export interface DtlsSessionInfo {
  readonly peer: PeerAddress;
  readonly role: 'client' | 'server';
  /** SSLNegotiatedVersion: always `'DTLSv1.2'`. */
  readonly version: 'DTLSv1.2';
  /** SSLNegotiatedCipherSuite: IANA name, e.g. `TLS_PSK_WITH_AES_128_CCM_8`. */
  readonly cipherSuite: string;
  /** SSLNegotiatedCipher: bulk cipher, e.g. `AES_128_CCM_8`. */
  readonly cipher: BulkCipher;
  /** SSLNegotiatedCipherStrength, bits. */
  readonly cipherStrength: number;
  /** SSLNegotiatedKeyExchange. */
  readonly keyExchange: KeyExchangeAlgorithm;
  /** SSLNegotiatedKeyExchangeStrength, bits (curve size for ECDHE, key size for plain PSK). */
  readonly keyExchangeStrength: number;
  /** The ECDHE group, if any. */
  readonly group?: NamedGroupName;
  /** Session id (hex; empty when the server does not cache sessions). */
  readonly sessionId: string;
  /** True if this was an abbreviated (resumed) handshake. */
  readonly resumed: boolean;
  /** RFC 7627 extended master secret in use. */
  readonly extendedMasterSecret: boolean;
  /** The PSK identity used (PSK suites). */
  readonly pskIdentity?: Buffer;
  /** The server's PSK identity hint, if it sent one. */
  readonly pskIdentityHint?: Buffer;
  /** Peer's certificate chain (leaf first), X.509 mode. */
  readonly peerCertificates?: readonly X509Certificate[];
  /** Peer's public key (certificate or raw public key). */
  readonly peerPublicKey?: KeyObject;
  /** Peer's RFC 6920 raw-public-key identity, RPK mode. */
  readonly peerRawPublicKeyIdentity?: string;
  /** SNI host name the client asked for. */
  readonly servername?: string;
  /** Current epoch of the session's keys. */
  readonly epoch: number;
  /** Opaque, per session and epoch; see the interface doc. */
  readonly securityContext: object;
}

/** The value placed in `DatagramInfo.securityContext`: one frozen object per session and epoch. */
export interface DtlsSecurityContext {
  readonly kind: 'dtls';
  readonly sessionSerial: number;
  readonly epoch: number;
}
