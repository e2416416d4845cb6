import type { KeyObject, X509Certificate } from 'node:crypto';
import type { PeerAddress } from '@iotwire/udp';
import type { CertificateStatusCode } from './certificates.js';

/**
 * The payload of the `sslServerAuthentication` / `sslClientAuthentication` events (the seed's
 * SSLServerAuthentication / SSLClientAuthentication): the peer's credentials, the validation
 * verdict, and a writable `accept` that starts as that verdict. A listener may override it
 * (e.g. accept a self-signed certificate after asking the user); an asynchronous listener calls
 * `waitFor(promise)` and sets `accept` before the promise settles. The handshake continues only
 * when every such promise has settled, and fails with a fatal alert if `accept` is then false.
 */
export class CertificateVerdict {
  /** Set to override the validation verdict. */
  accept: boolean;
  readonly #waits: PromiseLike<unknown>[] = [];

  constructor(
    /** The peer whose credentials these are. */
    readonly peer: PeerAddress,
    /** `host:port` of the peer: the seed's ConnectionId on the server side. */
    readonly connectionId: string,
    /** DER of the leaf certificate, or of the SubjectPublicKeyInfo in raw-public-key mode (CertEncodedB). */
    readonly certEncoded: Buffer,
    /** The certificate chain as sent by the peer (leaf first); empty in raw-public-key mode. */
    readonly chain: readonly X509Certificate[],
    /** Subject DN of the leaf (CertSubject); in raw-public-key mode the RFC 6920 key identity. */
    readonly subject: string,
    /** Issuer DN of the leaf (CertIssuer); empty in raw-public-key mode. */
    readonly issuer: string,
    /** `"OK"` or why validation failed (Status). */
    readonly status: string,
    /** Stable form of `status`. */
    readonly statusCode: CertificateStatusCode,
    /** The peer's public key. */
    readonly publicKey: KeyObject,
    /** True in raw-public-key mode (RFC 7250). */
    readonly rawPublicKey: boolean,
  ) {
    this.accept = statusCode === 'OK';
  }

  /** The leaf certificate, if X.509. */
  get certificate(): X509Certificate | undefined {
    return this.chain[0];
  }

  /** PEM of the leaf certificate (CertEncoded); empty in raw-public-key mode. */
  get certEncodedPem(): string {
    return this.chain[0]?.toString() ?? '';
  }

  /** Delays the verdict until `p` settles (for asynchronous checks). */
  waitFor(p: PromiseLike<unknown>): void {
    this.#waits.push(p);
  }

  /** @internal Resolves once all `waitFor` promises settled; a rejection means "reject". */
  async settle(): Promise<boolean> {
    for (let i = 0; i < this.#waits.length; i++) {
      try {
        await this.#waits[i];
      } catch {
        this.accept = false;
      }
    }
    return this.accept;
  }
}
