import { randomBytes } from 'node:crypto';
import { type CipherSuite, cipherSuiteById, usesEcdhe, usesPsk } from './cipher-suites.js';
import {
  AlertDescription,
  CertificateType,
  ClientCertificateTypeCode,
  ExtensionType,
  HandshakeType,
  type NamedGroupName,
  TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
} from './constants.js';
import { DtlsError } from './errors.js';
import { type Extension, ext, findExtension } from './extensions.js';
import type { FlightItem, HandshakeMessage } from './fragmentation.js';
import { HandshakeBase, type PeerCredentials } from './handshake-common.js';
import {
  type ClientHello,
  decodeClientHello,
  decodeClientKeyExchange,
  decodeDigitallySigned,
  decodeFinished,
  encodeCertificateRequest,
  encodeEcdhParams,
  encodeServerHello,
  encodeServerKeyExchange,
} from './handshake-messages.js';
import type { Handshake, HandshakeContext, HandshakeResult } from './handshake-types.js';
import { type EphemeralKey, generateEphemeral, groupCode } from './key-exchange.js';
import { deriveMasterSecret, pskPremaster } from './key-schedule.js';
import type { LruCache } from './lru.js';
import type { ResolvedServer } from './options.js';
import { DTLS_1_2 } from './record-header.js';

/** What the server caches per session id for resumption. */
export interface ServerSessionEntry {
  masterSecret: Buffer;
  suite: CipherSuite;
  extendedMasterSecret: boolean;
  result: HandshakeResult;
}

type State = 'hello' | 'client-certificate' | 'client-key-exchange' | 'certificate-verify' | 'finished' | 'resumed-finished' | 'done';

/** The DTLS 1.2 server handshake state machine; runs only after the cookie exchange succeeded. */
export class ServerHandshake extends HandshakeBase implements Handshake {
  #state: State = 'hello';
  #suite: CipherSuite | undefined;
  #group: NamedGroupName | undefined;
  #ems = false;
  #ephemeral: EphemeralKey | undefined;
  #clientCertType: number = CertificateType.X509;
  #client: PeerCredentials | undefined;
  #sessionId = Buffer.alloc(0);
  #servername: string | undefined;
  #psk: { identity: Buffer; bits: number } | undefined;
  #resumedFrom: ServerSessionEntry | undefined;

  constructor(
    ctx: HandshakeContext,
    private readonly config: ResolvedServer,
    private readonly cache: LruCache<ServerSessionEntry> | undefined,
    /** message_seq of the ClientHello that passed the cookie check; our ServerHello reuses it. */
    initialSendSeq: number,
  ) {
    super(ctx, config, initialSendSeq);
  }

  async handle(msg: HandshakeMessage): Promise<void> {
    const needEpoch = msg.type === HandshakeType.Finished ? 1 : 0;
    if (msg.epoch !== needEpoch) this.unexpected(msg, `${this.#state} (epoch ${msg.epoch})`);
    switch (this.#state) {
      case 'hello':
        if (msg.type === HandshakeType.ClientHello) return this.#onClientHello(msg);
        break;
      case 'client-certificate':
        if (msg.type === HandshakeType.Certificate) return this.#onClientCertificate(msg);
        break;
      case 'client-key-exchange':
        if (msg.type === HandshakeType.ClientKeyExchange) return this.#onClientKeyExchange(msg);
        break;
      case 'certificate-verify':
        if (msg.type === HandshakeType.CertificateVerify) return this.#onCertificateVerify(msg);
        break;
      case 'finished':
      case 'resumed-finished':
        if (msg.type === HandshakeType.Finished) return this.#onFinished(msg);
        break;
    }
    this.unexpected(msg, this.#state);
  }

  #onClientHello(msg: HandshakeMessage): void {
    const cfg = this.config;
    const ch = decodeClientHello(msg.body);
    this.clientRandom = Buffer.from(ch.random);
    // DTLS versions count down: 0xFEFD (1.2) < 0xFEFF (1.0). A client_version above 0xFEFD cannot do 1.2.
    if (ch.version > DTLS_1_2) {
      throw new DtlsError(
        'ERR_DTLS_PROTOCOL_VERSION',
        `client offers only version 0x${ch.version.toString(16)}`,
        AlertDescription.ProtocolVersion,
      );
    }
    if (!ch.compressionMethods.includes(0))
      throw new DtlsError('ERR_DTLS_HANDSHAKE_FAILURE', 'client offers no null compression', AlertDescription.IllegalParameter);
    this.received(msg);

    const e = ch.extensions;
    const renegExt = findExtension(e, ExtensionType.RenegotiationInfo);
    if (renegExt && !ext.isInitialRenegotiationInfo(renegExt)) {
      throw new DtlsError(
        'ERR_DTLS_HANDSHAKE_FAILURE',
        'non-empty renegotiation_info in an initial handshake',
        AlertDescription.HandshakeFailure,
      );
    }
    const secureReneg = renegExt !== undefined || ch.cipherSuites.includes(TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
    const offeredEms = findExtension(e, ExtensionType.ExtendedMasterSecret) !== undefined;
    if (cfg.requireEms && !offeredEms) {
      throw new DtlsError(
        'ERR_DTLS_HANDSHAKE_FAILURE',
        'client does not offer the extended master secret',
        AlertDescription.HandshakeFailure,
      );
    }
    this.#ems = cfg.ems && offeredEms;
    const sni = findExtension(e, ExtensionType.ServerName);
    if (sni) this.#servername = ext.parseServerName(sni);

    const sessionKey = ch.sessionId.length ? ch.sessionId.toString('hex') : undefined;
    const cached = sessionKey ? this.cache?.get(sessionKey) : undefined;
    // RFC 7627 §5.3: resume only when the extended master secret status matches the original.
    if (
      cached &&
      ch.cipherSuites.includes(cached.suite.id) &&
      cfg.suites.includes(cached.suite) &&
      cached.extendedMasterSecret === this.#ems
    ) {
      this.#resume(ch, cached, secureReneg);
      return;
    }
    this.#fullHandshake(ch, secureReneg);
  }

  #helloExtensions(ch: ClientHello, secureReneg: boolean): Extension[] {
    const out: Extension[] = [];
    if (secureReneg && this.config.renegotiationInfo) out.push(ext.renegotiationInfo());
    if (this.#ems) out.push(ext.extendedMasterSecret());
    if (this.#suite && usesEcdhe(this.#suite) && findExtension(ch.extensions, ExtensionType.EcPointFormats)) out.push(ext.pointFormats());
    return out;
  }

  #resume(ch: ClientHello, cached: ServerSessionEntry, secureReneg: boolean): void {
    this.#resumedFrom = cached;
    this.#suite = cached.suite;
    this.#sessionId = Buffer.from(ch.sessionId);
    this.serverRandom = randomBytes(32);
    this.master = cached.masterSecret;
    const sh = encodeServerHello({
      version: DTLS_1_2,
      random: this.serverRandom,
      sessionId: this.#sessionId,
      cipherSuite: cached.suite.id,
      compressionMethod: 0,
      extensions: this.#helloExtensions(ch, secureReneg),
    });
    const items: FlightItem[] = [this.out(HandshakeType.ServerHello, sh)];
    this.installKeys(cached.suite, 'server');
    this.ctx.keylog(this.clientRandom!, this.master);
    items.push({ kind: 'ccs', epoch: 0 });
    items.push(this.out(HandshakeType.Finished, this.finishedData('server'), 1));
    this.#state = 'resumed-finished';
    this.ctx.status(`resuming session ${this.#sessionId.toString('hex').slice(0, 16)}…: ServerHello, ChangeCipherSpec, Finished sent`);
    this.ctx.sendFlight(items, false);
  }

  #fullHandshake(ch: ClientHello, secureReneg: boolean): void {
    const cfg = this.config;
    const e = ch.extensions;
    const groupsExt = findExtension(e, ExtensionType.SupportedGroups);
    // RFC 8422 §4: without the extension the client supports any curve; P-256 is our default.
    const clientGroups = groupsExt ? ext.parseSupportedGroups(groupsExt) : [groupCode('secp256r1')];
    const group = cfg.groups.find((g) => clientGroups.includes(groupCode(g)));
    const pfExt = findExtension(e, ExtensionType.EcPointFormats);
    const uncompressedOk = !pfExt || ext.parsePointFormats(pfExt).includes(0);
    const sigExt = findExtension(e, ExtensionType.SignatureAlgorithms);
    // Lenient without the extension: RFC 5246 would imply SHA-1, which we never sign with.
    const sigOk = !!cfg.local && (!sigExt || ext.parseSignatureAlgorithms(sigExt).includes(cfg.local.scheme));
    const sctExt = findExtension(e, ExtensionType.ServerCertificateType);
    const serverTypes = sctExt ? ext.parseCertTypeList(sctExt, 'server_certificate_type') : [CertificateType.X509];
    const ourType = cfg.local?.rawPublicKey ? CertificateType.RawPublicKey : CertificateType.X509;
    const certTypeOk = serverTypes.includes(ourType);
    // RFC 8422 §5.1: the client's supported_groups also bounds the curve of our ECDSA key.
    const keyCurveOk = !!cfg.local && (!groupsExt || clientGroups.includes(cfg.local.curveGroup));

    const feasible = (s: CipherSuite): boolean => {
      if (!ch.cipherSuites.includes(s.id)) return false;
      if (usesPsk(s) && !cfg.psk) return false;
      if (usesEcdhe(s) && (!group || !uncompressedOk)) return false;
      if (s.keyExchange === 'ECDHE_ECDSA' && !(cfg.local && sigOk && certTypeOk && keyCurveOk)) return false;
      return true;
    };
    const suite = cfg.suites.find(feasible);
    if (!suite) {
      const why =
        ch.cipherSuites.some((id) => cipherSuiteById(id)?.keyExchange === 'ECDHE_ECDSA') && cfg.local && !certTypeOk
          ? ' (no common certificate type)'
          : '';
      throw new DtlsError(
        'ERR_DTLS_NO_SHARED_CIPHER',
        `no shared cipher suite${why}`,
        why ? AlertDescription.UnsupportedCertificate : AlertDescription.HandshakeFailure,
      );
    }
    this.#suite = suite;
    if (usesEcdhe(suite)) this.#group = group;
    this.serverRandom = randomBytes(32);
    this.#sessionId = this.cache ? randomBytes(32) : Buffer.alloc(0);

    const exts = this.#helloExtensions(ch, secureReneg);
    const requestCert = cfg.requestClientCert && suite.keyExchange === 'ECDHE_ECDSA';
    if (suite.keyExchange === 'ECDHE_ECDSA' && sctExt) exts.push(ext.certTypeSelected(ExtensionType.ServerCertificateType, ourType));
    const cctExt = findExtension(e, ExtensionType.ClientCertificateType);
    if (requestCert && cctExt) {
      const offered = ext.parseCertTypeList(cctExt, 'client_certificate_type');
      const pick = offered.find((t) => t === CertificateType.X509 || t === CertificateType.RawPublicKey);
      if (pick === undefined) {
        throw new DtlsError('ERR_DTLS_HANDSHAKE_FAILURE', 'no common client certificate type', AlertDescription.UnsupportedCertificate);
      }
      this.#clientCertType = pick;
      exts.push(ext.certTypeSelected(ExtensionType.ClientCertificateType, pick));
    }

    const items: FlightItem[] = [];
    items.push(
      this.out(
        HandshakeType.ServerHello,
        encodeServerHello({
          version: DTLS_1_2,
          random: this.serverRandom,
          sessionId: this.#sessionId,
          cipherSuite: suite.id,
          compressionMethod: 0,
          extensions: exts,
        }),
      ),
    );
    if (suite.keyExchange === 'ECDHE_ECDSA') items.push(this.out(HandshakeType.Certificate, this.certificateBody(cfg.local, ourType)));
    if (usesEcdhe(suite)) {
      this.#ephemeral = generateEphemeral(group!);
      const raw = encodeEcdhParams(groupCode(group!), this.#ephemeral.publicKey);
      const ecdh = { namedCurve: groupCode(group!), publicKey: this.#ephemeral.publicKey, raw };
      if (suite.keyExchange === 'ECDHE_ECDSA') {
        const local = cfg.local!;
        const signature = this.sign(local, Buffer.concat([this.clientRandom!, this.serverRandom, raw]));
        items.push(
          this.out(
            HandshakeType.ServerKeyExchange,
            encodeServerKeyExchange('ECDHE_ECDSA', { ecdh, signatureScheme: local.scheme, signature }),
          ),
        );
      } else {
        items.push(this.out(HandshakeType.ServerKeyExchange, encodeServerKeyExchange('ECDHE_PSK', { hint: cfg.psk?.hint, ecdh })));
      }
    } else if (cfg.psk?.hint?.length) {
      // RFC 4279 §2: without a hint the ServerKeyExchange is omitted.
      items.push(this.out(HandshakeType.ServerKeyExchange, encodeServerKeyExchange('PSK', { hint: cfg.psk.hint })));
    }
    if (requestCert) {
      items.push(
        this.out(
          HandshakeType.CertificateRequest,
          encodeCertificateRequest({
            certificateTypes: [ClientCertificateTypeCode.EcdsaSign, ClientCertificateTypeCode.RsaSign],
            signatureSchemes: cfg.signatureSchemes,
            authorities: [],
          }),
        ),
      );
    }
    items.push(this.out(HandshakeType.ServerHelloDone, Buffer.alloc(0)));
    this.#state = requestCert ? 'client-certificate' : 'client-key-exchange';
    this.ctx.status(`ClientHello accepted: ${suite.name}${group && usesEcdhe(suite) ? ` on ${group}` : ''}; server flight sent`);
    this.ctx.sendFlight(items, false);
  }

  async #onClientCertificate(msg: HandshakeMessage): Promise<void> {
    this.received(msg);
    const creds = await this.verifyPeerCertificate(msg.body, this.#clientCertType, 'client', { ca: this.config.clientCa });
    if (!creds && this.config.requireClientCert) {
      throw new DtlsError('ERR_DTLS_CERT_REJECTED', 'client sent no certificate', AlertDescription.HandshakeFailure);
    }
    this.#client = creds;
    this.#state = 'client-key-exchange';
  }

  async #onClientKeyExchange(msg: HandshakeMessage): Promise<void> {
    const suite = this.#suite!;
    const cke = decodeClientKeyExchange(suite.keyExchange, msg.body);
    let ecdhSecret: Buffer | undefined;
    if (usesEcdhe(suite)) ecdhSecret = this.#ephemeral!.computeSecret(cke.publicKey!);
    let premaster: Buffer;
    if (usesPsk(suite)) {
      const identity = Buffer.from(cke.identity!);
      const found = await this.config.psk!.lookup(identity, this.ctx.peer);
      if (found === undefined) {
        throw new DtlsError(
          'ERR_DTLS_UNKNOWN_PSK_IDENTITY',
          `unknown PSK identity ${JSON.stringify(identity.toString('utf8'))}`,
          AlertDescription.UnknownPskIdentity,
        );
      }
      const key = typeof found === 'string' ? Buffer.from(found, 'utf8') : Buffer.from(found);
      this.#psk = { identity, bits: key.length * 8 };
      premaster = pskPremaster(key, ecdhSecret);
    } else {
      premaster = ecdhSecret!;
    }
    this.received(msg);
    this.master = deriveMasterSecret(premaster, this.clientRandom!, this.serverRandom!, this.#ems ? this.transcript.digest() : undefined);
    this.ctx.keylog(this.clientRandom!, this.master);
    this.installKeys(suite, 'server');
    if (this.#client) {
      this.#state = 'certificate-verify';
    } else {
      this.transcript.dropMessages();
      this.#state = 'finished';
    }
  }

  #onCertificateVerify(msg: HandshakeMessage): void {
    const cv = decodeDigitallySigned(msg.body);
    this.verifySignature(cv.scheme, this.transcript.messages(), this.#client!.publicKey, cv.signature, this.config.signatureSchemes);
    this.transcript.dropMessages();
    this.received(msg);
    this.#state = 'finished';
  }

  #onFinished(msg: HandshakeMessage): void {
    const got = decodeFinished(msg.body);
    if (!got.equals(this.finishedData('client')))
      throw new DtlsError('ERR_DTLS_BAD_FINISHED', 'client Finished does not verify', AlertDescription.DecryptError);
    this.received(msg);
    const resumed = this.#state === 'resumed-finished';
    this.#state = 'done';
    if (resumed) {
      this.ctx.complete({
        ...this.#resumedFrom!.result,
        resumed: true,
        servername: this.#servername ?? this.#resumedFrom!.result.servername,
      });
      return;
    }
    this.ctx.sendFlight([{ kind: 'ccs', epoch: 0 }, this.out(HandshakeType.Finished, this.finishedData('server'), 1)], true);
    const suite = this.#suite!;
    const result: HandshakeResult = {
      suite,
      group: this.#group,
      sessionId: this.#sessionId,
      masterSecret: this.master!,
      extendedMasterSecret: this.#ems,
      resumed: false,
      pskIdentity: this.#psk?.identity,
      pskIdentityHint: this.config.psk?.hint,
      pskKeyBits: this.#psk?.bits,
      peerCertificates: this.#client?.chain,
      peerPublicKey: this.#client?.publicKey,
      peerRawPublicKeyIdentity: this.#client?.rawPublicKeyIdentity,
      servername: this.#servername,
    };
    if (this.cache && this.#sessionId.length) {
      this.cache.set(this.#sessionId.toString('hex'), { masterSecret: this.master!, suite, extendedMasterSecret: this.#ems, result });
    }
    this.ctx.complete(result);
  }
}
