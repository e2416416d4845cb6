import { createECDH, createPublicKey, diffieHellman, type ECDH, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { AlertDescription, NamedGroup, type NamedGroupName } from './constants.js';
import { DtlsError } from './errors.js';

/** An ephemeral ECDH key pair for one handshake (RFC 8422 ECDHE; RFC 7748 X25519). */
export interface EphemeralKey {
  readonly group: NamedGroupName;
  /** The public value as sent in the handshake (65-byte uncompressed point, or 32 bytes for X25519). */
  readonly publicKey: Buffer;
  /** Shared secret with the peer's public value; throws a DtlsError on an invalid point. */
  computeSecret(peerPublic: Uint8Array): Buffer;
}

export function groupCode(group: NamedGroupName): number {
  return NamedGroup[group];
}

export function groupByCode(code: number): NamedGroupName | undefined {
  return code === NamedGroup.secp256r1 ? 'secp256r1' : code === NamedGroup.x25519 ? 'x25519' : undefined;
}

/** Generates an ephemeral key on `group`. */
export function generateEphemeral(group: NamedGroupName): EphemeralKey {
  if (group === 'secp256r1') {
    const ecdh: ECDH = createECDH('prime256v1');
    const publicKey = ecdh.generateKeys();
    return {
      group,
      publicKey,
      computeSecret(peer) {
        // RFC 8422 §5.4: uncompressed points only (we advertise only that format).
        if (peer.length !== 65 || peer[0] !== 4) throw badPoint('P-256 point must be 65-byte uncompressed');
        try {
          return ecdh.computeSecret(peer);
        } catch (err) {
          throw badPoint('P-256 point is not on the curve', err);
        }
      },
    };
  }
  const { publicKey: pub, privateKey } = generateKeyPairSync('x25519');
  const raw = Buffer.from(pub.export({ format: 'jwk' }).x as string, 'base64url');
  return {
    group,
    publicKey: raw,
    computeSecret(peer) {
      if (peer.length !== 32) throw badPoint('X25519 public value must be 32 bytes');
      let peerKey: KeyObject;
      try {
        peerKey = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(peer).toString('base64url') }, format: 'jwk' });
      } catch (err) {
        throw badPoint('bad X25519 public value', err);
      }
      let secret: Buffer;
      try {
        secret = diffieHellman({ privateKey, publicKey: peerKey });
      } catch (err) {
        throw badPoint('X25519 key agreement failed (small-order point?)', err); // OpenSSL refuses all-zero output
      }
      // RFC 7748 §6.1: an all-zero output means a small-order point; abort.
      if (secret.every((b) => b === 0)) throw badPoint('X25519 produced an all-zero secret');
      return secret;
    },
  };
}

function badPoint(message: string, cause?: unknown): DtlsError {
  return new DtlsError('ERR_DTLS_HANDSHAKE_FAILURE', message, AlertDescription.IllegalParameter, { cause });
}
