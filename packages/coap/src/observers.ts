import type { Transmission } from './message-layer.js';
import type { PeerState } from './peers.js';
import type { IncomingRequest } from './request.js';
import type { tokenKey } from './tokens.js';

/** Why an observer was removed (seed `Unregistered`). */
export type UnregisterReason =
  /** GET with Observe = 1 (RFC 7641 §3.6). */
  | 'deregistered'
  /** RST in reply to a notification. */
  | 'reset'
  /** A CON notification was never acknowledged. */
  | 'timeout'
  /** A non-2.xx notification ended the observation. */
  | 'error-response'
  /** A new registration with the same token replaced it, or the resource was removed. */
  | 'replaced'
  | 'removed'
  /** The DTLS session it was registered on ended. */
  | 'session-changed'
  /** The server closed. */
  | 'closed';

/** One registered observer (RFC 7641 §4.1): keyed by client endpoint and token. */
export class Observer {
  /** In-flight CON notification, at most one per observer (§4.5.2). */
  inflight: Transmission | undefined;
  /** Message ID of the last NON notification (an RST may come back for it). */
  lastMessageId = -1;
  /** Notifications sent since the last CON one. */
  sinceCon = 0;
  lastConAt: number;

  constructor(
    readonly key: string,
    readonly peer: PeerState,
    readonly token: Buffer,
    /** The resource path it observes (the seed's Register URI is `request.uri`). */
    readonly path: string,
    /** The registration, replayed to the handler to render each notification. */
    readonly request: IncomingRequest,
    now: number,
  ) {
    this.lastConAt = now;
  }
}

export function observerKey(peer: PeerState, key: ReturnType<typeof tokenKey>): string {
  return `${peer.id}/${key}`;
}

/** Observers by (endpoint, token) and by resource path. */
export class ObserverRegistry {
  readonly #byKey = new Map<string, Observer>();
  readonly #byPath = new Map<string, Set<Observer>>();
  readonly #byPeer = new Map<PeerState, Set<Observer>>();

  get size(): number {
    return this.#byKey.size;
  }

  get(key: string): Observer | undefined {
    return this.#byKey.get(key);
  }

  add(o: Observer): void {
    this.#byKey.set(o.key, o);
    let set = this.#byPath.get(o.path);
    if (set === undefined) {
      set = new Set();
      this.#byPath.set(o.path, set);
    }
    set.add(o);
    let mine = this.#byPeer.get(o.peer);
    if (mine === undefined) {
      mine = new Set();
      this.#byPeer.set(o.peer, mine);
    }
    mine.add(o);
  }

  delete(o: Observer): boolean {
    if (this.#byKey.get(o.key) !== o) return false;
    this.#byKey.delete(o.key);
    const set = this.#byPath.get(o.path);
    set?.delete(o);
    if (set?.size === 0) this.#byPath.delete(o.path);
    const mine = this.#byPeer.get(o.peer);
    mine?.delete(o);
    if (mine?.size === 0) this.#byPeer.delete(o.peer);
    return true;
  }

  ofPath(path: string): Observer[] {
    const set = this.#byPath.get(path);
    return set === undefined ? [] : [...set];
  }

  countFor(path: string): number {
    return this.#byPath.get(path)?.size ?? 0;
  }

  ofPeer(peer: PeerState): Observer[] {
    const mine = this.#byPeer.get(peer);
    return mine === undefined ? [] : [...mine];
  }

  all(): Observer[] {
    return [...this.#byKey.values()];
  }
}
