/** Thrown when a real peer cannot be found or started. Tests must fail on it, never skip. */
export class PeerUnavailableError extends Error {
  override readonly name = 'PeerUnavailableError';
  constructor(
    readonly peer: string,
    message: string,
  ) {
    super(`${peer}: ${message}`);
  }
}
