/**
 * Broker errors. `code` is stable; `errorCode` is the reference toolkit's number (600 protocol
 * error, 601 invalid topic, 211/213 state errors, 27x TLS, Winsock numbers for sockets);
 * `reasonCode` is the MQTT 5 reason code sent to the client when there is one.
 */
export const BrokerErrorCode = {
  /** Malformed packet or protocol violation by a client (toolkit 600). The connection is closed. */
  Protocol: 'ERR_MQTT_PROTOCOL',
  /** Invalid topic name or filter (toolkit 601). */
  InvalidTopic: 'ERR_INVALID_TOPIC',
  /** API used in the wrong state, e.g. addBrokerListener while listening (toolkit 213). */
  InvalidState: 'ERR_INVALID_STATE',
  /** Bad argument to an API call. */
  InvalidArgument: 'ERR_INVALID_ARGUMENT',
  /** Unknown connection id (toolkit 126 in the TCP server). */
  UnknownConnection: 'ERR_UNKNOWN_CONNECTION',
  /** loadSession JSON that does not have the documented shape. */
  SessionFormat: 'ERR_SESSION_FORMAT',
  /** A listener could not bind or its TLS context could not be built. */
  Listen: 'ERR_LISTEN',
  /** A hook or event handler threw or rejected. */
  Hook: 'ERR_HOOK',
  /** The storage backend failed. */
  Storage: 'ERR_STORAGE',
  /** The durable store is damaged (see `onCorruption` of `createDurableStorage`). */
  StorageCorrupt: 'ERR_STORAGE_CORRUPT',
  /** The durable store was written by a newer, incompatible version. */
  StorageVersion: 'ERR_STORAGE_VERSION',
  /** A password or ACL file cannot be read or parsed. */
  AuthFile: 'ERR_AUTH_FILE',
  /** The Redis cluster layer failed (connection, node id in use, take-over). */
  Cluster: 'ERR_CLUSTER',
} as const;

export type BrokerErrorCodeValue = (typeof BrokerErrorCode)[keyof typeof BrokerErrorCode];

const TOOLKIT: Record<BrokerErrorCodeValue, number> = {
  ERR_MQTT_PROTOCOL: 600,
  ERR_INVALID_TOPIC: 601,
  ERR_INVALID_STATE: 213,
  ERR_INVALID_ARGUMENT: 211,
  ERR_UNKNOWN_CONNECTION: 126,
  ERR_SESSION_FORMAT: 211,
  ERR_LISTEN: 10048,
  ERR_HOOK: 211,
  ERR_STORAGE: 211,
  ERR_STORAGE_CORRUPT: 211,
  ERR_STORAGE_VERSION: 211,
  ERR_AUTH_FILE: 211,
  ERR_CLUSTER: 211,
};

export class BrokerError extends Error {
  override readonly name = 'BrokerError';
  /** The reference toolkit's numeric error code. */
  readonly errorCode: number;
  constructor(
    readonly code: BrokerErrorCodeValue,
    message: string,
    options: { reasonCode?: number; errorCode?: number; connectionId?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.errorCode = options.errorCode ?? TOOLKIT[code];
    this.reasonCode = options.reasonCode;
    this.connectionId = options.connectionId;
  }
  /** MQTT 5 reason code, when the error maps to one. */
  readonly reasonCode: number | undefined;
  /** The connection concerned, if any. */
  readonly connectionId: string | undefined;
}
