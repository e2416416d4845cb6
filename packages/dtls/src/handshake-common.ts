import { createPublicKey, type KeyObject, sign, verify, X509Certificate } from 'node:crypto';
import { RecordCipher } from './aead.js';
import { hashForScheme, rawPublicKeyIdentity, statusResult, type ValidationResult, validateChain } from './certificates.js';
import type { CipherSuite } from './cipher-suites.js';
import { AlertDescription, CertificateType } from './constants.js';
import { DtlsError } from './errors.js';
import type { FlightItem, HandshakeMessage } from './fragmentation.js';
import {
  decodeCertificateList,
  decodeRawPublicKey,
  encodeCertificateList,
  encodeRawPublicKey,
  encodeUnfragmented,
} from './handshake-messages.js';
import type { HandshakeContext } from './handshake-types.js';
import { deriveKeyBlock, finishedVerifyData } from './key-schedule.js';
import type { LocalCredentials, ResolvedCommon } from './options.js';
import { Transcript } from './transcript.js';
import { CertificateVerdict } from './verdict.js';

/** ECDSA schemes: what a ServerKeyExchange may carry when we sent no signature_algorithms. */
export const ECDSA_SCHEMES = [0x0403, 0x0503, 0x0603];

export interface PeerCredentials {
  chain?: X509Certificate[];
  publicKey: KeyObject;
  rawPublicKeyIdentity?: string;
}

/**
 * State and helpers shared by the client and server handshakes: the transcript, outgoing
 * message numbering, key installation, Finished computation and peer credential checks.
 */
export abstract class HandshakeBase {
  protected transcript = new Transcript(true);
  protected sendSeq: number;
  clientRandom: Buffer | undefined;
  protected serverRandom: Buffer | undefined;
  protected master: Buffer | undefined;

  constructor(
    protected readonly ctx: HandshakeContext,
    protected readonly cfg: ResolvedCommon,
    initialSendSeq: number,
  ) {
    this.sendSeq = initialSendSeq;
  }

  /** An outgoing handshake message, numbered and added to the transcript. */
  protected out(type: number, body: Buffer, epoch = 0): FlightItem {
    const messageSeq = this.sendSeq++;
    this.transcript.add(encodeUnfragmented(type, messageSeq, body));
    return { kind: 'handshake', epoch, type, messageSeq, body };
  }

  /** Adds a received message to the transcript. */
  protected received(msg: HandshakeMessage): void {
    this.transcript.add(encodeUnfragmented(msg.type, msg.messageSeq, msg.body));
  }

  protected unexpected(msg: HandshakeMessage, state: string): never {
    throw new DtlsError(
      'ERR_DTLS_UNEXPECTED_MESSAGE',
      `unexpected handshake message ${msg.type} in state ${state}`,
      AlertDescription.UnexpectedMessage,
    );
  }

  /** Derives the key block and hands the next epoch's ciphers to the record layer. */
  protected installKeys(suite: CipherSuite, role: 'client' | 'server'): void {
    const kb = deriveKeyBlock(suite, this.master!, this.clientRandom!, this.serverRandom!);
    const client = new RecordCipher(suite, kb.clientWriteKey, kb.clientWriteIv);
    const server = new RecordCipher(suite, kb.serverWriteKey, kb.serverWriteIv);
    if (role === 'client') this.ctx.setPendingKeys(server, client);
    else this.ctx.setPendingKeys(client, server);
  }

  protected finishedData(role: 'client' | 'server'): Buffer {
    return finishedVerifyData(this.master!, role, this.transcript.digest());
  }

  /** Our Certificate message body (X.509 chain or raw public key); empty list when we have none. */
  protected certificateBody(local: LocalCredentials | undefined, type: number): Buffer {
    if (!local) return encodeCertificateList([]);
    if (type === CertificateType.RawPublicKey) return encodeRawPublicKey(local.spki);
    return encodeCertificateList(local.chainDer);
  }

  /** Signs `data` with our key (ServerKeyExchange params or CertificateVerify transcript). */
  protected sign(local: LocalCredentials, data: Buffer): Buffer {
    return sign(local.hash, data, local.key);
  }

  protected verifySignature(scheme: number, data: Buffer, key: KeyObject, signature: Buffer, allowed: readonly number[]): void {
    const hash = allowed.includes(scheme) ? hashForScheme(scheme) : undefined;
    if (!hash)
      throw new DtlsError(
        'ERR_DTLS_BAD_SIGNATURE',
        `signature scheme 0x${scheme.toString(16)} not offered`,
        AlertDescription.IllegalParameter,
      );
    let ok = false;
    try {
      ok = verify(hash, data, key, signature);
    } catch {
      ok = false;
    }
    if (!ok) throw new DtlsError('ERR_DTLS_BAD_SIGNATURE', 'signature verification failed', AlertDescription.DecryptError);
  }

  /**
   * Parses and judges the peer's Certificate message. Returns undefined for an empty one.
   * The verdict (validation result, overridable by the application) is final here.
   */
  protected async verifyPeerCertificate(
    body: Buffer,
    type: number,
    purpose: 'server' | 'client',
    options: { ca: readonly X509Certificate[]; host?: string; pinned?: X509Certificate },
  ): Promise<PeerCredentials | undefined> {
    const bad = (what: string, cause?: unknown) =>
      new DtlsError('ERR_DTLS_CERT_REJECTED', `bad ${purpose} certificate: ${what}`, AlertDescription.BadCertificate, { cause });
    let chain: X509Certificate[] = [];
    let publicKey: KeyObject;
    let encoded: Buffer;
    let result: ValidationResult;
    let identity: string | undefined;
    if (type === CertificateType.RawPublicKey) {
      const spki = decodeRawPublicKey(body);
      if (!spki) return undefined;
      try {
        publicKey = createPublicKey({ key: spki, format: 'der', type: 'spki' });
      } catch (err) {
        throw bad('unparseable SubjectPublicKeyInfo', err);
      }
      encoded = Buffer.from(spki);
      identity = rawPublicKeyIdentity(spki);
      result = statusResult(this.cfg.trustedPeerKeys.some((k) => k.equals(spki)) ? 'OK' : 'UNTRUSTED_KEY');
    } else {
      const ders = decodeCertificateList(body);
      if (!ders.length) return undefined;
      try {
        chain = ders.map((d) => new X509Certificate(d));
      } catch (err) {
        throw bad('unparseable X.509', err);
      }
      const leaf = chain[0]!;
      publicKey = leaf.publicKey;
      encoded = Buffer.from(leaf.raw);
      result = options.pinned?.raw.equals(leaf.raw)
        ? statusResult('OK', [leaf])
        : validateChain(chain, { ca: options.ca, purpose, host: options.host, flags: this.cfg.securityFlags });
    }
    const v = new CertificateVerdict(
      this.ctx.peer,
      this.ctx.peerKey,
      encoded,
      chain,
      identity ?? chain[0]!.subject,
      chain[0]?.issuer ?? '',
      result.status,
      result.code,
      publicKey,
      type === CertificateType.RawPublicKey,
    );
    this.ctx.status(`${purpose} ${identity ? 'raw public key' : 'certificate'} ${v.subject.replace(/\n/g, ', ')}: ${result.status}`);
    const accepted = await this.ctx.verdict(v);
    if (!accepted) {
      throw new DtlsError(
        'ERR_DTLS_CERT_REJECTED',
        `${purpose} certificate rejected: ${result.status}`,
        result.ok ? AlertDescription.BadCertificate : result.alert,
      );
    }
    return { chain: chain.length ? chain : undefined, publicKey, rawPublicKeyIdentity: identity };
  }
}
