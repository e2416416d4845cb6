import type { CoapResponse } from './response.js';

/** Why an observation ended. */
export type ObservationEndReason =
  /** `cancel()`: deregistered with GET Observe = 1 (RFC 7641 §3.6). */
  | 'cancelled'
  /** `stop()` or the notification handler returned false / called `stop()`. */
  | 'stopped'
  /** The server sent a non-2.xx notification (the server ended it). */
  | 'error-response'
  /** The server answered the registration without Observe. */
  | 'not-accepted'
  /** The client closed. */
  | 'closed'
  /** The DTLS session it was registered on ended (notifications may only come on that session, RFC 7252 §9.1.1). */
  | 'session-closed';

/** One notification (seed `Notification` event). */
export interface Notification {
  response: CoapResponse;
  /** RFC 7641 §3.4 freshness: false for a stale, reordered notification (still delivered). */
  isLatest: boolean;
  /** The Observe value, undefined for the final non-2.xx one. */
  observe: number | undefined;
  /** True for the last notification (non-2.xx): the observation is over. */
  final: boolean;
  /** Stop observing (seed `StopObserving = true`): an RST answers this notification when it is CON. */
  stop(): void;
}

/** Called for every notification, the accepted first response included. Return `false` to stop. */
export type NotificationHandler = (n: Notification) => void | boolean;

/** Control surface the client gives an observation. */
export interface ObservationControl {
  cancel(): Promise<void>;
  stop(): void;
}

/** A registration made by `client.observe()` (seed `StartObserving`). */
export class Observation {
  #active: boolean;
  #endReason: ObservationEndReason | undefined;
  readonly #ended: Promise<ObservationEndReason>;
  #resolveEnded!: (r: ObservationEndReason) => void;

  /** @internal Created by `CoapClient.observe()`. */
  constructor(
    readonly uri: string,
    readonly token: Buffer,
    /** The first response: the accepted registration, or the plain response when declined. */
    readonly response: CoapResponse,
    /** The server accepted (its response carried Observe). */
    readonly accepted: boolean,
    private readonly control: ObservationControl,
  ) {
    this.#active = accepted;
    this.#ended = new Promise((r) => {
      this.#resolveEnded = r;
    });
    if (!accepted) this.end('not-accepted');
  }

  get active(): boolean {
    return this.#active;
  }

  /** Resolves with the reason once the observation is over. */
  get ended(): Promise<ObservationEndReason> {
    return this.#ended;
  }

  get endReason(): ObservationEndReason | undefined {
    return this.#endReason;
  }

  /** Deregisters proactively (GET with Observe = 1, same token and options; seed `StopObserving`). */
  cancel(): Promise<void> {
    if (!this.#active) return Promise.resolve();
    return this.control.cancel();
  }

  /** Forgets the observation locally; the next notification is answered with RST (RFC 7641 §3.6). */
  stop(): void {
    if (this.#active) this.control.stop();
  }

  /** @internal */
  end(reason: ObservationEndReason): void {
    if (this.#endReason !== undefined) return;
    this.#active = false;
    this.#endReason = reason;
    this.#resolveEnded(reason);
  }
}
