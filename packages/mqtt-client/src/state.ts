/** Connection states of the client. */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'disconnecting' | 'reconnecting';

const ALLOWED: Readonly<Record<ConnectionState, readonly ConnectionState[]>> = {
  disconnected: ['connecting', 'reconnecting'],
  connecting: ['connected', 'disconnected', 'reconnecting', 'disconnecting'],
  connected: ['disconnecting', 'disconnected', 'reconnecting'],
  disconnecting: ['disconnected'],
  reconnecting: ['connecting', 'disconnected'],
};

/**
 * The connection state machine: one place that knows which transitions are legal, so the
 * client cannot, say, start a second connection while one is being made.
 */
export class ConnectionStateMachine {
  #state: ConnectionState = 'disconnected';

  constructor(private readonly onChange?: (from: ConnectionState, to: ConnectionState) => void) {}

  get state(): ConnectionState {
    return this.#state;
  }

  is(...states: ConnectionState[]): boolean {
    return states.includes(this.#state);
  }

  canMove(to: ConnectionState): boolean {
    return ALLOWED[this.#state].includes(to);
  }

  /** Moves to `to`; throws on an illegal transition (a bug, never a peer's doing). */
  move(to: ConnectionState): void {
    if (this.#state === to) return;
    if (!this.canMove(to)) throw new Error(`illegal connection state transition ${this.#state} → ${to}`);
    const from = this.#state;
    this.#state = to;
    this.onChange?.(from, to);
  }
}
