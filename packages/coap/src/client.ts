import { lookup as dnsLookup } from 'node:dns/promises';
import { EventEmitter } from 'node:events';
import {
  type BlockValue,
  blockSize,
  CoapMessageError,
  type CoapOption,
  type CoapUri,
  checkOptions,
  type DecodedMessage,
  type DecodedOption,
  decodeBlockOption,
  decodeUint,
  emptyOption,
  encode,
  encodeBlock,
  encodeEmpty,
  encodeUint,
  formatUri,
  type Link,
  MessageType,
  Method,
  type MethodName,
  normalizeResponseCode,
  OptionNumber,
  parseLinks,
  parseUri,
  ResponseCode,
  szxFromSize,
  uriToOptions,
} from '@iotwire/coap-message';
import { type CertificateVerdict, DtlsClient, type DtlsSessionInfo } from '@iotwire/dtls';
import { type DatagramEndpoint, type PeerAddress, UdpEndpoint } from '@iotwire/udp';
import { type CoapDtlsClientOptions, createDtlsClient, ensureSession, forwardSecurityEvents } from './dtls-transport.js';
import { CoapError, reportError } from './errors.js';
import { MessageLayer, type MessageSink, type MessageStats, type Transmission, type TransmissionOwner, Verdict } from './message-layer.js';
import { type Notification, type NotificationHandler, Observation } from './observation.js';
import { isNewerNotification } from './observe-freshness.js';
import { type PeerState, UNBOUND_CONTEXT } from './peers.js';
import { recognizer } from './recognized.js';
import { CoapResponse } from './response.js';
import { contentFormatOption, toPayload } from './response-init.js';
import { type Clock, Timer } from './timers.js';
import { TokenSource, tokenKey } from './tokens.js';
import type { TransmissionParameters } from './transmission.js';

export interface CoapClientOptions {
  /** Endpoint for `coap://` requests. Default: UDP endpoints created on demand (IPv4 and IPv6). */
  endpoint?: DatagramEndpoint;
  /**
   * DTLS for `coaps://` (RFC 7252 §9; default port 5684): `{ psk: { identity, key } }`,
   * `{ ca, cert, key }` (certificates), `{ key, useRawPublicKey: true, trustedPeerKeys }` (raw
   * public keys), plus any other `@iotwire/dtls` client setting. The client opens a DTLS
   * endpoint per address family on first use and one session per server, reused by every
   * request (and resumed from the session cache after it ends). Without `dtls` or
   * `secureEndpoint`, `coaps://` requests fail with `ERR_COAP_NO_TRANSPORT`.
   */
  dtls?: CoapDtlsClientOptions;
  /** Your own endpoint for `coaps://` requests instead of `dtls`: e.g. a `DtlsClient` you configured. */
  secureEndpoint?: DatagramEndpoint;
  /** Close `endpoint`/`secureEndpoint` on `close()`. Default false (the client closes only what it created). */
  closeEndpoints?: boolean;
  /** Local address of created UDP endpoints (seed `LocalHost`). Default all interfaces. */
  bindAddress?: string;
  /** Local port of the created IPv4 endpoint (seed `LocalPort`). Default 0 (ephemeral). */
  port?: number;
  /** Resolve host names to IPv6 first (seed `UseIPv6`). Default false. */
  ipv6?: boolean;
  /** Send requests as CON (seed `UseConfirmableMessages`). Default true. */
  confirmable?: boolean;
  /** Overall time a request may take, ms (seed `Timeout`). 0 = only the RFC's exchange lifetime. Default 60000. */
  timeoutMs?: number;
  /** Token length 0–8 (seed `UseEmptyToken` = 0, which serialises requests per server). Default 6. */
  tokenLength?: number;
  /** Most requests in flight per server (RFC 7252 NSTART). Default unlimited (1 with empty tokens). */
  maxConcurrentPerPeer?: number;
  /** Block size for Block1 uploads (16–1024). Default 1024. */
  blockSize?: number;
  /** Largest Block2 body reassembled, bytes. Default 8 MiB. */
  maxBodySize?: number;
  /** Most requests pending at once. Default 10000. */
  maxPendingRequests?: number;
  /** RFC 7252 §4.8 parameters in seconds. */
  transmission?: Partial<TransmissionParameters>;
  /** Host name resolution (default `dns.lookup`). */
  lookup?: (host: string, family: 4 | 6 | 0) => Promise<{ address: string; family: 4 | 6 }>;
  /** Most verbose `log` event emitted: 0 none, 1 info (default), 2 verbose, 3 debug (seed `LogLevel`). */
  logLevel?: number;
  clock?: Clock;
  random?: () => number;
}

/** Per-request settings (seed `Request*` fields, per exchange). */
export interface RequestOptions {
  /** CON (default: the client's `confirmable`) or NON. */
  confirmable?: boolean;
  /** Overall timeout, ms (default: the client's `timeoutMs`). */
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Content-Format of the payload (seed `RequestContentFormat`; undefined = omitted). */
  contentFormat?: number;
  /** Accept option. */
  accept?: number;
  /** ETag(s) the client holds (seed `RequestETag`); several are allowed. */
  etag?: Uint8Array | readonly Uint8Array[];
  ifMatch?: readonly Uint8Array[];
  ifNoneMatch?: boolean;
  /** More options (seed `RequestOptions`); options the client derives itself take precedence. */
  options?: readonly CoapOption[];
  /** Block size for this request's Block1 upload and Block2 early negotiation. */
  blockSize?: number;
  /** Use this token instead of a random one. */
  token?: Uint8Array;
}

/** A request: method, URI, payload and options. */
export interface RequestInit extends RequestOptions {
  /** `'GET'`... or any method code 1–31 (seed `SendCustomRequest`). */
  method: MethodName | number;
  uri: string;
  payload?: string | Uint8Array;
}

/** Summary of an outstanding request (seed `PendingRequests`). */
export interface PendingClientRequest {
  id: number;
  method: number;
  uri: string;
  token: Buffer;
  peer: PeerAddress;
}

export interface RequestCompleteInfo {
  id: number;
  method: number;
  uri: string;
  response: CoapResponse | undefined;
  error: CoapError | undefined;
}

export interface CoapClientEvents {
  /** A request ended (seed `RequestComplete`); emitted only when listened to. */
  requestComplete: [info: RequestCompleteInfo];
  /** Log lines up to `logLevel` (seed `Log`): 1 info, 2 verbose, 3 debug. */
  log: [level: number, message: string];
  error: [error: Error];
  /**
   * Seed `SSLServerAuthentication` (`coaps://` with `dtls`): the server's certificate or raw
   * public key and its validation result. `verdict.accept` starts as that result; set it to
   * override (or `verdict.waitFor(promise)` to decide asynchronously).
   */
  sslServerAuthentication: [verdict: CertificateVerdict];
  /** Seed `SSLStatus`: DTLS handshake progress (and records, with `dtls.logPackets`). */
  sslStatus: [message: string, peer: PeerAddress];
}

const METHOD_CODES: Record<string, number> = Method;
const EMPTY = Buffer.alloc(0);

/** Options the client derives itself; user options with these numbers are dropped. */
const DERIVED = new Set<number>([
  OptionNumber.UriHost,
  OptionNumber.UriPort,
  OptionNumber.UriPath,
  OptionNumber.UriQuery,
  OptionNumber.Observe,
  OptionNumber.Block1,
  OptionNumber.Block2,
  OptionNumber.Size1,
]);

interface Binding extends MessageSink {
  layer: MessageLayer;
  endpoint: DatagramEndpoint;
  exchanges: Map<number | string, Exchange>;
  /** Removes the client's listeners from the endpoint. */
  detach?: () => void;
}

/** One logical request: all its Block1/Block2 round trips and, for observe, the registration. */
class Exchange implements TransmissionOwner {
  readonly id: number;
  key: number | string = 0;
  tx: Transmission | undefined;
  mid = -1;
  deadline: Timer | undefined;
  settled = false;
  started = false;
  /** Block1: next block number and size exponent while uploading. */
  b1num = -1;
  b1szx = 6;
  /** Block2: chunks received so far, and the byte offset reached (from `b2base` on). */
  b2chunks: Buffer[] | undefined;
  b2received = 0;
  b2base = 0;
  b2next = 0;
  b2szx = 6;
  b2etag: Buffer | undefined;
  observe: number | undefined;
  observation: Observation | undefined;
  onNotification: NotificationHandler | undefined;
  latest: { v: number; t: number } | undefined;
  deregistering: { resolve: () => void } | undefined;
  resolve!: (r: CoapResponse | Observation) => void;
  reject!: (e: CoapError) => void;
  abortListener: (() => void) | undefined;

  constructor(
    /** Ends the exchange with an error (the client's private `fail`). */
    readonly fail: (ex: Exchange, error: CoapError) => void,
    id: number,
    readonly binding: Binding,
    public peer: PeerState,
    readonly method: number,
    readonly uri: string,
    readonly token: Buffer,
    readonly baseOptions: CoapOption[],
    readonly payload: Buffer,
    readonly confirmable: boolean,
    readonly timeoutMs: number,
    readonly signal: AbortSignal | undefined,
  ) {
    this.id = id;
  }

  onAcknowledged(): void {
    // Empty ACK: the response follows separately (RFC 7252 §5.2.2); keep waiting.
  }

  onReset(): void {
    this.fail(this, new CoapError('ERR_COAP_RESET', `${this.uri}: the server rejected the request with RST`));
  }

  onTimeout(): void {
    this.fail(
      this,
      new CoapError(
        'ERR_COAP_TIMEOUT',
        `${this.uri}: no acknowledgement after ${this.binding.layer.params.maxRetransmit + 1} transmissions`,
      ),
    );
  }
}

/**
 * A CoAP client (RFC 7252): requests with Promises, CON retransmission, separate responses,
 * observe (RFC 7641), block-wise transfer in both directions (RFC 7959), ping and discovery,
 * over UDP or (with `secureEndpoint`) DTLS.
 */
export class CoapClient extends EventEmitter<CoapClientEvents> {
  readonly #options: CoapClientOptions;
  readonly #bindings = new Map<DatagramEndpoint, Binding>();
  readonly #created: DatagramEndpoint[] = [];
  readonly #byId = new Map<number, Exchange>();
  readonly #tokens: TokenSource;
  readonly #active = new Map<PeerState, number>();
  readonly #queued = new Map<PeerState, Exchange[]>();
  readonly #perPeer: number;
  readonly #recognized = recognizer(undefined);
  #nextId = 1;
  #closed = false;
  #presetMid: number | undefined;
  #udp4: Promise<Binding> | undefined;
  #udp6: Promise<Binding> | undefined;
  #dtls4: DtlsClient | undefined;
  #dtls6: DtlsClient | undefined;

  constructor(options: CoapClientOptions = {}) {
    super();
    if (options.dtls !== undefined && options.secureEndpoint !== undefined)
      throw new CoapError('ERR_COAP_STATE', 'pass `dtls` (the client creates its DTLS endpoints) or `secureEndpoint`, not both');
    this.#options = options;
    this.#tokens = new TokenSource(options.tokenLength ?? 6);
    this.#perPeer = options.maxConcurrentPerPeer ?? (this.#tokens.length === 0 ? 1 : Number.POSITIVE_INFINITY);
  }

  // --- public API ----------------------------------------------------------------------------

  get(uri: string, options?: RequestOptions): Promise<CoapResponse> {
    return this.request({ ...options, method: 'GET', uri });
  }

  post(uri: string, payload?: string | Uint8Array, options?: RequestOptions): Promise<CoapResponse> {
    return this.request({ ...options, method: 'POST', uri, payload });
  }

  put(uri: string, payload?: string | Uint8Array, options?: RequestOptions): Promise<CoapResponse> {
    return this.request({ ...options, method: 'PUT', uri, payload });
  }

  delete(uri: string, options?: RequestOptions): Promise<CoapResponse> {
    return this.request({ ...options, method: 'DELETE', uri });
  }

  fetch(uri: string, payload?: string | Uint8Array, options?: RequestOptions): Promise<CoapResponse> {
    return this.request({ ...options, method: 'FETCH', uri, payload });
  }

  patch(uri: string, payload?: string | Uint8Array, options?: RequestOptions): Promise<CoapResponse> {
    return this.request({ ...options, method: 'PATCH', uri, payload });
  }

  ipatch(uri: string, payload?: string | Uint8Array, options?: RequestOptions): Promise<CoapResponse> {
    return this.request({ ...options, method: 'iPATCH', uri, payload });
  }

  /**
   * Sends a request and resolves with the response, 4.xx/5.xx included (check `ok`). Rejects
   * with a `CoapError` on timeout (704), RST (705), cancel (711), a bad URI (700) or a
   * block-wise failure (702).
   */
  request(init: RequestInit): Promise<CoapResponse> {
    return this.#begin(init, undefined, undefined) as Promise<CoapResponse>;
  }

  /**
   * Registers an observation (seed `StartObserving`): GET with Observe = 0. Resolves after the
   * first response with an {@link Observation}; `onNotification` gets every notification,
   * the accepted first response included. If the server declines, `accepted` is false.
   */
  observe(uri: string, onNotification: NotificationHandler, options?: RequestOptions): Promise<Observation> {
    return this.#begin({ ...options, method: 'GET', uri }, 0, onNotification) as Promise<Observation>;
  }

  /** Cancels every active observation of `uri` (seed `StopObserving(URI)`). */
  async stopObserving(uri: string): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const ex of this.#byId.values()) if (ex.observation?.active && ex.uri === uri) jobs.push(ex.observation.cancel());
    await Promise.all(jobs);
  }

  /** CoAP ping (empty CON, answered by RST; RFC 7252 §4.3). Resolves with the round-trip time in ms. */
  async ping(uri: string, options: { timeoutMs?: number } = {}): Promise<number> {
    const { binding, peer } = await this.#target(this.#parse(uri), options.timeoutMs, undefined);
    const layer = binding.layer;
    const started = layer.clock.now();
    layer.peers.retain(peer);
    return new Promise<number>((resolve, reject) => {
      const deadline = new Timer(() => {
        layer.cancelTransmission(tx);
        done();
        reject(new CoapError('ERR_COAP_TIMEOUT', `${uri}: no answer to ping`));
      });
      const done = () => {
        layer.timers.cancel(deadline);
        layer.peers.release(peer);
      };
      const owner: TransmissionOwner = {
        onAcknowledged: () => {
          done();
          resolve(layer.clock.now() - started);
        },
        onReset: () => {
          done();
          resolve(layer.clock.now() - started);
        },
        onTimeout: () => {
          done();
          reject(new CoapError('ERR_COAP_TIMEOUT', `${uri}: no answer to ping`));
        },
      };
      const mid = layer.allocateMessageId();
      const tx = layer.sendConfirmable(peer, mid, encodeEmpty(MessageType.CON, mid), owner);
      if (options.timeoutMs !== undefined && options.timeoutMs > 0) layer.timers.schedule(deadline, options.timeoutMs);
    });
  }

  /** GET `/.well-known/core` and parse it (RFC 6690). `uri` may be just `coap://host`. */
  async discover(uri: string, options?: RequestOptions): Promise<Link[]> {
    const u = this.#parse(uri);
    if (u.path.length === 0) u.path = ['.well-known', 'core'];
    const res = await this.get(formatUri(u), options);
    if (!res.ok) throw new CoapError('ERR_COAP_ERROR_RESPONSE', `${uri}: discovery answered ${res.code}`);
    return parseLinks(res.text());
  }

  /** Outstanding requests and active observations (seed `PendingRequests`). */
  get pendingRequests(): PendingClientRequest[] {
    return [...this.#byId.values()].map((e) => ({ id: e.id, method: e.method, uri: e.uri, token: e.token, peer: e.peer.address }));
  }

  /** Cancels a pending request (seed `CancelRequest`): it rejects with 711. Throws 706 for an unknown id. */
  cancel(id: number): void {
    const ex = this.#byId.get(id);
    if (ex === undefined) throw new CoapError('ERR_COAP_UNKNOWN_REQUEST', `no pending request ${id}`);
    this.#fail(ex, new CoapError('ERR_COAP_CANCELLED', `request ${id} cancelled`));
  }

  /**
   * The Message ID the next request will use (seed `MessageId`), from the first endpoint in
   * use; `undefined` before any request. Setting it applies to every endpoint, present and future.
   */
  get nextMessageId(): number | undefined {
    const first = this.#bindings.values().next().value as Binding | undefined;
    return first?.layer.nextMessageId ?? this.#presetMid;
  }

  set nextMessageId(v: number) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`message ID must be 0–65535, got ${v}`);
    this.#presetMid = v;
    for (const b of this.#bindings.values()) b.layer.nextMessageId = v;
  }

  /**
   * The established DTLS sessions of the endpoints `dtls` created (seed `SSLNegotiated*`, per
   * server): cipher suite, key exchange, peer certificates or raw key, PSK identity, resumption.
   */
  dtlsSessions(): DtlsSessionInfo[] {
    return [this.#dtls4, this.#dtls6].flatMap((e) => e?.sessions() ?? []);
  }

  /** Message-layer counters summed over the client's endpoints. */
  get stats(): MessageStats {
    const sum: Record<string, number> = {};
    for (const b of this.#bindings.values()) {
      b.layer.stats.dedupEvicted = b.layer.dedup.evicted;
      for (const [k, v] of Object.entries(b.layer.stats)) sum[k] = (sum[k] ?? 0) + v;
    }
    return sum as unknown as MessageStats;
  }

  /** Rejects everything pending with `ERR_COAP_CLOSED` and releases the endpoints it created. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const ex of [...this.#byId.values()]) this.#fail(ex, new CoapError('ERR_COAP_CLOSED', 'client closed'));
    for (const b of this.#bindings.values()) {
      b.layer.detach();
      b.detach?.();
    }
    const toClose = new Set<DatagramEndpoint>(this.#created);
    if (this.#options.closeEndpoints) {
      if (this.#options.endpoint) toClose.add(this.#options.endpoint);
      if (this.#options.secureEndpoint) toClose.add(this.#options.secureEndpoint);
    }
    await Promise.all([...toClose].map((e) => e.close()));
  }

  // --- setting up an exchange ----------------------------------------------------------------

  #parse(uri: string): CoapUri {
    try {
      return parseUri(uri);
    } catch (err) {
      throw new CoapError('ERR_COAP_URI', (err as Error).message, { cause: err });
    }
  }

  #bind(endpoint: DatagramEndpoint): Promise<Binding> {
    const existing = this.#bindings.get(endpoint);
    if (existing) return Promise.resolve(existing);
    const o = this.#options;
    const layer = new MessageLayer({ endpoint, transmission: o.transmission, clock: o.clock, random: o.random, dedupCapacity: 4096 });
    const binding: Binding = {
      layer,
      endpoint,
      exchanges: new Map(),
      onResponse: (msg, peer, piggybacked) => this.#onResponse(binding, msg, peer, piggybacked),
      onDropped: () => {},
      onError: (err) => reportError(this, err),
    };
    layer.sink = binding;
    if (this.#presetMid !== undefined) layer.nextMessageId = this.#presetMid;
    this.#bindings.set(endpoint, binding);
    if (endpoint instanceof DtlsClient) {
      const onClose = (peer: PeerAddress, reason: string) => this.#onSessionClose(endpoint, peer, reason);
      endpoint.on('sessionClose', onClose);
      binding.detach = () => endpoint.off('sessionClose', onClose);
    }
    return endpoint.bind().then(
      () => {
        layer.attach();
        return binding;
      },
      (err: Error) => {
        this.#bindings.delete(endpoint);
        throw new CoapError('ERR_COAP_TRANSPORT', `cannot bind the client endpoint: ${err.message}`, { cause: err });
      },
    );
  }

  #udpBinding(family: 'IPv4' | 'IPv6'): Promise<Binding> {
    const o = this.#options;
    if (o.endpoint) return this.#bind(o.endpoint);
    const make = (host: string, port: number) => {
      const e = new UdpEndpoint({ host, port });
      this.#created.push(e);
      return this.#bind(e);
    };
    if (family === 'IPv6') {
      this.#udp6 ??= make(o.bindAddress?.includes(':') ? o.bindAddress : '::', 0);
      return this.#udp6;
    }
    this.#udp4 ??= make(o.bindAddress && !o.bindAddress.includes(':') ? o.bindAddress : '0.0.0.0', o.port ?? 0);
    return this.#udp4;
  }

  /** The DTLS endpoint for `coaps://` to an address of `family`: `secureEndpoint`, or one made from `dtls`. */
  #secureEndpoint(family: 'IPv4' | 'IPv6'): DatagramEndpoint {
    const o = this.#options;
    if (o.secureEndpoint !== undefined) return o.secureEndpoint;
    if (o.dtls === undefined)
      throw new CoapError(
        'ERR_COAP_NO_TRANSPORT',
        'coaps:// needs DTLS settings: pass `dtls` (e.g. { psk: { identity, key } } or { ca }) or a `secureEndpoint`',
      );
    const v6 = family === 'IPv6';
    let e = v6 ? this.#dtls6 : this.#dtls4;
    if (e === undefined) {
      const host = v6
        ? o.bindAddress?.includes(':')
          ? o.bindAddress
          : '::'
        : o.bindAddress && !o.bindAddress.includes(':')
          ? o.bindAddress
          : '0.0.0.0';
      e = createDtlsClient(o.dtls, host);
      forwardSecurityEvents(e, this, 'sslServerAuthentication');
      this.#created.push(e);
      if (v6) this.#dtls6 = e;
      else this.#dtls4 = e;
    }
    return e;
  }

  /**
   * A DTLS session ended: exchanges and observations bound to it can never be answered (a
   * response must arrive on the session and epoch its request went out on, RFC 7252 §9.1.1).
   */
  #onSessionClose(endpoint: DtlsClient, address: PeerAddress, reason: string): void {
    const binding = this.#bindings.get(endpoint);
    if (binding === undefined) return;
    const current = endpoint.securityContextOf(address);
    for (const ex of [...binding.exchanges.values()]) {
      const ctx = ex.peer.context;
      if (ex.peer.address.address !== address.address || ex.peer.address.port !== address.port) continue;
      if (ctx === undefined || ctx === UNBOUND_CONTEXT || ctx === current) continue;
      this.#fail(ex, new CoapError('ERR_COAP_DTLS', `${ex.uri}: the DTLS session ended (${reason})`));
    }
  }

  async #target(
    u: CoapUri,
    timeoutMs: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ binding: Binding; peer: PeerState; address: PeerAddress }> {
    if (this.#closed) throw new CoapError('ERR_COAP_CLOSED', 'client is closed');
    let host = u.host;
    let family: 'IPv4' | 'IPv6' = host.includes(':') ? 'IPv6' : 'IPv4';
    if (!u.hostIsIp) {
      try {
        const r = await (
          this.#options.lookup ??
          ((h: string, f: 0 | 4 | 6) =>
            dnsLookup(h, { family: f, order: this.#options.ipv6 ? 'ipv6first' : 'ipv4first' }) as Promise<{
              address: string;
              family: 4 | 6;
            }>)
        )(host, 0);
        host = r.address;
        family = r.family === 6 ? 'IPv6' : 'IPv4';
      } catch (err) {
        throw new CoapError('ERR_COAP_DNS', `cannot resolve ${u.host}: ${(err as Error).message}`, { cause: err });
      }
    }
    let binding: Binding;
    const address: PeerAddress = { address: host, port: u.port, family };
    if (u.scheme === 'coap') binding = await this.#udpBinding(family);
    else if (u.scheme === 'coaps') {
      const e = this.#secureEndpoint(family);
      binding = await this.#bind(e);
      if (e instanceof DtlsClient) {
        // The URI's authority is what the server's certificate must name (RFC 7252 §9.1.3.3).
        const servername = e.config.servername ?? u.host;
        const limit = timeoutMs !== undefined && timeoutMs > 0 ? timeoutMs : (this.#options.timeoutMs ?? 60_000) || 60_000;
        await ensureSession(e, address, servername, limit, signal);
      }
    } else throw new CoapError('ERR_COAP_NO_TRANSPORT', `${u.scheme}:// is not supported by this client (UDP and DTLS only)`);
    // A DTLS endpoint tells which session data sent now would use; before the handshake there is none.
    const sessionOf = (binding.endpoint as { securityContextOf?: (p: PeerAddress) => unknown }).securityContextOf;
    const ctx = sessionOf === undefined ? undefined : (sessionOf.call(binding.endpoint, address) ?? UNBOUND_CONTEXT);
    return { binding, peer: binding.layer.peers.get(address, ctx), address };
  }

  #begin(
    init: RequestInit,
    observe: number | undefined,
    onNotification: NotificationHandler | undefined,
    block2Start?: BlockValue,
  ): Promise<CoapResponse | Observation> {
    let u: CoapUri;
    let method: number;
    try {
      u = this.#parse(init.uri);
      method = typeof init.method === 'number' ? init.method : (METHOD_CODES[init.method] ?? -1);
      if (!Number.isInteger(method) || method < 1 || method > 31)
        throw new CoapError('ERR_COAP_STATE', `invalid method ${String(init.method)}`);
      if (this.#byId.size >= (this.#options.maxPendingRequests ?? 10_000))
        throw new CoapError('ERR_COAP_LIMIT', 'too many pending requests');
      if (init.signal?.aborted) throw new CoapError('ERR_COAP_CANCELLED', 'request aborted');
    } catch (err) {
      return Promise.reject(err);
    }
    return this.#target(u, init.timeoutMs, init.signal).then(({ binding, peer }) => {
      const options = this.#buildOptions(u, init);
      const token = this.#token(binding, peer, init.token);
      const timeoutMs = init.timeoutMs ?? this.#options.timeoutMs ?? 60_000;
      const ex = new Exchange(
        this.#failFn,
        this.#nextId++,
        binding,
        peer,
        method,
        init.uri,
        token,
        options,
        toPayload(init.payload),
        init.confirmable ?? this.#options.confirmable ?? true,
        timeoutMs > 0 ? timeoutMs : binding.layer.exchangeLifetimeMs,
        init.signal,
      );
      ex.observe = observe;
      ex.onNotification = onNotification;
      const szx = szxFromSize(init.blockSize ?? this.#options.blockSize ?? 1024);
      ex.b1szx = szx;
      if (ex.payload.length > blockSize(szx)) ex.b1num = 0;
      if (block2Start !== undefined) {
        ex.b2next = block2Start.num;
        ex.b2szx = block2Start.szx;
        ex.b2chunks = [];
        ex.b2base = block2Start.num * blockSize(block2Start.szx);
        ex.b2received = ex.b2base;
      } else if (init.blockSize !== undefined) {
        // Early negotiation: ask for blocks of this size from the start (RFC 7959 §2.4).
        ex.b2szx = szx;
        ex.b2next = 0;
      } else ex.b2next = -1;
      return new Promise<CoapResponse | Observation>((resolve, reject) => {
        ex.resolve = resolve;
        ex.reject = reject;
        this.#register(ex);
      });
    });
  }

  #buildOptions(u: CoapUri, init: RequestOptions): CoapOption[] {
    const options = uriToOptions(u);
    if (init.contentFormat !== undefined) options.push(contentFormatOption(init.contentFormat));
    if (init.accept !== undefined) options.push({ number: OptionNumber.Accept, value: encodeUint(init.accept) });
    if (init.etag !== undefined) {
      const tags = init.etag instanceof Uint8Array ? [init.etag] : init.etag;
      for (const t of tags) options.push({ number: OptionNumber.ETag, value: t });
    }
    for (const t of init.ifMatch ?? []) options.push({ number: OptionNumber.IfMatch, value: t });
    if (init.ifNoneMatch) options.push(emptyOption(OptionNumber.IfNoneMatch));
    if (init.options !== undefined) {
      const own = new Set(options.map((o) => o.number));
      for (const o of init.options) {
        if (
          DERIVED.has(o.number) &&
          (own.has(o.number) || o.number === OptionNumber.Observe || o.number === OptionNumber.Block1 || o.number === OptionNumber.Block2)
        )
          continue;
        if ((o.number === OptionNumber.ContentFormat || o.number === OptionNumber.Accept) && own.has(o.number)) continue;
        options.push(o);
      }
    }
    return options;
  }

  #token(binding: Binding, peer: PeerState, explicit: Uint8Array | undefined): Buffer {
    if (explicit !== undefined) {
      if (explicit.length > 8) throw new CoapError('ERR_COAP_OPTION', 'a token is at most 8 bytes');
      return Buffer.from(explicit);
    }
    if (this.#tokens.length === 0) return this.#tokens.next(); // serialised per peer, see #register
    for (let i = 0; i < 16; i++) {
      const t = this.#tokens.next();
      if (!binding.exchanges.has(this.#key(t, peer))) return t;
    }
    throw new CoapError('ERR_COAP_LIMIT', 'no free token');
  }

  /** Exchange map key: the token, or (empty tokens) the peer. */
  #key(token: Buffer, peer: PeerState): number | string {
    return token.length === 0 ? -1 - peer.id : tokenKey(token);
  }

  #register(ex: Exchange): void {
    this.#byId.set(ex.id, ex);
    ex.binding.layer.peers.retain(ex.peer);
    const layer = ex.binding.layer;
    ex.deadline = new Timer(() => this.#fail(ex, new CoapError('ERR_COAP_TIMEOUT', `${ex.uri}: no response within ${ex.timeoutMs} ms`)));
    layer.timers.schedule(ex.deadline, ex.timeoutMs);
    if (ex.signal !== undefined) {
      ex.abortListener = () => this.#fail(ex, new CoapError('ERR_COAP_CANCELLED', `${ex.uri}: aborted`, { cause: ex.signal?.reason }));
      ex.signal.addEventListener('abort', ex.abortListener, { once: true });
    }
    const active = this.#active.get(ex.peer) ?? 0;
    if (active >= this.#perPeer) {
      let q = this.#queued.get(ex.peer);
      if (q === undefined) {
        q = [];
        this.#queued.set(ex.peer, q);
      }
      q.push(ex);
      return;
    }
    this.#startExchange(ex);
  }

  #startExchange(ex: Exchange): void {
    // The token is claimed when the exchange starts: queued exchanges (empty tokens) wait their turn.
    ex.key = this.#key(ex.token, ex.peer);
    if (ex.binding.exchanges.has(ex.key)) {
      this.#fail(ex, new CoapError('ERR_COAP_STATE', `${ex.uri}: token already in use`));
      return;
    }
    ex.binding.exchanges.set(ex.key, ex);
    ex.started = true;
    this.#active.set(ex.peer, (this.#active.get(ex.peer) ?? 0) + 1);
    this.#transmit(ex);
  }

  /** Sends the message for the exchange's current step (a whole request, one Block1 block, or a Block2 continuation). */
  #transmit(ex: Exchange): void {
    const layer = ex.binding.layer;
    let options: CoapOption[] = ex.baseOptions;
    let payload: Buffer = ex.payload;
    const extra: CoapOption[] = [];
    if (ex.observe !== undefined && ex.b2received === 0) extra.push({ number: OptionNumber.Observe, value: encodeUint(ex.observe) });
    if (ex.b1num >= 0) {
      const size = blockSize(ex.b1szx);
      const start = ex.b1num * size;
      const end = Math.min(payload.length, start + size);
      extra.push({
        number: OptionNumber.Block1,
        value: encodeUint(encodeBlock({ num: ex.b1num, more: end < payload.length, szx: ex.b1szx })),
      });
      if (ex.b1num === 0) extra.push({ number: OptionNumber.Size1, value: encodeUint(payload.length) });
      payload = payload.subarray(start, end);
    } else if (ex.b2next > 0 || (ex.b2next === 0 && ex.b2chunks === undefined)) {
      extra.push({ number: OptionNumber.Block2, value: encodeUint(encodeBlock({ num: ex.b2next, more: false, szx: ex.b2szx })) });
      // Continuations repeat the request without its body, except FETCH whose body selects the resource.
      if (ex.b2next > 0 && ex.method !== Method.FETCH) payload = EMPTY;
    }
    if (extra.length > 0) options = [...options, ...extra].sort((a, b) => a.number - b.number);
    const mid = layer.allocateMessageId();
    ex.mid = mid;
    let data: Buffer;
    try {
      data = encode({
        type: ex.confirmable ? MessageType.CON : MessageType.NON,
        code: ex.method,
        messageId: mid,
        token: ex.token,
        options,
        payload,
      });
    } catch (err) {
      this.#fail(
        ex,
        new CoapError(
          err instanceof CoapMessageError && err.code === 'ERR_COAP_OPTION' ? 'ERR_COAP_OPTION' : 'ERR_COAP_MALFORMED',
          (err as Error).message,
          { cause: err },
        ),
      );
      return;
    }
    if (ex.confirmable) ex.tx = layer.sendConfirmable(ex.peer, mid, data, ex);
    else layer.send(ex.peer.address, data);
  }

  // --- completing an exchange ----------------------------------------------------------------

  readonly #failFn = (ex: Exchange, error: CoapError): void => this.#fail(ex, error);

  /** Ends an exchange with an error. */
  #fail(ex: Exchange, error: CoapError): void {
    if (ex.settled) {
      if (ex.observation?.active) {
        ex.observation.end(error.code === 'ERR_COAP_CLOSED' ? 'closed' : error.code === 'ERR_COAP_DTLS' ? 'session-closed' : 'stopped');
        this.#finish(ex);
      }
      return;
    }
    ex.settled = true;
    this.#finish(ex);
    ex.reject(error);
    this.#complete(ex, undefined, error);
  }

  #succeed(ex: Exchange, value: CoapResponse | Observation, response: CoapResponse): void {
    if (ex.settled) return;
    ex.settled = true;
    if (value instanceof Observation && value.active) {
      // The token stays registered for notifications; the request machinery stops. An empty
      // token stays "in use" towards that server, so it keeps its per-peer slot too.
      this.#stopTimers(ex);
      if (ex.token.length > 0) this.#freeSlot(ex);
    } else this.#finish(ex);
    ex.resolve(value);
    this.#complete(ex, response, undefined);
  }

  #complete(ex: Exchange, response: CoapResponse | undefined, error: CoapError | undefined): void {
    const level = error === undefined ? 3 : 2;
    if ((this.#options.logLevel ?? 1) >= level && this.listenerCount('log') > 0) {
      this.emit('log', level, `request ${ex.id} ${ex.uri}: ${error === undefined ? response?.code : `${error.code} ${error.message}`}`);
    }
    if (this.listenerCount('requestComplete') > 0)
      this.emit('requestComplete', { id: ex.id, method: ex.method, uri: ex.uri, response, error });
  }

  #stopTimers(ex: Exchange): void {
    const layer = ex.binding.layer;
    if (ex.deadline !== undefined) layer.timers.cancel(ex.deadline);
    if (ex.tx !== undefined) layer.cancelTransmission(ex.tx);
    if (ex.abortListener !== undefined) ex.signal?.removeEventListener('abort', ex.abortListener);
    ex.abortListener = undefined;
  }

  /** Gives the exchange's per-server slot to the next queued exchange. */
  #freeSlot(ex: Exchange): void {
    if (ex.started) {
      ex.started = false;
      const n = (this.#active.get(ex.peer) ?? 1) - 1;
      if (n > 0) this.#active.set(ex.peer, n);
      else this.#active.delete(ex.peer);
      const q = this.#queued.get(ex.peer);
      const next = q?.shift();
      if (q !== undefined && q.length === 0) this.#queued.delete(ex.peer);
      if (next !== undefined) this.#startExchange(next);
    } else {
      const q = this.#queued.get(ex.peer);
      const i = q?.indexOf(ex) ?? -1;
      if (q !== undefined && i >= 0) q.splice(i, 1);
    }
  }

  /** Forgets the exchange entirely. */
  #finish(ex: Exchange): void {
    this.#stopTimers(ex);
    if (ex.binding.exchanges.get(ex.key) === ex) ex.binding.exchanges.delete(ex.key);
    const known = this.#byId.delete(ex.id);
    this.#freeSlot(ex);
    if (known) ex.binding.layer.peers.release(ex.peer);
  }

  // --- receiving -----------------------------------------------------------------------------

  #onResponse(binding: Binding, msg: DecodedMessage, peer: PeerState, piggybacked: boolean): Verdict {
    let ex = binding.exchanges.get(this.#key(msg.token, peer));
    if (ex === undefined && msg.token.length === 0) {
      const early = binding.layer.peers.find(peer.address.address, peer.address.port, UNBOUND_CONTEXT);
      if (early !== undefined) ex = binding.exchanges.get(-1 - early.id);
    }
    if (ex === undefined) return Verdict.Reject;
    if (ex.peer !== peer) {
      const a = ex.peer.address;
      if (ex.peer.context !== UNBOUND_CONTEXT || a.address !== peer.address.address || a.port !== peer.address.port) return Verdict.Reject;
      this.#adopt(ex, peer);
    }
    if (piggybacked && msg.messageId !== ex.mid) return Verdict.Accept; // a late answer to an earlier step
    // A separate response arriving before the ACK also ends retransmission (RFC 7252 §5.2.2).
    if (!piggybacked && ex.observation === undefined && ex.tx !== undefined && !ex.tx.done) binding.layer.cancelTransmission(ex.tx);
    const check = checkOptions(msg.options, this.#recognized);
    if (check.badCritical !== undefined) {
      // RFC 7252 §5.4.1: reject a response carrying an unrecognised critical option.
      this.#fail(ex, new CoapError('ERR_COAP_OPTION', `${ex.uri}: response carries unrecognised critical option ${check.badCritical}`));
      return Verdict.Reject;
    }
    const options = check.options as DecodedOption[];
    if (ex.observation !== undefined) return this.#onNotification(ex, msg, options);
    return this.#onExchangeResponse(ex, msg, options, piggybacked);
  }

  /** The first reply from a DTLS session binds an exchange sent before the session existed. */
  #adopt(ex: Exchange, peer: PeerState): void {
    const layer = ex.binding.layer;
    const old = ex.peer;
    layer.peers.retain(peer);
    if (ex.started) {
      const n = (this.#active.get(old) ?? 1) - 1;
      if (n > 0) this.#active.set(old, n);
      else this.#active.delete(old);
      this.#active.set(peer, (this.#active.get(peer) ?? 0) + 1);
    }
    if (ex.token.length === 0) {
      ex.binding.exchanges.delete(ex.key);
      ex.key = -1 - peer.id;
      ex.binding.exchanges.set(ex.key, ex);
    }
    ex.peer = peer;
    layer.peers.release(old);
  }

  #response(ex: Exchange, msg: DecodedMessage, options: DecodedOption[], payload: Buffer, code: number): CoapResponse {
    const type = msg.type === MessageType.ACK ? 'ACK' : msg.type === MessageType.CON ? 'CON' : 'NON';
    return new CoapResponse(code, type, msg.messageId, msg.token, options, payload, ex.peer.address, ex.peer.context);
  }

  #onExchangeResponse(ex: Exchange, msg: DecodedMessage, options: DecodedOption[], piggybacked: boolean): Verdict {
    const code = normalizeResponseCode(msg.code);
    let block1: DecodedOption | undefined;
    let block2: DecodedOption | undefined;
    for (const o of options) {
      if (o.number === OptionNumber.Block1) block1 = o;
      else if (o.number === OptionNumber.Block2) block2 = o;
    }
    // Block1 upload in progress: 2.31 Continue asks for the next block (RFC 7959 §2.3).
    if (ex.b1num >= 0 && code === ResponseCode.Continue) {
      if (block1 === undefined) {
        this.#fail(ex, new CoapError('ERR_COAP_BLOCK', `${ex.uri}: 2.31 Continue without Block1`));
        return Verdict.Accept;
      }
      let b: BlockValue;
      try {
        b = decodeBlockOption(block1.value);
      } catch {
        this.#fail(ex, new CoapError('ERR_COAP_BLOCK', `${ex.uri}: invalid Block1 in 2.31`));
        return Verdict.Accept;
      }
      const sentEnd = (ex.b1num + 1) * blockSize(ex.b1szx);
      const szx = Math.min(b.szx, ex.b1szx);
      if (sentEnd >= ex.payload.length || sentEnd % blockSize(szx) !== 0) {
        this.#fail(ex, new CoapError('ERR_COAP_BLOCK', `${ex.uri}: unexpected 2.31 Continue after the last block`));
        return Verdict.Accept;
      }
      ex.b1szx = szx;
      ex.b1num = sentEnd / blockSize(szx);
      this.#transmit(ex);
      return Verdict.Accept;
    }
    ex.b1num = -1;
    let payload = msg.payload;
    if (block2 !== undefined && (ex.b2chunks !== undefined || code >> 5 === 2)) {
      let b: BlockValue;
      try {
        b = decodeBlockOption(block2.value);
      } catch {
        this.#fail(ex, new CoapError('ERR_COAP_BLOCK', `${ex.uri}: invalid Block2 option`));
        return Verdict.Accept;
      }
      if (b.more || ex.b2chunks !== undefined) {
        if (ex.observe === 0 && ex.b2received === 0 && b.num === 0 && b.more && options.some((o) => o.number === OptionNumber.Observe)) {
          // An accepted registration whose first notification is block-wise: the rest is fetched
          // separately so the token stays dedicated to notifications (RFC 7959 §3.4).
          return this.#onObserveAccepted(ex, msg, options, piggybacked);
        }
        const etag = options.find((o) => o.number === OptionNumber.ETag)?.value;
        const offset = b.num * blockSize(b.szx);
        if (offset !== ex.b2received) {
          this.#fail(ex, new CoapError('ERR_COAP_BLOCK', `${ex.uri}: expected Block2 at offset ${ex.b2received}, got ${offset}`));
          return Verdict.Accept;
        }
        if (ex.b2received === ex.b2base) ex.b2etag = etag;
        else if ((ex.b2etag === undefined) !== (etag === undefined) || (etag !== undefined && !etag.equals(ex.b2etag as Buffer))) {
          this.#fail(ex, new CoapError('ERR_COAP_BLOCK', `${ex.uri}: representation changed during the block-wise transfer (ETag)`));
          return Verdict.Accept;
        }
        ex.b2chunks ??= [];
        ex.b2chunks.push(Buffer.from(msg.payload));
        ex.b2received += msg.payload.length;
        if (ex.b2received - ex.b2base > (this.#options.maxBodySize ?? 8 * 1024 * 1024)) {
          this.#fail(
            ex,
            new CoapError('ERR_COAP_LIMIT', `${ex.uri}: response body exceeds ${this.#options.maxBodySize ?? 8 * 1024 * 1024} bytes`),
          );
          return Verdict.Accept;
        }
        if (b.more) {
          ex.b2szx = b.szx;
          ex.b2next = ex.b2received / blockSize(b.szx);
          this.#transmit(ex);
          return Verdict.Accept;
        }
        payload = Buffer.concat(ex.b2chunks, ex.b2received - ex.b2base);
      }
    }
    if (ex.observe === 0) return this.#onObserveAccepted(ex, msg, options, piggybacked, payload);
    const response = this.#response(ex, msg, options, payload, code);
    this.#succeed(ex, response, response);
    return Verdict.Accept;
  }

  // --- observe -------------------------------------------------------------------------------

  #onObserveAccepted(
    ex: Exchange,
    msg: DecodedMessage,
    options: DecodedOption[],
    _piggybacked: boolean,
    payload: Buffer = msg.payload,
  ): Verdict {
    const code = normalizeResponseCode(msg.code);
    const obsOpt = options.find((o) => o.number === OptionNumber.Observe);
    const accepted = code >> 5 === 2 && obsOpt !== undefined;
    const response = this.#response(ex, msg, options, payload, code);
    const observation = new Observation(ex.uri, ex.token, response, accepted, {
      cancel: () => this.#deregister(ex),
      stop: () => {
        observation.end('stopped');
        this.#finish(ex);
      },
    });
    if (!accepted) {
      this.#succeed(ex, observation, response);
      return Verdict.Accept;
    }
    ex.observation = observation;
    ex.latest = { v: decodeUint((obsOpt as DecodedOption).value), t: ex.binding.layer.clock.now() };
    ex.b2chunks = undefined;
    ex.b2received = 0;
    ex.b2next = -1;
    this.#succeed(ex, observation, response);
    const block2 = options.find((o) => o.number === OptionNumber.Block2);
    if (block2 !== undefined && decodeBlockOption(block2.value).more) this.#deliverBlockwise(ex, msg, options, true, false);
    else this.#deliver(ex, response, true, ex.latest.v, false);
    return Verdict.Accept;
  }

  #onNotification(ex: Exchange, msg: DecodedMessage, options: DecodedOption[]): Verdict {
    const observation = ex.observation as Observation;
    const code = normalizeResponseCode(msg.code);
    const obsOpt = options.find((o) => o.number === OptionNumber.Observe);
    if (ex.deregistering !== undefined && obsOpt === undefined) {
      // The answer to our GET Observe=1.
      const done = ex.deregistering;
      ex.deregistering = undefined;
      observation.end('cancelled');
      this.#finish(ex);
      done.resolve();
      return Verdict.Accept;
    }
    if (!observation.active) return Verdict.Reject;
    const final = code >> 5 !== 2 || obsOpt === undefined;
    const now = ex.binding.layer.clock.now();
    let isLatest = true;
    let v: number | undefined;
    if (!final) {
      v = decodeUint((obsOpt as DecodedOption).value);
      const latest = ex.latest as { v: number; t: number };
      isLatest = isNewerNotification(latest.v, latest.t, v, now);
      if (isLatest) ex.latest = { v, t: now };
    }
    const block2 = options.find((o) => o.number === OptionNumber.Block2);
    let more = false;
    try {
      more = block2 !== undefined && decodeBlockOption(block2.value).more;
    } catch {
      more = false;
    }
    if (more && !final) {
      this.#deliverBlockwise(ex, msg, options, isLatest, false);
      return Verdict.Accept;
    }
    const stop = this.#deliver(ex, this.#response(ex, msg, options, msg.payload, code), isLatest, v, final);
    if (final) {
      observation.end('error-response');
      this.#finish(ex);
      return Verdict.Accept;
    }
    if (stop) {
      observation.end('stopped');
      this.#finish(ex);
      if (msg.type === MessageType.CON) return Verdict.Reject; // reactive cancellation (RFC 7641 §3.6)
      void this.#sendDeregistration(ex).catch(() => {});
    }
    return Verdict.Accept;
  }

  /** Calls the handler; returns true if it asked to stop. */
  #deliver(ex: Exchange, response: CoapResponse, isLatest: boolean, observe: number | undefined, final: boolean): boolean {
    let stop = false;
    const n: Notification = {
      response,
      isLatest,
      observe,
      final,
      stop: () => {
        stop = true;
      },
    };
    try {
      if (ex.onNotification?.(n) === false) stop = true;
    } catch (err) {
      reportError(this, err as Error);
    }
    return stop && !final;
  }

  /** Fetches the remaining blocks of a block-wise notification, then delivers it whole. */
  #deliverBlockwise(ex: Exchange, msg: DecodedMessage, options: DecodedOption[], isLatest: boolean, final: boolean): void {
    const first = Buffer.from(msg.payload);
    const b = decodeBlockOption((options.find((o) => o.number === OptionNumber.Block2) as DecodedOption).value);
    const etag = options.find((o) => o.number === OptionNumber.ETag)?.value;
    const code = normalizeResponseCode(msg.code);
    const observe = options.find((o) => o.number === OptionNumber.Observe);
    const head = this.#response(ex, msg, options, first, code);
    this.#begin({ method: 'GET', uri: ex.uri, confirmable: ex.confirmable }, undefined, undefined, {
      num: first.length / blockSize(b.szx),
      more: false,
      szx: b.szx,
    }).then(
      (rest) => {
        const r = rest as CoapResponse;
        if (etag !== undefined && r.etag !== undefined && !r.etag.equals(etag)) return; // a newer state is on its way as a notification
        const full = new CoapResponse(
          head.codeNumber,
          head.type,
          head.messageId,
          head.token,
          head.options,
          Buffer.concat([first, r.payload]),
          head.peer,
          head.securityContext,
        );
        if (
          ex.observation?.active &&
          this.#deliver(ex, full, isLatest, observe === undefined ? undefined : decodeUint(observe.value), final)
        ) {
          ex.observation.end('stopped');
          this.#finish(ex);
          void this.#sendDeregistration(ex).catch(() => {});
        }
      },
      (err: Error) => reportError(this, err),
    );
  }

  #deregister(ex: Exchange): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      ex.deregistering = { resolve };
      this.#sendDeregistration(ex).then(
        () => {},
        (err: CoapError) => {
          ex.deregistering = undefined;
          ex.observation?.end('cancelled');
          this.#finish(ex);
          reject(err);
        },
      );
    });
  }

  /**
   * GET with Observe = 1 under the registration's token and options (RFC 7641 §3.6). It is sent
   * on the observation's own token, so its response comes back through the same entry.
   */
  #sendDeregistration(ex: Exchange): Promise<void> {
    const layer = ex.binding.layer;
    const options = [
      ...ex.baseOptions.filter((o) => o.number !== OptionNumber.ETag),
      { number: OptionNumber.Observe, value: Uint8Array.of(1) },
    ].sort((a, b) => a.number - b.number);
    const mid = layer.allocateMessageId();
    ex.mid = mid;
    const data = encode({ type: MessageType.CON, code: Method.GET, messageId: mid, token: ex.token, options, payload: EMPTY });
    return new Promise<void>((resolve, reject) => {
      if (!ex.binding.exchanges.has(ex.key)) {
        // Already forgotten (reactive stop): send it unmatched; the server still drops us.
        layer.send(ex.peer.address, data);
        resolve();
        return;
      }
      ex.tx = layer.sendConfirmable(ex.peer, mid, data, {
        onAcknowledged: () => resolve(),
        onReset: () => {
          ex.deregistering?.resolve();
          ex.deregistering = undefined;
          ex.observation?.end('cancelled');
          this.#finish(ex);
          resolve();
        },
        onTimeout: () => reject(new CoapError('ERR_COAP_TIMEOUT', `${ex.uri}: deregistration was not acknowledged`)),
      });
    });
  }
}
