/** Stable codes of the CLI's own errors. */
export const CliErrorCode = {
  /** A flag is unknown, misses its value, or has a bad value (exit 1, usage hint). */
  Usage: 'ERR_USAGE',
  /** An input (file, stdin) could not be read (exit 1). */
  Input: 'ERR_INPUT',
  /** The broker could not be reached: refused, unknown host, TLS, WebSocket, timeout (exit 1). */
  Connect: 'ERR_CONNECT',
  /** The broker refused the connection in CONNACK (exit = the CONNACK code, as mosquitto). */
  Refused: 'ERR_REFUSED',
  /** The broker refused a publish (MQTT 5 reason code >= 0x80) (exit 1). */
  Publish: 'ERR_PUBLISH',
  /** The broker refused every subscription (exit 1). */
  Subscribe: 'ERR_SUBSCRIBE',
  /** `sub -W` ran out (exit 27, as mosquitto_sub). */
  Timeout: 'ERR_TIMEOUT',
  /** The connection was lost and could not be kept (exit 1). */
  ConnectionLost: 'ERR_CONNECTION_LOST',
} as const;

export type CliErrorCodeValue = (typeof CliErrorCode)[keyof typeof CliErrorCode];

/** An error that ends the command: `message` is the line printed on stderr, with the exit code. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly code: CliErrorCodeValue,
    readonly exitCode = 1,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * A flag problem: `Error: <message>` (mosquitto's wording), followed on stderr by a hint to
 * `--help` as mosquitto prints "Use '… --help' to see usage.".
 */
export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string) {
    super(message.startsWith('Error') ? message : `Error: ${message}`, CliErrorCode.Usage, 1);
  }
}

/** Exit code of `sub -W` when the time ran out (MOSQ_ERR_TIMEOUT). */
export const EXIT_TIMED_OUT = 27;
