import type { QoS } from '@iotwire/mqtt-packet';
import type { BrokerConnectionInfo, PublishRequest, SessionRequestEvent, SubscribeEvent, UnsubscribeEvent } from './events.js';

/** `authorizePublish` arguments: set `accept` false (and optionally a reason code) to refuse. */
export interface AuthorizePublishArgs {
  /** The publishing client; undefined for in-process publishes and Wills. */
  readonly client: BrokerConnectionInfo | undefined;
  /** Set when a Will is being published: whose it is (its connection may be gone). */
  readonly will?: { readonly clientId: string; readonly userName: string };
  readonly message: Readonly<PublishRequest>;
  accept: boolean;
  /** MQTT 5 reason code in the PUBACK/PUBREC of a refused message; default 0x87 Not authorized. */
  reasonCode: number | undefined;
}

/**
 * `authorizeDelivery` arguments: one subscriber's copy of a message. The object is reused
 * between calls: read it, do not keep it.
 */
export interface AuthorizeDeliveryArgs {
  readonly clientId: string;
  /** The subscriber's user name (of its last connection while it is offline). */
  readonly userName: string;
  readonly topic: string;
  readonly qos: QoS;
  readonly retain: boolean;
}

/** `onPublish` arguments: change `message` to transform it, set `drop` to discard it. */
export interface InterceptPublishArgs {
  readonly client: BrokerConnectionInfo | undefined;
  message: PublishRequest;
  drop: boolean;
}

/** One step of MQTT 5 enhanced authentication (CONNECT or AUTH). */
export interface EnhancedAuthArgs {
  readonly connection: BrokerConnectionInfo;
  readonly clientId: string;
  readonly method: string;
  /** Authentication Data sent by the client in this step. */
  readonly data: Buffer | undefined;
  /** 0 for the CONNECT (or re-authentication AUTH 0x19), then 1, 2 … */
  readonly step: number;
  readonly reauthenticate: boolean;
  /** Scratch space that lives for one exchange. */
  readonly state: Record<string, unknown>;
}

export type EnhancedAuthResult =
  | { status: 'continue'; data?: Uint8Array }
  | { status: 'success'; data?: Uint8Array }
  | { status: 'fail'; reasonCode?: number; reasonString?: string };

export interface DisconnectInfo {
  readonly client: BrokerConnectionInfo;
  /** True when the client sent DISCONNECT (the Will is not published). */
  readonly graceful: boolean;
  readonly reason: string;
}

/** A value, or a Promise of it (hooks may be async). */
export type MaybePromise<T> = T | Promise<T>;

/**
 * A broker hook: any subset of these methods. Hooks run in the order they were added, after
 * the event listeners of the same step; each sees what the previous ones decided. Any method
 * may return a Promise: the connection stops reading until it settles, so packets are still
 * handled in order. A throwing or rejecting hook refuses (and reports an `error`).
 */
export interface BrokerHook {
  readonly name?: string;
  /** CONNECT: the same args as the `sessionRequest` event. Return false to refuse, true to accept. */
  authenticate?(args: SessionRequestEvent): MaybePromise<boolean | undefined | void>;
  /** Authentication methods this hook implements with {@link enhancedAuth}. */
  readonly authMethods?: readonly string[];
  /** MQTT 5 enhanced authentication (AUTH packets). */
  enhancedAuth?(args: EnhancedAuthArgs): MaybePromise<EnhancedAuthResult>;
  /** Every PUBLISH from a client (client undefined for in-process publishes). Return false to refuse. */
  authorizePublish?(args: AuthorizePublishArgs): MaybePromise<boolean | undefined | void>;
  /** Each filter of a SUBSCRIBE: the `subscribe` event args. Return a number to set `returnCode`, false to refuse. */
  authorizeSubscribe?(args: SubscribeEvent): MaybePromise<number | boolean | undefined | void>;
  /**
   * Each copy of a message for one subscriber, before it is sent or queued (retained messages
   * included). Synchronous by design: it runs per subscriber per message. Return false to
   * withhold the copy.
   */
  authorizeDelivery?(args: AuthorizeDeliveryArgs): boolean | undefined | void;
  /** Message interception after authorization: transform or drop. */
  onPublish?(args: InterceptPublishArgs): MaybePromise<void>;
  /** After CONNACK accepted the client. */
  onConnect?(client: BrokerConnectionInfo, sessionPresent: boolean): void;
  onDisconnect?(info: DisconnectInfo): void;
  onSubscribed?(client: BrokerConnectionInfo, args: SubscribeEvent): void;
  onUnsubscribed?(client: BrokerConnectionInfo, args: UnsubscribeEvent): void;
}

function isThenable(r: unknown): r is PromiseLike<unknown> {
  return r !== null && typeof r === 'object' && typeof (r as PromiseLike<unknown>).then === 'function';
}

/**
 * Runs `steps` in order on `args`; `apply` folds each result into `args`. Synchronous when
 * every step is; otherwise returns a Promise that settles after the last step. A step that
 * throws or rejects goes to `fail` and ends the chain.
 */
export function runChain<A>(
  steps: readonly ((args: A) => unknown)[],
  args: A,
  apply: (args: A, result: unknown) => void,
  fail: (args: A, err: unknown) => void,
): void | Promise<void> {
  for (let i = 0; i < steps.length; i++) {
    let r: unknown;
    try {
      r = (steps[i] as (a: A) => unknown)(args);
    } catch (err) {
      fail(args, err);
      return;
    }
    if (isThenable(r)) {
      return (async () => {
        try {
          apply(args, await r);
          for (let j = i + 1; j < steps.length; j++) apply(args, await (steps[j] as (a: A) => unknown)(args));
        } catch (err) {
          fail(args, err);
        }
      })();
    }
    apply(args, r);
  }
}

/** Calls `then` now, or after `p` when it is a Promise. */
export function after(p: void | Promise<void>, then: () => void): void {
  if (p === undefined) then();
  else void p.then(then);
}
