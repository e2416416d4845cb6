import type { X509Certificate } from 'node:crypto';

/** Listener transports; the numbers are the reference toolkit's Protocol values (0-3). */
export type ListenerProtocol = 'tcp' | 'tls' | 'ws' | 'wss';
export const PROTOCOL_NUMBERS: Readonly<Record<ListenerProtocol, number>> = { tcp: 0, tls: 1, ws: 2, wss: 3 };
export const PROTOCOL_NAMES: readonly ListenerProtocol[] = ['tcp', 'tls', 'ws', 'wss'];

/** Receives what a byte stream reports. One sink per stream; set by the MQTT core. */
export interface StreamSink {
  /** Bytes as they arrive (any fragmentation). */
  data(chunk: Buffer): void;
  /** The send queue went below the high-water mark again. */
  drain(): void;
  /** The stream closed (once). `statusCode` 0 = normal; otherwise a toolkit/Winsock number. */
  closed(statusCode: number, description: string): void;
}

/**
 * The byte-stream seam between the MQTT core and a transport (TCP, TLS, WebSocket, secure
 * WebSocket). The core never knows which one it has: it writes bytes, pauses/resumes reading,
 * ends or destroys, and gets data/drain/close through its {@link StreamSink}.
 */
export interface ByteStream {
  readonly protocol: ListenerProtocol;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Bytes handed to write() but not yet to the kernel. */
  readonly writableLength: number;
  /** Set once by the core before any data is delivered. */
  sink: StreamSink | null;
  /** Writes bytes; false when the stream is above its high-water mark (drain follows). */
  write(data: Uint8Array): boolean;
  /** Stops reading (TCP back-pressure) until resume(). */
  pause(): void;
  resume(): void;
  /** Graceful close after queued data. */
  end(): void;
  /** Immediate close. */
  destroy(): void;
  /** The client's TLS certificate, if any. */
  peerCertificate(): X509Certificate | undefined;
  /** The listener takes the user name from the client certificate: its CN, or its whole subject. */
  readonly certificateIdentity?: CertificateIdentity;
}

/** Which part of a TLS client certificate becomes the user name (Mosquitto's `use_identity_as_username` / `use_subject_as_username`). */
export type CertificateIdentity = 'cn' | 'subject';
