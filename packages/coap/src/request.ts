import {
  type BlockValue,
  type CoapScheme,
  type CodeString,
  codeToString,
  type DecodedMessage,
  type DecodedOption,
  decodeUint,
  type MethodName,
  methodName,
  OptionNumber,
  optionsToUri,
} from '@iotwire/coap-message';
import type { PeerAddress } from '@iotwire/udp';
import type { PeerState } from './peers.js';
import type { CoapResponseInit } from './response-init.js';
import type { Timer } from './timers.js';

const EMPTY_STRINGS: readonly string[] = Object.freeze([]);

/** Where an exchange is in its life on the server. */
export const ExchangeState = {
  /** The handler is running (or the request was deferred). */
  Open: 0,
  /** A response (or nothing, for a suppressed one) went out. */
  Done: 1,
  /** Cancelled, or the server closed. */
  Cancelled: 2,
} as const;

/** Answering side of one exchange; the server implements it. */
export interface ExchangeResponder {
  respond(req: IncomingRequest, init: CoapResponseInit | undefined): void;
}

/**
 * A request as the server's handlers see it. Fields are read from the message once; `query`,
 * `uri` and `options` helpers are computed on first use.
 */
export class IncomingRequest {
  /** Server-wide request id (seed `RequestId`), for `sendResponse(id)` and `cancelRequest(id)`. */
  readonly id: number;
  /** Method code, 1–31. */
  readonly code: number;
  readonly type: 'CON' | 'NON';
  readonly messageId: number;
  readonly token: Buffer;
  /** The options, with unrecognised elective ones dropped. */
  readonly options: readonly DecodedOption[];
  /** The body (reassembled from Block1 blocks when the client sent it block-wise). */
  payload: Buffer;
  /** The resource path: `/` plus the Uri-Path segments joined with `/`. */
  readonly path: string;
  readonly peer: PeerAddress;
  /** The DTLS session/epoch the request arrived on, `undefined` over plain UDP. */
  readonly securityContext: unknown;
  /** Content-Format of the body, or `undefined` (seed `RequestContentFormat = -1`). */
  contentFormat: number | undefined;
  /** Observe option value (0 register, 1 deregister), or `undefined`. */
  readonly observe: number | undefined;
  /** Block2 option of the request (the block the client asks for), or `undefined`. */
  block2: BlockValue | undefined;

  // Internal exchange state, owned by the server.
  /** @internal */ state: number = ExchangeState.Open;
  /** @internal */ readonly peerState: PeerState;
  /** @internal */ readonly slot: number;
  /** @internal */ acked = false;
  /** @internal */ deferredFlag = false;
  /** @internal */ timer: Timer | undefined;
  /** @internal */ block1: BlockValue | undefined;
  /** @internal */ noResponse: number | undefined;
  /** @internal */ handledBy: unknown;
  /** @internal */ resourcePath: string | undefined;
  readonly #responder: ExchangeResponder;
  readonly #local: { scheme: CoapScheme; host: string; port: number };
  #query: readonly string[] | undefined;
  #segments: readonly string[] | undefined;

  /** @internal */
  constructor(
    id: number,
    msg: DecodedMessage,
    options: readonly DecodedOption[],
    peer: PeerState,
    slot: number,
    path: string,
    responder: ExchangeResponder,
    local: { scheme: CoapScheme; host: string; port: number },
  ) {
    this.#responder = responder;
    this.#local = local;
    this.id = id;
    this.code = msg.code;
    this.type = msg.type === 0 ? 'CON' : 'NON';
    this.messageId = msg.messageId;
    this.token = msg.token;
    this.options = options;
    this.payload = msg.payload;
    this.peer = peer.address;
    this.securityContext = peer.context;
    this.peerState = peer;
    this.slot = slot;
    this.path = path;
    let contentFormat: number | undefined;
    let observe: number | undefined;
    for (let i = 0; i < options.length; i++) {
      const o = options[i] as DecodedOption;
      if (o.number === OptionNumber.ContentFormat) contentFormat = decodeUint(o.value);
      else if (o.number === OptionNumber.Observe) observe = decodeUint(o.value);
      else if (o.number > OptionNumber.ContentFormat) break; // options are sorted
    }
    this.contentFormat = contentFormat;
    this.observe = observe;
  }

  /** `'GET'`, `'POST'`, ... or the `"0.dd"` code string for unregistered methods. */
  get method(): MethodName | CodeString {
    return methodName(this.code) ?? codeToString(this.code);
  }

  /** Uri-Path segments, percent-decoded. */
  get pathSegments(): readonly string[] {
    if (this.#segments === undefined) {
      const s: string[] = [];
      for (const o of this.options) if (o.number === OptionNumber.UriPath) s.push(o.value.toString('utf8'));
      this.#segments = s;
    }
    return this.#segments;
  }

  /** Uri-Query arguments. */
  get query(): readonly string[] {
    if (this.#query === undefined) {
      let q: string[] | undefined;
      for (const o of this.options) if (o.number === OptionNumber.UriQuery) (q ??= []).push(o.value.toString('utf8'));
      this.#query = q ?? EMPTY_STRINGS;
    }
    return this.#query;
  }

  /** The full target URI (RFC 7252 §6.5), with the local address when Uri-Host/Uri-Port are absent. */
  get uri(): string {
    return optionsToUri(this.options, this.#local);
  }

  /** Accept option, or `undefined`. */
  get accept(): number | undefined {
    const o = this.option(OptionNumber.Accept);
    return o === undefined ? undefined : decodeUint(o.value);
  }

  /** ETags the client has cached (several are allowed in a request). */
  get etags(): Buffer[] {
    return this.options.filter((o) => o.number === OptionNumber.ETag).map((o) => o.value);
  }

  /** If-Match values (RFC 7252 §5.10.8.1); the handler answers 4.12 when none matches. */
  get ifMatch(): Buffer[] {
    return this.options.filter((o) => o.number === OptionNumber.IfMatch).map((o) => o.value);
  }

  /** If-None-Match present (§5.10.8.2); the handler answers 4.12 if the resource exists. */
  get ifNoneMatch(): boolean {
    return this.option(OptionNumber.IfNoneMatch) !== undefined;
  }

  /** First option with this number. */
  option(number: number): DecodedOption | undefined {
    for (const o of this.options) if (o.number === number) return o;
    return undefined;
  }

  /** The body as UTF-8 text. */
  text(): string {
    return this.payload.toString('utf8');
  }

  /**
   * Answers later: the server sends an empty ACK now (for a CON) and the response when
   * `respond()` or `server.sendResponse(id)` is called (seed `SendResponse=false`).
   */
  defer(): undefined {
    this.deferredFlag = true;
    return undefined;
  }

  /** Sends the response (for a deferred request, or from outside the handler). */
  respond(init?: CoapResponseInit): void {
    this.#responder.respond(this, init);
  }

  /** True once answered or cancelled. */
  get done(): boolean {
    return this.state !== ExchangeState.Open;
  }
}
