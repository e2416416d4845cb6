import type { Target } from '../url.js';

/** TLS facts of an established connection (Node transports). */
export interface TlsInfo {
  /** Negotiated protocol, e.g. `TLSv1.3`. */
  protocol: string | null;
  /** Negotiated cipher (OpenSSL and IANA names). */
  cipher: { name: string; standardName?: string; version: string } | null;
  /** The server's certificate (PEM) or undefined. */
  peerCertificate?: unknown;
}

/** Callbacks a byte stream delivers to its one consumer (the client). */
export interface StreamHandlers {
  data(chunk: Buffer): void;
  /** Writable again after `write` returned false. */
  drain(): void;
  /** Closed, with the error that closed it if any. Called exactly once. */
  close(error?: Error): void;
}

/**
 * The byte-stream seam: TCP, TLS and WebSocket adapters all produce this, and the MQTT
 * engine never knows which one it has.
 */
export interface ByteStream {
  /** Queues bytes; false when the caller should wait for `drain`. */
  write(data: Uint8Array): boolean;
  /** Flushes and closes gracefully. */
  end(): void;
  /** Closes at once. */
  destroy(): void;
  /** True while writes are being buffered beyond the high-water mark. */
  readonly needDrain: boolean;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly tls: TlsInfo | undefined;
  /** Installs the consumer; data may flow from then on. */
  start(handlers: StreamHandlers): void;
  /**
   * Optional (rate-limited streams): sends a small control packet ahead of queued bytes, at
   * the next packet boundary. Used for PINGREQ.
   */
  writeUrgent?(packet: Uint8Array): void;
}

/** Progress reports while connecting (ConnectionStatus / SSLStatus / certificate verdict). */
export interface ConnectReporter {
  status(connectionEvent: string, statusCode: number, description: string): void;
  sslStatus(message: string): void;
  /**
   * Asks the application about the server certificate (the SSLServerAuthentication event);
   * returns whether to continue.
   */
  verifyServer(verdict: unknown): boolean | Promise<boolean>;
  /** A log line (the Log event; level 1 info, 2 verbose). */
  log?(level: 1 | 2, message: string): void;
}

/**
 * Opens a byte stream to `target`. Rejects with an MqttClientError. `cache` belongs to one
 * client instance (TLS session reuse is per instance, as the toolkit's ReuseSSLSession).
 */
export type Connector<O> = (
  target: Target,
  options: O,
  signal: AbortSignal,
  reporter: ConnectReporter,
  cache: Map<string, unknown>,
) => Promise<ByteStream>;
