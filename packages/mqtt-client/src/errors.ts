/**
 * Typed client errors. `code` is a stable string; `errorCode` is the reference toolkit's
 * numeric code (kept so ported error handling keeps working); `reasonCode` is the MQTT 5
 * reason code when the failure came from (or is answered with) one.
 */
export const ClientErrorCode = {
  /** 500: the server broke the protocol (unexpected packet, unknown topic alias, …). */
  Protocol: 'ERR_PROTOCOL',
  /** 504: a packet from the server could not be decoded. */
  Malformed: 'ERR_MALFORMED_PACKET',
  /** 501: no free packet identifier (65,535 in flight). */
  PacketIdsExhausted: 'ERR_PACKET_IDS_EXHAUSTED',
  /** 502: invalid Topic Name for PUBLISH. */
  TopicNameInvalid: 'ERR_TOPIC_NAME_INVALID',
  /** 503: invalid Topic Filter for SUBSCRIBE/UNSUBSCRIBE. */
  TopicFilterInvalid: 'ERR_TOPIC_FILTER_INVALID',
  /** 505: QoS outside 0..2, or above the server's Maximum QoS. */
  QosInvalid: 'ERR_QOS_INVALID',
  /** 1: an argument or option is invalid. */
  InvalidArgument: 'ERR_INVALID_ARGUMENT',
  /** 153: the URL is malformed or has an unsupported scheme. */
  InvalidUrl: 'ERR_INVALID_URL',
  /** 104: connect() while connected. */
  AlreadyConnected: 'ERR_ALREADY_CONNECTED',
  /** 1105: connect() while a connection attempt runs. */
  AlreadyConnecting: 'ERR_ALREADY_CONNECTING',
  /** 1117: the operation needs a connection (and cannot be queued). */
  NotConnected: 'ERR_NOT_CONNECTED',
  /** 201: a deadline passed (connect timeout, request timeout). */
  Timeout: 'ERR_TIMEOUT',
  /** 301: interrupt() aborted the operation. */
  Interrupted: 'ERR_INTERRUPTED',
  /** The server refused the connection (CONNACK return/reason code in `reasonCode`). */
  ConnectionRefused: 'ERR_CONNECTION_REFUSED',
  /** 1120: the transport closed unexpectedly. */
  ConnectionLost: 'ERR_CONNECTION_LOST',
  /** The transport could not be opened (DNS, refused, reset, …; `cause` holds the system error). */
  TransportError: 'ERR_TRANSPORT',
  /** No PINGRESP within the keep-alive interval. */
  KeepAliveTimeout: 'ERR_KEEPALIVE_TIMEOUT',
  /** The server sent DISCONNECT (reason code in `reasonCode`). */
  ServerDisconnect: 'ERR_SERVER_DISCONNECT',
  /** disconnect() was called while the operation was pending and it cannot survive it. */
  Disconnected: 'ERR_DISCONNECTED',
  /** PUBACK/PUBREC/PUBCOMP with a failure reason code (>= 0x80). */
  PublishFailed: 'ERR_PUBLISH_FAILED',
  /** SUBACK refused every filter of the call (per-filter codes in the result otherwise). */
  SubscribeFailed: 'ERR_SUBSCRIBE_FAILED',
  /** UNSUBACK refused every filter of the call. */
  UnsubscribeFailed: 'ERR_UNSUBSCRIBE_FAILED',
  /** The packet exceeds the server's Maximum Packet Size. */
  PacketTooLarge: 'ERR_PACKET_TOO_LARGE',
  /** The bounded outbound queue is full (see `queue` options). */
  QueueFull: 'ERR_QUEUE_FULL',
  /** The message was dropped from the queue to make room (policy `drop-oldest`). */
  QueueDropped: 'ERR_QUEUE_DROPPED',
  /** The server does not support the feature (retain, wildcards, shared subs, subscription ids). */
  NotSupported: 'ERR_NOT_SUPPORTED',
  /** 280: the server certificate was rejected (verdict `accept` false). */
  CertificateRejected: 'ERR_TLS_CERT_REJECTED',
  /** 276: TLS handshake failed. */
  TlsHandshake: 'ERR_TLS_HANDSHAKE',
  /** 4003: WebSocket protocol error / upgrade refused. */
  WebSocket: 'ERR_WEBSOCKET',
  /** Session state text could not be parsed or has an unknown version. */
  SessionFormat: 'ERR_SESSION_FORMAT',
  /** Enhanced authentication failed or was not answered. */
  AuthFailed: 'ERR_AUTH_FAILED',
  /** The session state file could not be read or written. */
  SessionFile: 'ERR_SESSION_FILE',
  /**
   * 118 (firewall error): the proxy could not be reached, refused the tunnel (HTTP status in
   * `statusCode`, SOCKS reply in the message) or failed during the proxy handshake.
   */
  Proxy: 'ERR_PROXY',
  /** config(): the setting name is not one of the toolkit's documented settings. */
  UnknownSetting: 'ERR_UNKNOWN_SETTING',
  /** config(): the setting is read-only, or cannot change while connected/connecting. */
  SettingReadOnly: 'ERR_SETTING_READ_ONLY',
} as const;

export type ClientErrorCodeValue = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

/** The reference toolkit's numeric error codes for each of ours. */
export const TOOLKIT_ERROR_NUMBERS: Readonly<Record<ClientErrorCodeValue, number>> = {
  ERR_PROTOCOL: 500,
  ERR_MALFORMED_PACKET: 504,
  ERR_PACKET_IDS_EXHAUSTED: 501,
  ERR_TOPIC_NAME_INVALID: 502,
  ERR_TOPIC_FILTER_INVALID: 503,
  ERR_QOS_INVALID: 505,
  ERR_INVALID_ARGUMENT: 1,
  ERR_INVALID_URL: 153,
  ERR_ALREADY_CONNECTED: 104,
  ERR_ALREADY_CONNECTING: 1105,
  ERR_NOT_CONNECTED: 1117,
  ERR_TIMEOUT: 201,
  ERR_INTERRUPTED: 301,
  ERR_CONNECTION_REFUSED: 500,
  ERR_CONNECTION_LOST: 1120,
  ERR_TRANSPORT: 10000,
  ERR_KEEPALIVE_TIMEOUT: 1120,
  ERR_SERVER_DISCONNECT: 1120,
  ERR_DISCONNECTED: 212,
  ERR_PUBLISH_FAILED: 500,
  ERR_SUBSCRIBE_FAILED: 500,
  ERR_UNSUBSCRIBE_FAILED: 500,
  ERR_PACKET_TOO_LARGE: 504,
  ERR_QUEUE_FULL: 135,
  ERR_QUEUE_DROPPED: 135,
  ERR_NOT_SUPPORTED: 211,
  ERR_TLS_CERT_REJECTED: 280,
  ERR_TLS_HANDSHAKE: 276,
  ERR_WEBSOCKET: 4003,
  ERR_SESSION_FORMAT: 504,
  ERR_AUTH_FAILED: 500,
  ERR_SESSION_FILE: 302,
  ERR_PROXY: 118,
  ERR_UNKNOWN_SETTING: 1,
  ERR_SETTING_READ_ONLY: 211,
};

/** Winsock numbers the toolkit reports for common Node errno names. */
const ERRNO_NUMBERS: Readonly<Record<string, number>> = {
  ETIMEDOUT: 10060,
  ECONNREFUSED: 10061,
  ECONNRESET: 10054,
  EHOSTUNREACH: 10065,
  ENETUNREACH: 10051,
  EADDRINUSE: 10048,
  ENOTFOUND: 11001,
  EAI_AGAIN: 11002,
  EPIPE: 10053,
};

export interface MqttClientErrorOptions {
  reasonCode?: number;
  cause?: unknown;
  /** HTTP status of a refused proxy CONNECT. */
  statusCode?: number;
}

export class MqttClientError extends Error {
  override readonly name = 'MqttClientError';
  /** MQTT 5 reason code (or the 3.1.1 CONNACK return code for refusals). */
  readonly reasonCode: number | undefined;
  /** HTTP status of a refused proxy CONNECT (ERR_PROXY), else undefined. */
  readonly statusCode: number | undefined;
  constructor(
    readonly code: ClientErrorCodeValue,
    message: string,
    options: MqttClientErrorOptions = {},
  ) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.reasonCode = options.reasonCode;
    this.statusCode = options.statusCode;
  }

  /** The reference toolkit's numeric code (Winsock numbers for transport errors with an errno). */
  get errorCode(): number {
    if (this.code === ClientErrorCode.TransportError) {
      const errno = (this.cause as { code?: string } | undefined)?.code;
      if (errno && ERRNO_NUMBERS[errno] !== undefined) return ERRNO_NUMBERS[errno];
    }
    return TOOLKIT_ERROR_NUMBERS[this.code];
  }
}

/** Shorthand constructor. */
export function clientError(code: ClientErrorCodeValue, message: string, options?: MqttClientErrorOptions): MqttClientError {
  return new MqttClientError(code, message, options);
}
