import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { type CipherSuite, cipherSuiteById, usesEcdhe, usesPsk } from './cipher-suites.js';
import {
  AlertDescription,
  CertificateType,
  ClientCertificateTypeCode,
  ExtensionType,
  HandshakeType,
  type NamedGroupName,
} from './constants.js';
import { DtlsError } from './errors.js';
import { type Extension, ext, findExtension } from './extensions.js';
import type { FlightItem, HandshakeMessage } from './fragmentation.js';
import { ECDSA_SCHEMES, HandshakeBase, type PeerCredentials } from './handshake-common.js';
import {
  type CertificateRequest,
  decodeCertificateRequest,
  decodeFinished,
  decodeHelloVerifyRequest,
  decodeServerHello,
  decodeServerKeyExchange,
  encodeClientHello,
  encodeClientKeyExchange,
  encodeDigitallySigned,
  type ServerKeyExchange,
} from './handshake-messages.js';
import type { Handshake, HandshakeContext, HandshakeResult } from './handshake-types.js';
import { generateEphemeral, groupByCode, groupCode } from './key-exchange.js';
import { deriveMasterSecret, pskPremaster } from './key-schedule.js';
import { type ResolvedClient, toBytes } from './options.js';
import { DTLS_1_0, DTLS_1_2 } from './record-header.js';
import { Transcript } from './transcript.js';

/** What a client remembers about a server to resume its session (RFC 5246 §7.3 abbreviated handshake). */
export interface ClientSessionEntry {
  sessionId: Buffer;
  masterSecret: Buffer;
  suite: CipherSuite;
  extendedMasterSecret: boolean;
  result: HandshakeResult;
}

type State =
  | 'hello'
  | 'certificate'
  | 'server-key-exchange'
  | 'certificate-request'
  | 'hello-done'
  | 'finished'
  | 'resumed-finished'
  | 'done';

const MAX_HELLO_VERIFY = 4;

/** The DTLS 1.2 client handshake state machine (RFC 6347 §4.2, RFC 5246 §7). */
export class ClientHandshake extends HandshakeBase implements Handshake {
  #state: State = 'hello';
  #cookie = Buffer.alloc(0);
  #hvrCount = 0;
  #offeredSessionId: Buffer;
  #suite: CipherSuite | undefined;
  #ems = false;
  #serverCertType: number = CertificateType.X509;
  #clientCertType: number = CertificateType.X509;
  #server: PeerCredentials | undefined;
  #ske: ServerKeyExchange | undefined;
  #certRequest: CertificateRequest | undefined;
  #group: NamedGroupName | undefined;
  #sessionId = Buffer.alloc(0);
  #psk: { identity: Buffer; key: Buffer; hint?: Buffer } | undefined;
  #offeredExtensions = new Set<number>();

  constructor(
    ctx: HandshakeContext,
    private readonly config: ResolvedClient,
    private readonly cached: ClientSessionEntry | undefined,
    private readonly onSession: (entry: ClientSessionEntry) => void,
  ) {
    super(ctx, config, 0);
    this.#offeredSessionId = cached?.sessionId ?? Buffer.alloc(0);
    this.clientRandom = randomBytes(32);
  }

  /** Sends the first ClientHello. */
  start(): void {
    this.#sendHello();
  }

  #sendHello(): void {
    const cfg = this.config;
    const suites = cfg.suites;
    const exts: Extension[] = [];
    const ecc = suites.some(usesEcdhe);
    const ecdsa = suites.some((s) => s.keyExchange === 'ECDHE_ECDSA');
    if (cfg.servername && !isIP(cfg.servername)) exts.push(ext.serverName(cfg.servername));
    if (ecc) {
      exts.push(ext.supportedGroups(cfg.groups.map(groupCode)));
      exts.push(ext.pointFormats());
    }
    if (ecdsa) {
      if (cfg.sendSignatureAlgorithms) exts.push(ext.signatureAlgorithms(cfg.signatureSchemes.filter((c) => (c & 0xff) === 3)));
      const rpk = cfg.local?.rawPublicKey === true;
      const serverTypes: number[] = [];
      if (rpk || cfg.trustedPeerKeys.length) serverTypes.push(CertificateType.RawPublicKey);
      if (!rpk || cfg.ca.length || cfg.acceptServerCert) serverTypes.push(CertificateType.X509);
      if (rpk) exts.push(ext.certTypeList(ExtensionType.ClientCertificateType, [CertificateType.RawPublicKey]));
      if (serverTypes.length !== 1 || serverTypes[0] !== CertificateType.X509) {
        exts.push(ext.certTypeList(ExtensionType.ServerCertificateType, serverTypes));
      }
    }
    if (cfg.ems) exts.push(ext.extendedMasterSecret());
    if (cfg.renegotiationInfo) exts.push(ext.renegotiationInfo());
    this.#offeredExtensions = new Set(exts.map((e) => e.type));
    const body = encodeClientHello({
      version: DTLS_1_2,
      random: this.clientRandom!,
      sessionId: this.#offeredSessionId,
      cookie: this.#cookie,
      cipherSuites: suites.map((s) => s.id),
      compressionMethods: [0],
      extensions: exts,
    });
    this.ctx.status(
      `ClientHello sent${this.#cookie.length ? ' (with cookie)' : ''}${this.#offeredSessionId.length ? ', offering resumption' : ''}`,
    );
    this.ctx.sendFlight([this.out(HandshakeType.ClientHello, body)], false);
  }

  async handle(msg: HandshakeMessage): Promise<void> {
    if (msg.type === HandshakeType.HelloRequest) return; // ignored during a handshake (RFC 5246 §7.4.1.1)
    const needEpoch = msg.type === HandshakeType.Finished ? 1 : 0;
    if (msg.epoch !== needEpoch) this.unexpected(msg, `${this.#state} (epoch ${msg.epoch})`);
    switch (this.#state) {
      case 'hello':
        if (msg.type === HandshakeType.HelloVerifyRequest) return this.#onHelloVerify(msg);
        if (msg.type === HandshakeType.ServerHello) return this.#onServerHello(msg);
        break;
      case 'certificate':
        if (msg.type === HandshakeType.Certificate) return this.#onCertificate(msg);
        break;
      case 'server-key-exchange':
        if (msg.type === HandshakeType.ServerKeyExchange) return this.#onServerKeyExchange(msg);
        if (msg.type === HandshakeType.ServerHelloDone && this.#suite!.keyExchange === 'PSK') return this.#onHelloDone(msg);
        break;
      case 'certificate-request':
        if (msg.type === HandshakeType.CertificateRequest) return this.#onCertificateRequest(msg);
        if (msg.type === HandshakeType.ServerHelloDone) return this.#onHelloDone(msg);
        break;
      case 'hello-done':
        if (msg.type === HandshakeType.ServerHelloDone) return this.#onHelloDone(msg);
        break;
      case 'finished':
      case 'resumed-finished':
        if (msg.type === HandshakeType.Finished) return this.#onFinished(msg);
        break;
    }
    this.unexpected(msg, this.#state);
  }

  #onHelloVerify(msg: HandshakeMessage): void {
    const hvr = decodeHelloVerifyRequest(msg.body);
    if (hvr.version !== DTLS_1_0 && hvr.version !== DTLS_1_2) {
      throw new DtlsError(
        'ERR_DTLS_PROTOCOL_VERSION',
        `HelloVerifyRequest version 0x${hvr.version.toString(16)}`,
        AlertDescription.ProtocolVersion,
      );
    }
    if (++this.#hvrCount > MAX_HELLO_VERIFY) {
      throw new DtlsError('ERR_DTLS_HANDSHAKE_FAILURE', 'too many HelloVerifyRequests', AlertDescription.HandshakeFailure);
    }
    this.ctx.status(`HelloVerifyRequest received (cookie ${hvr.cookie.length} bytes)`);
    this.#cookie = Buffer.from(hvr.cookie);
    this.ctx.resetReplayWindow();
    // RFC 6347 §4.2.6: the first ClientHello and the HelloVerifyRequest are not hashed.
    this.transcript = new Transcript(true);
    this.#sendHello();
  }

  #onServerHello(msg: HandshakeMessage): void {
    const sh = decodeServerHello(msg.body);
    if (sh.version !== DTLS_1_2) {
      throw new DtlsError(
        'ERR_DTLS_PROTOCOL_VERSION',
        `server chose version 0x${sh.version.toString(16)}; only DTLS 1.2 is enabled`,
        AlertDescription.ProtocolVersion,
      );
    }
    const suite = cipherSuiteById(sh.cipherSuite);
    if (!suite || !this.config.suites.includes(suite)) {
      throw new DtlsError(
        'ERR_DTLS_HANDSHAKE_FAILURE',
        `server chose a cipher suite we did not offer (0x${sh.cipherSuite.toString(16)})`,
        AlertDescription.IllegalParameter,
      );
    }
    if (sh.compressionMethod !== 0)
      throw new DtlsError('ERR_DTLS_HANDSHAKE_FAILURE', 'server chose compression', AlertDescription.IllegalParameter);
    for (const e of sh.extensions) {
      if (!this.#offeredExtensions.has(e.type)) {
        throw new DtlsError(
          'ERR_DTLS_HANDSHAKE_FAILURE',
          `server sent extension ${e.type} we did not offer`,
          AlertDescription.UnsupportedExtension,
        );
      }
    }
    const reneg = findExtension(sh.extensions, ExtensionType.RenegotiationInfo);
    if (reneg && !ext.isInitialRenegotiationInfo(reneg)) {
      throw new DtlsError(
        'ERR_DTLS_HANDSHAKE_FAILURE',
        'non-empty renegotiation_info in an initial handshake',
        AlertDescription.HandshakeFailure,
      );
    }
    this.#ems = findExtension(sh.extensions, ExtensionType.ExtendedMasterSecret) !== undefined;
    if (this.config.requireEms && !this.#ems) {
      throw new DtlsError(
        'ERR_DTLS_HANDSHAKE_FAILURE',
        'server does not support the extended master secret',
        AlertDescription.HandshakeFailure,
      );
    }
    const sct = findExtension(sh.extensions, ExtensionType.ServerCertificateType);
    if (sct) this.#serverCertType = ext.parseCertTypeSelected(sct, 'server_certificate_type');
    const cct = findExtension(sh.extensions, ExtensionType.ClientCertificateType);
    if (cct) this.#clientCertType = ext.parseCertTypeSelected(cct, 'client_certificate_type');
    this.serverRandom = Buffer.from(sh.random);
    this.#suite = suite;
    this.received(msg);
    this.ctx.status(`ServerHello received: ${suite.name}`);

    const cached = this.cached;
    if (cached && this.#offeredSessionId.length && sh.sessionId.equals(this.#offeredSessionId)) {
      // Abbreviated handshake: the server resumed our cached session.
      if (suite !== cached.suite)
        throw new DtlsError(
          'ERR_DTLS_HANDSHAKE_FAILURE',
          'resumed session with a different cipher suite',
          AlertDescription.IllegalParameter,
        );
      if (this.#ems !== cached.extendedMasterSecret) {
        // RFC 7627 §5.3: the extension must match the original session's.
        throw new DtlsError(
          'ERR_DTLS_HANDSHAKE_FAILURE',
          'extended master secret mismatch on resumption',
          AlertDescription.HandshakeFailure,
        );
      }
      this.#sessionId = Buffer.from(sh.sessionId);
      this.master = cached.masterSecret;
      this.installKeys(suite, 'client');
      this.ctx.keylog(this.clientRandom!, this.master);
      this.#state = 'resumed-finished';
      return;
    }
    this.#sessionId = Buffer.from(sh.sessionId);
    if (suite.keyExchange === 'ECDHE_ECDSA') this.#state = 'certificate';
    else if (suite.keyExchange === 'PSK') this.#state = 'server-key-exchange';
    else this.#state = 'server-key-exchange';
  }

  async #onCertificate(msg: HandshakeMessage): Promise<void> {
    this.received(msg);
    const cfg = this.config;
    const creds = await this.verifyPeerCertificate(msg.body, this.#serverCertType, 'server', {
      ca: cfg.ca,
      host: cfg.servername,
      pinned: cfg.acceptServerCert,
    });
    if (!creds) throw new DtlsError('ERR_DTLS_CERT_REJECTED', 'server sent no certificate', AlertDescription.HandshakeFailure);
    if (creds.publicKey.asymmetricKeyType !== 'ec') {
      throw new DtlsError(
        'ERR_DTLS_CERT_REJECTED',
        `server key is ${creds.publicKey.asymmetricKeyType}, ECDSA suite needs EC`,
        AlertDescription.UnsupportedCertificate,
      );
    }
    this.#server = creds;
    this.#state = 'server-key-exchange';
  }

  #onServerKeyExchange(msg: HandshakeMessage): void {
    const suite = this.#suite!;
    const ske = decodeServerKeyExchange(suite.keyExchange, msg.body);
    if (ske.ecdh) {
      const g = groupByCode(ske.ecdh.namedCurve);
      if (!g || !this.config.groups.includes(g)) {
        throw new DtlsError(
          'ERR_DTLS_HANDSHAKE_FAILURE',
          `server chose group ${ske.ecdh.namedCurve} we did not offer`,
          AlertDescription.IllegalParameter,
        );
      }
      this.#group = g;
    }
    if (suite.keyExchange === 'ECDHE_ECDSA') {
      const signed = Buffer.concat([this.clientRandom!, this.serverRandom!, ske.ecdh!.raw]);
      this.verifySignature(
        ske.signatureScheme!,
        signed,
        this.#server!.publicKey,
        ske.signature!,
        this.config.sendSignatureAlgorithms ? this.config.signatureSchemes : ECDSA_SCHEMES,
      );
    }
    this.received(msg);
    this.#ske = ske;
    this.#state = suite.keyExchange === 'ECDHE_ECDSA' ? 'certificate-request' : 'hello-done';
  }

  #onCertificateRequest(msg: HandshakeMessage): void {
    this.#certRequest = decodeCertificateRequest(msg.body);
    this.received(msg);
    this.ctx.status('CertificateRequest received');
    this.#state = 'hello-done';
  }

  async #onHelloDone(msg: HandshakeMessage): Promise<void> {
    if (msg.body.length !== 0) throw new DtlsError('ERR_DTLS_DECODE', 'ServerHelloDone must be empty', AlertDescription.DecodeError);
    this.received(msg);
    const suite = this.#suite!;
    const cfg = this.config;
    const items: FlightItem[] = [];

    // Client certificate (only when asked, and only for certificate suites).
    let signWith = undefined as typeof cfg.local;
    let cvScheme = 0;
    if (this.#certRequest) {
      const local = cfg.local;
      const typeOk = local && (this.#clientCertType === CertificateType.RawPublicKey) === local.rawPublicKey;
      const schemeOk = local && this.#certRequest.signatureSchemes.includes(local.scheme);
      const kindOk = this.#certRequest.certificateTypes.includes(ClientCertificateTypeCode.EcdsaSign);
      if (local && typeOk && schemeOk && kindOk) {
        signWith = local;
        cvScheme = local.scheme;
        items.push(this.out(HandshakeType.Certificate, this.certificateBody(local, this.#clientCertType)));
      } else {
        this.ctx.status('no suitable client certificate: sending an empty Certificate');
        items.push(this.out(HandshakeType.Certificate, this.certificateBody(undefined, this.#clientCertType)));
      }
    }

    // Key exchange.
    let premaster: Buffer;
    let identity: Buffer | undefined;
    let publicKey: Buffer | undefined;
    let ecdhSecret: Buffer | undefined;
    if (usesEcdhe(suite)) {
      const eph = generateEphemeral(this.#group!);
      ecdhSecret = eph.computeSecret(this.#ske!.ecdh!.publicKey);
      publicKey = eph.publicKey;
    }
    if (usesPsk(suite)) {
      const hint = this.#ske?.hint?.length ? Buffer.from(this.#ske.hint) : undefined;
      const opt = cfg.psk!;
      const creds = typeof opt === 'function' ? await opt(hint, this.ctx.peer) : opt;
      if (!creds)
        throw new DtlsError(
          'ERR_DTLS_CREDENTIALS',
          `no PSK for identity hint ${hint?.toString() ?? '(none)'}`,
          AlertDescription.HandshakeFailure,
        );
      identity = toBytes(creds.identity);
      const key = toBytes(creds.key);
      this.#psk = { identity, key, hint };
      premaster = pskPremaster(key, ecdhSecret);
    } else {
      premaster = ecdhSecret!;
    }
    items.push(this.out(HandshakeType.ClientKeyExchange, encodeClientKeyExchange(suite.keyExchange, { identity, publicKey })));

    this.master = deriveMasterSecret(premaster, this.clientRandom!, this.serverRandom!, this.#ems ? this.transcript.digest() : undefined);
    this.ctx.keylog(this.clientRandom!, this.master);

    if (signWith) {
      const signature = this.sign(signWith, this.transcript.messages());
      items.push(this.out(HandshakeType.CertificateVerify, encodeDigitallySigned({ scheme: cvScheme, signature })));
    }
    this.transcript.dropMessages();
    this.installKeys(suite, 'client');
    items.push({ kind: 'ccs', epoch: 0 });
    items.push(this.out(HandshakeType.Finished, this.finishedData('client'), 1));
    this.#state = 'finished';
    this.ctx.status('client key exchange, ChangeCipherSpec and Finished sent');
    this.ctx.sendFlight(items, false);
  }

  #onFinished(msg: HandshakeMessage): void {
    const got = decodeFinished(msg.body);
    const expected = this.finishedData('server');
    if (!got.equals(expected))
      throw new DtlsError('ERR_DTLS_BAD_FINISHED', 'server Finished does not verify', AlertDescription.DecryptError);
    this.received(msg);
    const resumed = this.#state === 'resumed-finished';
    if (resumed) {
      const items: FlightItem[] = [{ kind: 'ccs', epoch: 0 }, this.out(HandshakeType.Finished, this.finishedData('client'), 1)];
      this.ctx.sendFlight(items, true);
    }
    this.#state = 'done';
    const suite = this.#suite!;
    const result: HandshakeResult = resumed
      ? { ...this.cached!.result, resumed: true, sessionId: this.#sessionId }
      : {
          suite,
          group: this.#group,
          sessionId: this.#sessionId,
          masterSecret: this.master!,
          extendedMasterSecret: this.#ems,
          resumed: false,
          pskIdentity: this.#psk?.identity,
          pskIdentityHint: this.#psk?.hint,
          pskKeyBits: this.#psk ? this.#psk.key.length * 8 : undefined,
          peerCertificates: this.#server?.chain,
          peerPublicKey: this.#server?.publicKey,
          peerRawPublicKeyIdentity: this.#server?.rawPublicKeyIdentity,
          servername: this.config.servername,
        };
    if (this.#sessionId.length) {
      this.onSession({
        sessionId: this.#sessionId,
        masterSecret: this.master!,
        suite,
        extendedMasterSecret: this.#ems,
        result: { ...result, resumed: false },
      });
    }
    this.ctx.complete(result);
  }
}
