import { EventEmitter } from 'node:events';
import {
  type BlockValue,
  blockSize,
  type CoapOption,
  type CoapScheme,
  ContentFormat,
  checkOptions,
  codeToString,
  type DecodedMessage,
  type DecodedOption,
  decodeBlockOption,
  decodeUint,
  encode,
  encodeBlock,
  encodeUint,
  filterLinks,
  formatLinks,
  MessageType,
  Method,
  OptionNumber,
  ResponseCode,
  suppressesResponse,
  szxFromSize,
} from '@iotwire/coap-message';
import { type CertificateVerdict, DtlsServer } from '@iotwire/dtls';
import { type DatagramEndpoint, type PeerAddress, UdpEndpoint } from '@iotwire/udp';
import type { BlockStore, CachedBody } from './block-store.js';
import { DedupState } from './dedup.js';
import { type CoapDtlsServerOptions, forwardSecurityEvents } from './dtls-transport.js';
import { CoapError, reportError } from './errors.js';
import { MessageLayer, type MessageSink, type MessageStats, type Transmission, type TransmissionOwner, Verdict } from './message-layer.js';
import { nextObserveValue } from './observe-freshness.js';
import { Observer, ObserverRegistry, observerKey, type UnregisterReason } from './observers.js';
import type { PeerState } from './peers.js';
import { recognizer } from './recognized.js';
import { type ExchangeResponder, ExchangeState, IncomingRequest } from './request.js';
import { normalizePath, type RequestHandler, type Resource, type ResourceOptions, ResourceRegistry } from './resources.js';
import { type CoapResponseInit, defaultCode, responseCode, responseOptions, toPayload } from './response-init.js';
import { autoEtag, Block1Assembler, blockKey, newBlock2Cache, sliceBlock } from './server-blocks.js';
import { type Clock, Timer } from './timers.js';
import { tokenKey } from './tokens.js';
import type { TransmissionParameters } from './transmission.js';

export interface CoapServerOptions {
  /**
   * Serve `coaps` (RFC 7252 §9) on a DTLS endpoint the server creates on `host`:`port`:
   * `{ psk: { keys: { identity: key }, lookup, hint } }`, `{ cert, key, requestClientCert,
   * clientCa }` (certificates), `{ key, useRawPublicKey: true, trustedPeerKeys }` (raw public
   * keys), the session table (`maxSessions`, default 10000; `idleTimeoutMs`, default 30 min),
   * and any other `@iotwire/dtls` server setting. Each client gets its own session after a
   * stateless cookie exchange.
   */
  dtls?: CoapDtlsServerOptions;
  /**
   * Your own datagram endpoint to serve on instead: a `UdpEndpoint`, or a `DtlsServer` for
   * `coaps`. When omitted, a UDP endpoint (or, with `dtls`, a DTLS one) is created on `host`:`port`.
   */
  endpoint?: DatagramEndpoint;
  /** Close `endpoint` on `close()`. Default: true for an endpoint the server created, false otherwise. */
  closeEndpoint?: boolean;
  /** Local address (seed `LocalHost`). Default `'0.0.0.0'`; an IPv6 address selects IPv6. */
  host?: string;
  /** Local port (seed `LocalPort`). Default 5683, or 5684 with `dtls`; 0 picks a free port. */
  port?: number;
  /** Share the port with other sockets (seed `ShareLocalPort`). Default false. */
  reuseAddr?: boolean;
  /** Kernel socket buffers (seed `InBufferSize`/`OutBufferSize`). */
  recvBufferSize?: number;
  sendBufferSize?: number;
  /** Scheme used to compose request URIs. Default `'coaps'` over DTLS, else `'coap'`. */
  scheme?: CoapScheme;
  /** Handler for requests no registered resource matches (seed `Request` event). */
  handler?: RequestHandler;
  /** Serve `/.well-known/core` from the registered resources (RFC 6690). Default true. */
  wellKnownCore?: boolean;
  /** Send separate responses and notifications as CON (seed `UseConfirmableMessages`). Default true. */
  confirmable?: boolean;
  /** With `confirmable: false`, still send every Nth notification as CON (RFC 7641 §4.5). Default 5. */
  notifyConEvery?: number;
  /** An async handler not done after this long gets an empty ACK, then a separate response (ms). Default 500. */
  separateResponseDelayMs?: number;
  /** Largest block sent, and the Block1 size asked of clients (16–1024). Default 1024. */
  blockSize?: number;
  /** Largest Block1 body reassembled. Default 1 MiB. */
  maxBodySize?: number;
  /** Concurrent block-wise transfers (each direction) and their bytes. Defaults 1000 and 32 MiB. */
  maxBlockTransfers?: number;
  maxBlockBytes?: number;
  /** Most observers at once. Default 10000. */
  maxObservers?: number;
  /** Most requests answered asynchronously at once; more get 5.03. Default 10000. */
  maxPendingRequests?: number;
  /** Decides observe registrations (seed `Register` with `Accept`). Default: the resource's `observable`. */
  acceptObserver?: (req: IncomingRequest, resource: Resource | undefined) => boolean | Promise<boolean>;
  /** More option numbers to treat as recognised (others that are critical get 4.02). */
  recognizedOptions?: readonly number[];
  /** RFC 7252 §4.8 parameters in seconds. */
  transmission?: Partial<TransmissionParameters>;
  /** Dedup cache entries (EXCHANGE_LIFETIME window, bounded). Default 65536. */
  dedupCapacity?: number;
  /**
   * Bytes that may wait in the send queue of the endpoint the server creates; datagrams beyond
   * it are dropped (counted in `stats.backpressureDrops`). Default 4 MiB. An `endpoint` you pass
   * applies its own limit.
   */
  maxPendingSendBytes?: number;
  /** Most verbose `log` event emitted: 0 none, 1 info (default), 2 verbose, 3 debug (seed `LogLevel`). */
  logLevel?: number;
  clock?: Clock;
  random?: () => number;
}

/** An observer as reported by `register`/`unregistered` (seed `Register`/`Unregistered`). */
export interface ObserverInfo {
  peer: PeerAddress;
  /** Resource path. */
  path: string;
  /** Full URI of the registration, query included. */
  uri: string;
  token: Buffer;
  query: readonly string[];
}

export interface CoapServerEvents {
  /** An observer was registered. */
  register: [info: ObserverInfo];
  /** An observer went away. */
  unregistered: [info: ObserverInfo, reason: UnregisterReason];
  /**
   * A response finished (seed `ResponseComplete`): after the ACK for a CON separate response,
   * at once otherwise; with an error on give-up, RST or cancel. Only emitted when listened to.
   */
  responseComplete: [requestId: number, error: CoapError | undefined];
  /** A datagram was dropped (malformed, undeliverable), for logging. */
  dropped: [reason: string, peer: PeerAddress, error: Error | undefined];
  /** Log lines up to `logLevel` (seed `Log`): 1 info, 2 verbose, 3 debug (one line per request). */
  log: [level: number, message: string];
  error: [error: Error];
  listening: [address: PeerAddress];
  close: [];
  /**
   * Seed `SSLClientAuthentication` (with `dtls` and `requestClientCert`, or raw public keys):
   * a client's certificate or key and its validation result. `verdict.accept` starts as that
   * result; set it to override (or `verdict.waitFor(promise)` to decide asynchronously).
   */
  sslClientAuthentication: [verdict: CertificateVerdict];
  /** Seed `SSLStatus`: DTLS handshake progress per client (and records, with `dtls.logPackets`). */
  sslStatus: [message: string, peer: PeerAddress];
}

/** Server counters: the message layer's plus request-level ones. */
export interface CoapServerStats extends MessageStats {
  requests: number;
  responses: number;
  /** Requests answered 4.02 for an unrecognised critical option. */
  badOptions: number;
  /** Handler errors answered 5.00. */
  handlerErrors: number;
  notifications: number;
  observers: number;
  pendingRequests: number;
  blockTransfers: number;
}

/** Summary of a request waiting for its response (seed `PendingRequests` in server mode). */
export interface PendingServerRequest {
  id: number;
  method: string;
  path: string;
  peer: PeerAddress;
  token: Buffer;
}

const EMPTY = Buffer.alloc(0);

/**
 * A CoAP server (RFC 7252) with observe (RFC 7641), block-wise transfer (RFC 7959, with RFC
 * 9175 Request-Tag), No-Response (RFC 7967) and `/.well-known/core` (RFC 6690), over any
 * datagram endpoint (UDP or DTLS).
 */
export class CoapServer extends EventEmitter<CoapServerEvents> {
  readonly #options: CoapServerOptions;
  /** The endpoint served on: a `UdpEndpoint`, or a `DtlsServer` for `coaps`. */
  readonly endpoint: DatagramEndpoint;
  readonly #ownsEndpoint: boolean;
  /** The UDP transport under a DTLS endpoint the server created (closed after it). */
  readonly #transport: UdpEndpoint | undefined;
  readonly #layer: MessageLayer;
  readonly #resources = new ResourceRegistry();
  readonly #observers = new ObserverRegistry();
  readonly #pending = new Map<number, IncomingRequest>();
  readonly #pathSeq = new Map<string, number>();
  readonly #responder: ExchangeResponder = { respond: (req, init) => this.#respond(req, init) };
  /** Observe registrations the application accepted (seed `Register` with `Accept = true`). */
  readonly #observeAccepted = new WeakSet<IncomingRequest>();
  readonly #block1: Block1Assembler;
  readonly #block2: BlockStore<CachedBody>;
  readonly #szx: number;
  readonly #recognized: (n: number) => boolean;
  readonly #confirmable: boolean;
  readonly #ackDelay: number;
  /** Seed `LogLevel`; settable at run time. */
  logLevel: number;
  #local: { scheme: CoapScheme; host: string; port: number };
  /** Handler for paths no resource matches (seed `Request` event). */
  handler: RequestHandler | undefined;
  #nextId = 1;
  #listening: Promise<PeerAddress> | undefined;
  #closed = false;
  readonly #counters = { requests: 0, responses: 0, badOptions: 0, handlerErrors: 0, notifications: 0 };

  constructor(options: CoapServerOptions = {}) {
    super();
    this.#options = options;
    if (options.dtls !== undefined && options.endpoint !== undefined)
      throw new CoapError('ERR_COAP_STATE', 'pass `dtls` (the server creates the DTLS endpoint) or `endpoint`, not both');
    this.#ownsEndpoint = options.endpoint === undefined;
    const port = options.port ?? (options.dtls !== undefined && options.endpoint === undefined ? 5684 : 5683);
    if (options.endpoint !== undefined) this.endpoint = options.endpoint;
    else {
      const udp = new UdpEndpoint({
        host: options.host ?? '0.0.0.0',
        port,
        reuseAddr: options.reuseAddr ?? false,
        recvBufferSize: options.recvBufferSize,
        sendBufferSize: options.sendBufferSize,
        maxPendingSendBytes: options.maxPendingSendBytes ?? 4 * 1024 * 1024,
      });
      if (options.dtls === undefined) this.endpoint = udp;
      else {
        const dtls = new DtlsServer({ ...options.dtls, endpoint: udp });
        forwardSecurityEvents(dtls, this, 'sslClientAuthentication');
        dtls.on('session', (s) => this.#log(2, `DTLS session with ${peerLabel(s.peer)}: ${s.cipherSuite}${s.resumed ? ' (resumed)' : ''}`));
        dtls.on('handshakeError', (err, peer) => this.#log(1, `DTLS handshake with ${peerLabel(peer)} failed: ${err.message}`));
        this.endpoint = dtls;
        this.#transport = udp;
      }
    }
    if (this.endpoint instanceof DtlsServer) {
      this.endpoint.on('sessionClose', (peer, reason) => this.#onSessionClose(peer, reason));
    }
    this.#layer = new MessageLayer({
      endpoint: this.endpoint,
      transmission: options.transmission,
      dedupCapacity: options.dedupCapacity,
      clock: options.clock,
      random: options.random,
    });
    // The message layer's callbacks and the requests' responder stay off the public surface.
    const sink: MessageSink = {
      onRequest: (msg, peer, slot) => this.#onRequest(msg, peer, slot),
      onResponse: () => Verdict.Reject, // a server sends no requests: any response is unexpected (§4.2)
      onUnmatchedReset: (peer, mid) => this.#onUnmatchedReset(peer, mid),
      onDropped: (reason, peer, error) => this.#onDropped(reason, peer, error),
      onError: (err) => reportError(this, err),
    };
    this.#layer.sink = sink;
    this.#szx = szxFromSize(options.blockSize ?? 1024);
    const lifetimeMs = this.#layer.exchangeLifetimeMs;
    const limits = { maxEntries: options.maxBlockTransfers ?? 1000, maxBytes: options.maxBlockBytes ?? 32 * 1024 * 1024, lifetimeMs };
    this.#block1 = new Block1Assembler(limits, options.maxBodySize ?? 1024 * 1024, this.#szx);
    this.#block2 = newBlock2Cache(limits);
    this.#recognized = recognizer(options.recognizedOptions);
    this.#confirmable = options.confirmable ?? true;
    this.#ackDelay = options.separateResponseDelayMs ?? 500;
    this.#local = {
      scheme: options.scheme ?? (this.endpoint instanceof DtlsServer ? 'coaps' : 'coap'),
      host: options.host ?? '0.0.0.0',
      port,
    };
    this.handler = options.handler;
    this.logLevel = options.logLevel ?? 1;
  }

  #log(level: number, message: string): void {
    if (this.logLevel >= level && this.listenerCount('log') > 0) this.emit('log', level, message);
  }

  // --- lifecycle -----------------------------------------------------------------------------

  /** Binds the endpoint and starts serving (seed `StartListening`). Resolves with the local address. */
  listen(): Promise<PeerAddress> {
    if (this.#closed) return Promise.reject(new CoapError('ERR_COAP_CLOSED', 'server is closed'));
    this.#listening ??= this.endpoint.bind().then(
      (addr) => {
        this.#layer.attach();
        this.#local = { scheme: this.#local.scheme, host: addr.address, port: addr.port };
        this.emit('listening', addr);
        this.#log(1, `listening on ${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}`);
        return addr;
      },
      (err: Error) => {
        this.#listening = undefined;
        throw new CoapError('ERR_COAP_TRANSPORT', `cannot listen: ${err.message}`, { cause: err });
      },
    );
    return this.#listening;
  }

  /** True once `listen()` has bound the endpoint (seed `Listening`). */
  get listening(): boolean {
    return this.endpoint.address() !== undefined && !this.#closed && this.#listening !== undefined;
  }

  /** The bound address, once listening. */
  address(): PeerAddress | undefined {
    return this.endpoint.address();
  }

  /**
   * Stops serving (seed `StopListening`): pending requests are cancelled, observers dropped,
   * retransmissions stopped, and the endpoint closed if the server created it.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const req of [...this.#pending.values()]) this.#cancel(req, new CoapError('ERR_COAP_CLOSED', 'server closed'));
    for (const o of this.#observers.all()) this.#removeObserver(o, 'closed');
    this.#layer.detach();
    this.#block1.store.clear();
    this.#block2.clear();
    if (this.#options.closeEndpoint ?? this.#ownsEndpoint) {
      await this.endpoint.close();
      await this.#transport?.close();
    }
    this.emit('close');
  }

  // --- resources -----------------------------------------------------------------------------

  /** Registers (or replaces) a resource at `path`. */
  resource(path: string, options: ResourceOptions): Resource {
    const existing = this.#resources.get(normalizePath(path));
    if (existing) {
      existing.options = options;
      return existing;
    }
    return this.#resources.add(path, options);
  }

  /** Removes a resource; its observers get 4.04 and are dropped. */
  removeResource(path: string): boolean {
    const r = this.#resources.remove(path);
    if (r === undefined) return false;
    if (this.#observers.countFor(r.path) > 0) this.notify(r.path, { code: ResponseCode.NotFound });
    return true;
  }

  getResource(path: string): Resource | undefined {
    return this.#resources.get(normalizePath(path));
  }

  get resources(): Resource[] {
    return [...this.#resources.all()];
  }

  // --- state ---------------------------------------------------------------------------------

  get stats(): CoapServerStats {
    const l = this.#layer.stats;
    l.dedupEvicted = this.#layer.dedup.evicted;
    return {
      ...l,
      ...this.#counters,
      observers: this.#observers.size,
      pendingRequests: this.#pending.size,
      blockTransfers: this.#block1.store.size + this.#block2.size,
    };
  }

  /** Requests whose response has not been sent yet (deferred or still being handled). */
  get pendingRequests(): PendingServerRequest[] {
    return [...this.#pending.values()].map((r) => ({ id: r.id, method: r.method, path: r.path, peer: r.peer, token: r.token }));
  }

  /** Registered observers. */
  get observers(): ObserverInfo[] {
    return this.#observers.all().map((o) => this.#observerInfo(o));
  }

  /** The Message ID the next outgoing message will use (seed config `MessageId`). */
  get nextMessageId(): number {
    return this.#layer.nextMessageId;
  }

  set nextMessageId(v: number) {
    this.#layer.nextMessageId = v;
  }

  /** Sends the response to a pending request (seed `SendResponse(RequestId)`). Throws 706 for an unknown id. */
  sendResponse(id: number, response?: CoapResponseInit): void {
    const req = this.#pending.get(id);
    if (req === undefined) throw new CoapError('ERR_COAP_UNKNOWN_REQUEST', `no pending request ${id}`);
    this.#respond(req, response);
  }

  /** Drops a pending request without answering (seed `CancelRequest`). Throws 706 for an unknown id. */
  cancelRequest(id: number): void {
    const req = this.#pending.get(id);
    if (req === undefined) throw new CoapError('ERR_COAP_UNKNOWN_REQUEST', `no pending request ${id}`);
    this.#cancel(req, new CoapError('ERR_COAP_CANCELLED', `request ${id} cancelled`));
  }

  // --- message sink --------------------------------------------------------------------------

  #onDropped(reason: string, peer: PeerAddress, error?: Error): void {
    if (this.listenerCount('dropped') > 0) this.emit('dropped', reason, peer, error);
    this.#log(2, `dropped datagram from ${peer.address}:${peer.port}: ${reason}${error ? ` (${error.message})` : ''}`);
  }

  /**
   * A DTLS session ended (close_notify, idle expiry, eviction, a new handshake...): its
   * observers can no longer be notified on it (RFC 7252 §9.1.1), so they go now rather than at
   * the next notification.
   */
  #onSessionClose(address: PeerAddress, reason: string): void {
    const current = (this.endpoint as DtlsServer).securityContextOf(address);
    for (const state of this.#layer.peers.forAddress(address.address, address.port)) {
      if (state.context === undefined || state.context === current) continue;
      for (const o of this.#observers.ofPeer(state)) this.#removeObserver(o, 'session-changed');
    }
    this.#log(2, `DTLS session with ${peerLabel(address)} ended (${reason})`);
  }

  #onUnmatchedReset(peer: PeerState, messageId: number): void {
    for (const o of this.#observers.ofPeer(peer)) if (o.lastMessageId === messageId) this.#removeObserver(o, 'reset');
  }

  #onRequest(msg: DecodedMessage, peer: PeerState, slot: number): void {
    this.#counters.requests++;
    const check = checkOptions(msg.options, this.#recognized);
    const options = check.options as DecodedOption[];
    const req = new IncomingRequest(this.#nextId++, msg, options, peer, slot, pathOf(options), this.#responder, this.#local);
    if (check.badCritical !== undefined) {
      this.#counters.badOptions++;
      this.#send(req, ResponseCode.BadOption, [], Buffer.from(`Unrecognized critical option ${check.badCritical}`));
      return;
    }
    if (req.option(OptionNumber.ProxyUri) !== undefined || req.option(OptionNumber.ProxyScheme) !== undefined) {
      // This server is an origin server, not a forward proxy (RFC 7252 §5.7.2).
      this.#send(req, ResponseCode.ProxyingNotSupported, [], Buffer.from('Proxying Not Supported'));
      return;
    }
    // One pass over the options numbered 23 and up (Block2, Block1, Size1, No-Response, Request-Tag).
    let block1: DecodedOption | undefined;
    let size1: number | undefined;
    for (let i = options.length - 1; i >= 0; i--) {
      const o = options[i] as DecodedOption;
      const n = o.number;
      if (n < OptionNumber.Block2) break;
      if (n === OptionNumber.Block2) {
        try {
          req.block2 = decodeBlockOption(o.value);
        } catch {
          this.#send(req, ResponseCode.BadRequest, [], Buffer.from('invalid Block2 option'));
          return;
        }
      } else if (n === OptionNumber.Block1) block1 = o;
      else if (n === OptionNumber.Size1) size1 = decodeUint(o.value);
      else if (n === OptionNumber.NoResponse) req.noResponse = decodeUint(o.value);
    }
    if (block1 !== undefined && !this.#block1In(req, block1, size1)) return;
    if (req.block2 !== undefined && req.block2.num > 0) {
      if (this.#serveCachedBlock(req)) return;
      // Only a safe method may be run again to re-render a later block (RFC 7959 §2.4).
      if (req.code !== Method.GET && req.code !== Method.FETCH) {
        this.#send(req, ResponseCode.RequestEntityIncomplete, [], Buffer.from('block-wise response expired'));
        return;
      }
    }
    this.#dispatch(req);
  }

  /** Feeds a Block1 block; returns true when the body is complete and the request should go on. */
  #block1In(req: IncomingRequest, block1: DecodedOption, size1: number | undefined): boolean {
    const key = blockKey(req.peerState, req.code, req.options);
    const r = this.#block1.feed(key, block1.value, req.payload, size1, this.#layer.clock.now());
    if (r.kind === 'complete') {
      req.payload = r.body;
      req.block1 = r.block;
      return true;
    }
    if (r.kind === 'continue') {
      this.#send(req, ResponseCode.Continue, [{ number: OptionNumber.Block1, value: encodeUint(encodeBlock(r.block)) }], EMPTY);
    } else {
      const opts: CoapOption[] = r.size1 === undefined ? [] : [{ number: OptionNumber.Size1, value: encodeUint(r.size1) }];
      this.#send(req, r.code, opts, Buffer.from(r.message));
    }
    return false;
  }

  /** Serves block `num > 0` of a representation cached by an earlier block; false if none is cached. */
  #serveCachedBlock(req: IncomingRequest): boolean {
    const cached = this.#block2.get(blockKey(req.peerState, req.code, req.options), this.#layer.clock.now());
    if (cached === undefined) return false;
    const b = req.block2 as BlockValue;
    const slice = sliceBlock(cached.body, b.num, b.szx, cached.options);
    if (slice === undefined) this.#send(req, ResponseCode.BadOption, [], Buffer.from('block out of range'));
    else this.#send(req, cached.code, slice.options, slice.payload);
    return true;
  }

  #dispatch(req: IncomingRequest): void {
    const resource = this.#resources.get(req.path);
    let handler: RequestHandler | undefined;
    if (resource !== undefined) {
      handler = resource.handlerFor(req.code);
      if (handler === undefined) {
        this.#send(req, ResponseCode.MethodNotAllowed, [], Buffer.from('Method Not Allowed'));
        return;
      }
    } else if (req.path === '/.well-known/core' && req.code === Method.GET && this.#options.wellKnownCore !== false) {
      handler = this.#wellKnownCore;
    } else {
      handler = this.handler;
      if (handler === undefined) {
        this.#send(req, ResponseCode.NotFound, [], Buffer.from('Not Found'));
        return;
      }
    }
    req.handledBy = handler;
    req.resourcePath = resource?.path ?? req.path;
    if (req.observe === 0 && (req.code === Method.GET || req.code === Method.FETCH)) {
      const hook = this.#options.acceptObserver;
      const accept = hook === undefined ? resource?.observable === true : hook(req, resource);
      if (typeof accept !== 'boolean') {
        this.#track(req);
        accept.then(
          (ok) => {
            if (req.state !== ExchangeState.Open) return;
            if (ok) this.#observeAccepted.add(req);
            this.#run(req, handler);
          },
          (err: Error) => this.#handlerFailed(req, err),
        );
        return;
      }
      if (accept) this.#observeAccepted.add(req);
    }
    this.#run(req, handler);
  }

  #run(req: IncomingRequest, handler: RequestHandler): void {
    let result: ReturnType<RequestHandler>;
    try {
      result = handler(req);
    } catch (err) {
      this.#handlerFailed(req, err as Error);
      return;
    }
    if (result !== undefined && result !== null && typeof (result as Promise<unknown>).then === 'function') {
      this.#track(req);
      (result as Promise<CoapResponseInit | undefined | void>).then(
        (res) => {
          if (req.state !== ExchangeState.Open) return;
          if (res === undefined && req.deferredFlag) {
            this.#ackNow(req);
            return;
          }
          this.#respondSafely(req, res ?? undefined);
        },
        (err: Error) => this.#handlerFailed(req, err),
      );
      return;
    }
    if (req.deferredFlag && result === undefined) {
      this.#track(req);
      this.#ackNow(req);
      return;
    }
    this.#respondSafely(req, (result as CoapResponseInit | undefined) ?? undefined);
  }

  /** A handler's return value that cannot be sent (bad code, bad option) becomes 5.00. */
  #respondSafely(req: IncomingRequest, init: CoapResponseInit | undefined): void {
    try {
      this.#respond(req, init);
    } catch (err) {
      this.#handlerFailed(req, err as Error);
    }
  }

  #handlerFailed(req: IncomingRequest, err: Error): void {
    this.#counters.handlerErrors++;
    reportError(this, err);
    if (req.state === ExchangeState.Open) this.#send(req, ResponseCode.InternalServerError, [], EMPTY);
  }

  /** Puts a request on the pending list and arms the empty-ACK timer for a CON. */
  #track(req: IncomingRequest): void {
    if (this.#pending.has(req.id)) return;
    if (this.#pending.size >= (this.#options.maxPendingRequests ?? 10_000)) {
      this.#send(req, ResponseCode.ServiceUnavailable, [], Buffer.from('too many pending requests'));
      return;
    }
    this.#pending.set(req.id, req);
    if (req.type === 'CON' && !req.acked) {
      req.timer = new Timer(() => this.#ackNow(req));
      this.#layer.timers.schedule(req.timer, this.#ackDelay);
    }
  }

  /** Sends the empty ACK of a separate response (RFC 7252 §5.2.2). */
  #ackNow(req: IncomingRequest): void {
    if (req.timer !== undefined) this.#layer.timers.cancel(req.timer);
    if (req.type !== 'CON' || req.acked || req.state !== ExchangeState.Open) return;
    const dedup = this.#layer.dedup;
    if (dedup.holds(req.slot, req.peerState, req.messageId) && dedup.state(req.slot) === DedupState.EmptyAck) {
      req.acked = true; // a duplicate already got one
      return;
    }
    req.acked = true;
    if (dedup.holds(req.slot, req.peerState, req.messageId)) dedup.setState(req.slot, DedupState.EmptyAck);
    this.#layer.sendEmpty(req.peer, MessageType.ACK, req.messageId);
  }

  #cancel(req: IncomingRequest, error: CoapError): void {
    req.state = ExchangeState.Cancelled;
    if (req.timer !== undefined) this.#layer.timers.cancel(req.timer);
    this.#pending.delete(req.id);
    if (this.listenerCount('responseComplete') > 0) this.emit('responseComplete', req.id, error);
  }

  readonly #wellKnownCore: RequestHandler = (req) => {
    const links = this.#resources.links();
    let filtered = links;
    for (const q of req.query) filtered = filterLinks(filtered, q);
    return { code: ResponseCode.Content, contentFormat: ContentFormat.LinkFormat, payload: formatLinks(filtered) };
  };

  // --- responding ----------------------------------------------------------------------------

  /** Answers a request with `init` (used by handlers' return values, `req.respond` and `sendResponse`). */
  #respond(req: IncomingRequest, init: CoapResponseInit | undefined): void {
    if (req.state !== ExchangeState.Open) throw new CoapError('ERR_COAP_STATE', `request ${req.id} was already answered or cancelled`);
    let code: number;
    let options: CoapOption[];
    let payload: Buffer;
    if (init === undefined) {
      code = defaultCode(req.code);
      options = [];
      payload = EMPTY;
    } else {
      code = responseCode(init.code, defaultCode(req.code));
      options =
        init.options === undefined &&
        init.contentFormat === undefined &&
        init.etag === undefined &&
        init.maxAge === undefined &&
        init.locationPath === undefined &&
        init.locationQuery === undefined
          ? []
          : responseOptions(init);
      payload = toPayload(init.payload);
    }
    const success = code >> 5 === 2;
    if (req.observe !== undefined && (req.code === Method.GET || req.code === Method.FETCH)) {
      const seq = this.#observe(req, success);
      if (seq !== undefined) options.push({ number: OptionNumber.Observe, value: encodeUint(seq) });
    }
    if (req.block1 !== undefined)
      options.push({ number: OptionNumber.Block1, value: encodeUint(encodeBlock({ ...req.block1, more: false })) });
    const szx = req.block2 === undefined ? this.#szx : Math.min(this.#szx, req.block2.szx);
    if (payload.length > blockSize(szx) || (req.block2 !== undefined && req.block2.num > 0)) {
      this.#respondBlockwise(req, code, options, payload, szx, init);
      return;
    }
    this.#send(req, code, options, payload, init?.type);
  }

  #respondBlockwise(
    req: IncomingRequest,
    code: number,
    options: CoapOption[],
    body: Buffer,
    szx: number,
    init: CoapResponseInit | undefined,
  ): void {
    let base = options;
    if (init?.etag === undefined && !base.some((o) => o.number === OptionNumber.ETag)) {
      base = [...base, { number: OptionNumber.ETag, value: autoEtag(body) }];
    }
    const etag = (base.find((o) => o.number === OptionNumber.ETag) as CoapOption).value;
    // Blocks after the first are fetched without Observe (RFC 7959 §3.4).
    const cachedOptions = base.filter((o) => o.number !== OptionNumber.Observe);
    this.#block2.set(
      blockKey(req.peerState, req.code, req.options),
      { code, body: Buffer.from(body), options: cachedOptions, etag, lastActive: 0 },
      this.#layer.clock.now(),
    );
    const num = req.block2?.num ?? 0;
    const slice = sliceBlock(body, num, szx, base);
    if (slice === undefined) this.#send(req, ResponseCode.BadOption, [], Buffer.from('block out of range'));
    else this.#send(req, code, slice.options, slice.payload, init?.type);
  }

  /** Low-level: sends the response message for `req` (piggybacked, separate or NON). */
  #send(req: IncomingRequest, code: number, options: CoapOption[], payload: Buffer, type?: 'CON' | 'NON'): void {
    if (req.state !== ExchangeState.Open) return;
    req.state = ExchangeState.Done;
    if (req.timer !== undefined) this.#layer.timers.cancel(req.timer);
    this.#pending.delete(req.id);
    this.#counters.responses++;
    if (this.logLevel >= 3) this.#log(3, `${req.peerState.label} ${req.type} ${req.method} ${req.path} → ${codeToString(code)}`);
    const layer = this.#layer;
    const dedup = layer.dedup;
    const held = dedup.holds(req.slot, req.peerState, req.messageId);
    if (req.noResponse !== undefined && suppressesResponse(req.noResponse, code)) {
      // RFC 7967: no response, but a CON still needs its ACK.
      if (req.type === 'CON' && !req.acked) {
        const ack = layer.sendEmpty(req.peer, MessageType.ACK, req.messageId);
        if (held) dedup.setReply(req.slot, ack);
      }
      this.#completed(req.id, undefined);
      return;
    }
    if (req.type === 'CON' && !req.acked && !(held && dedup.state(req.slot) === DedupState.EmptyAck)) {
      const data = encode({ type: MessageType.ACK, code, messageId: req.messageId, token: req.token, options, payload });
      layer.send(req.peer, data);
      if (held) dedup.setReply(req.slot, data);
      this.#completed(req.id, undefined);
      return;
    }
    const confirmable = type === undefined ? req.type === 'CON' && this.#confirmable : type === 'CON';
    const mid = layer.allocateMessageId();
    const data = encode({
      type: confirmable ? MessageType.CON : MessageType.NON,
      code,
      messageId: mid,
      token: req.token,
      options,
      payload,
    });
    if (held && req.type === 'NON') dedup.setState(req.slot, DedupState.Silent);
    if (!confirmable) {
      layer.send(req.peer, data);
      this.#completed(req.id, undefined);
      return;
    }
    const id = req.id;
    const owner: TransmissionOwner = {
      onAcknowledged: () => this.#completed(id, undefined),
      onReset: () => this.#completed(id, new CoapError('ERR_COAP_RESET', `client reset the response to request ${id}`)),
      onTimeout: () => this.#completed(id, new CoapError('ERR_COAP_TIMEOUT', `response to request ${id} was never acknowledged`)),
    };
    layer.sendConfirmable(req.peerState, mid, data, owner);
  }

  #completed(id: number, error: CoapError | undefined): void {
    if (this.listenerCount('responseComplete') > 0) this.emit('responseComplete', id, error);
  }

  // --- observe -------------------------------------------------------------------------------

  /** Registers or deregisters for `req`; returns the Observe value to put in the response, if any. */
  #observe(req: IncomingRequest, success: boolean): number | undefined {
    const key = observerKey(req.peerState, tokenKey(req.token));
    const existing = this.#observers.get(key);
    if (req.observe !== 0 || !success || !this.#observeAccepted.has(req)) {
      // Deregistration (Observe 1), a declined registration or an error response: the entry goes (RFC 7641 §4.1).
      if (existing !== undefined) this.#removeObserver(existing, req.observe === 1 ? 'deregistered' : 'replaced');
      return undefined;
    }
    if (existing !== undefined) this.#removeObserver(existing, 'replaced', false);
    else if (this.#observers.size >= (this.#options.maxObservers ?? 10_000)) return undefined;
    const path = req.resourcePath ?? req.path;
    const o = new Observer(key, req.peerState, Buffer.from(req.token), path, req, this.#layer.clock.now());
    this.#layer.peers.retain(req.peerState);
    this.#observers.add(o);
    if (existing === undefined) {
      this.emit('register', this.#observerInfo(o));
      this.#log(1, `${o.peer.label} observes ${path}`);
    }
    return this.#seqOf(path);
  }

  #seqOf(path: string): number {
    const r = this.#resources.get(path);
    if (r !== undefined) return r.observeSeq;
    return this.#pathSeq.get(path) ?? 2;
  }

  #bumpSeq(path: string): number {
    const r = this.#resources.get(path);
    if (r !== undefined) {
      r.observeSeq = nextObserveValue(r.observeSeq);
      return r.observeSeq;
    }
    const v = nextObserveValue(this.#pathSeq.get(path) ?? 2);
    this.#pathSeq.set(path, v);
    return v;
  }

  #observerInfo(o: Observer): ObserverInfo {
    return { peer: o.peer.address, path: o.path, uri: o.request.uri, token: o.token, query: o.request.query };
  }

  #removeObserver(o: Observer, reason: UnregisterReason, announce = true): void {
    if (!this.#observers.delete(o)) return;
    if (o.inflight !== undefined && reason !== 'error-response') this.#layer.cancelTransmission(o.inflight);
    o.inflight = undefined;
    this.#layer.peers.release(o.peer);
    if (announce) {
      this.emit('unregistered', this.#observerInfo(o), reason);
      this.#log(1, `${o.peer.label} stopped observing ${o.path} (${reason})`);
    }
    if (this.#observers.countFor(o.path) === 0) this.#pathSeq.delete(o.path);
  }

  /** Number of observers of a path. */
  observerCount(path: string): number {
    return this.#observers.countFor(normalizePath(path));
  }

  /**
   * Notifies every observer of `path` (seed `SendNotification`). With `response`, that is sent
   * to all; without, the handler that served each registration renders the current state for
   * it. A non-2.xx response ends the observations. Returns the number of observers notified.
   */
  notify(path: string, response?: CoapResponseInit): number {
    const p = normalizePath(path);
    const observers = this.#observers.ofPath(p);
    if (observers.length === 0) return 0;
    const seq = this.#bumpSeq(p);
    const sessionOf = (this.endpoint as { securityContextOf?: (peer: PeerAddress) => unknown }).securityContextOf;
    for (const o of observers) {
      if (sessionOf !== undefined && sessionOf.call(this.endpoint, o.peer.address) !== o.peer.context) {
        this.#removeObserver(o, 'session-changed');
        continue;
      }
      if (response !== undefined) {
        this.#notifyOne(o, response, seq);
        continue;
      }
      const handler = o.request.handledBy as RequestHandler;
      let result: ReturnType<RequestHandler>;
      try {
        result = handler(o.request);
      } catch (err) {
        reportError(this, err as Error);
        this.#notifyOne(o, { code: ResponseCode.InternalServerError }, seq);
        continue;
      }
      if (result !== undefined && result !== null && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<CoapResponseInit | undefined | void>).then(
          (r) => this.#notifyOne(o, r ?? {}, seq),
          (err: Error) => {
            reportError(this, err);
            this.#notifyOne(o, { code: ResponseCode.InternalServerError }, seq);
          },
        );
      } else this.#notifyOne(o, (result as CoapResponseInit | undefined) ?? {}, seq);
    }
    return observers.length;
  }

  #notifyOne(o: Observer, init: CoapResponseInit, seq: number): void {
    if (this.#observers.get(o.key) !== o) return; // removed meanwhile
    let code: number;
    let options: CoapOption[];
    try {
      code = responseCode(init.code, ResponseCode.Content);
      options = responseOptions(init);
    } catch (err) {
      reportError(this, err as Error);
      return;
    }
    let payload = toPayload(init.payload);
    const success = code >> 5 === 2;
    if (success) options.push({ number: OptionNumber.Observe, value: encodeUint(seq) });
    const szx = o.request.block2 === undefined ? this.#szx : Math.min(this.#szx, o.request.block2.szx);
    if (payload.length > blockSize(szx)) {
      if (!options.some((x) => x.number === OptionNumber.ETag)) options.push({ number: OptionNumber.ETag, value: autoEtag(payload) });
      const cached = options.filter((x) => x.number !== OptionNumber.Observe);
      const etag = (options.find((x) => x.number === OptionNumber.ETag) as CoapOption).value;
      this.#block2.set(
        blockKey(o.peer, Method.GET, o.request.options),
        { code, body: Buffer.from(payload), options: cached, etag, lastActive: 0 },
        this.#layer.clock.now(),
      );
      const slice = sliceBlock(payload, 0, szx, options) as { options: CoapOption[]; payload: Buffer };
      options = slice.options;
      payload = slice.payload;
    }
    const layer = this.#layer;
    const now = layer.clock.now();
    const every = this.#options.notifyConEvery ?? 5;
    // RFC 7641 §4.5: at least one CON notification every 24 hours, even in NON mode.
    const con =
      init.type === 'CON' ||
      (init.type === undefined && (this.#confirmable || o.sinceCon + 1 >= every || now - o.lastConAt >= 86_400_000)) ||
      !success;
    const mid = layer.allocateMessageId();
    const data = encode({ type: con ? MessageType.CON : MessageType.NON, code, messageId: mid, token: o.token, options, payload });
    this.#counters.notifications++;
    if (con) {
      o.sinceCon = 0;
      o.lastConAt = now;
      if (o.inflight !== undefined && !o.inflight.done) layer.replaceTransmission(o.inflight, mid, data);
      else o.inflight = layer.sendConfirmable(o.peer, mid, data, this.#observerOwner(o));
    } else {
      o.sinceCon++;
      o.lastMessageId = mid;
      layer.send(o.peer.address, data);
    }
    if (!success) this.#removeObserver(o, 'error-response');
  }

  #observerOwner(o: Observer): TransmissionOwner {
    return {
      onAcknowledged: (tx: Transmission) => {
        if (o.inflight === tx) o.inflight = undefined;
      },
      onReset: () => this.#removeObserver(o, 'reset'),
      onTimeout: () => this.#removeObserver(o, 'timeout'),
    };
  }
}

/** The routing path of a request from its Uri-Path options (see `joinPath`). */
function pathOf(options: readonly DecodedOption[]): string {
  let path = '';
  for (let i = 0; i < options.length; i++) {
    const o = options[i] as DecodedOption;
    if (o.number < OptionNumber.UriPath) continue;
    if (o.number > OptionNumber.UriPath) break;
    let s = o.value.toString('utf8');
    if (s.includes('/') || s.includes('%')) s = s.replace(/%/g, '%25').replace(/\//g, '%2F');
    path += `/${s}`;
  }
  return path === '' ? '/' : path;
}

function peerLabel(p: PeerAddress): string {
  return p.family === 'IPv6' ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`;
}
