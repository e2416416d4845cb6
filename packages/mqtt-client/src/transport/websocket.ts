import { clientError } from '../errors.js';
import type { Target } from '../url.js';
import { wsUrl } from '../url.js';
import type { ByteStream, ConnectReporter, StreamHandlers, TlsInfo } from './types.js';

/** The part of the W3C WebSocket API used here (the browser's, or the `ws` package's). */
export interface WebSocketLike {
  binaryType: string;
  readonly bufferedAmount: number;
  readonly readyState: number;
  readonly protocol: string;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
}

/** Write buffering above which `write` reports back-pressure. */
const HIGH_WATER = 256 * 1024;

function toBuffer(data: unknown): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data)) return Buffer.concat(data as Buffer[]);
  // Text frames are not MQTT [MQTT-6.0.0-1]; hand the bytes to the decoder, which fails it.
  return Buffer.from(String(data));
}

/**
 * Adapts an open WebSocket to the byte-stream seam. MQTT packets may span frames or share
 * one (§6): the streaming decoder behind `data` reassembles them. Browsers give no drain
 * event, so back-pressure is `bufferedAmount` above a mark, and drain is polled.
 */
export class WebSocketStream implements ByteStream {
  #handlers: StreamHandlers | undefined;
  #closed = false;
  #drainTimer: ReturnType<typeof setTimeout> | undefined;
  #early: Buffer[] = [];

  constructor(
    private readonly ws: WebSocketLike,
    readonly tls: TlsInfo | undefined = undefined,
    readonly localAddress: string | undefined = undefined,
    readonly localPort: number | undefined = undefined,
    readonly remoteAddress: string | undefined = undefined,
    readonly remotePort: number | undefined = undefined,
  ) {
    ws.onmessage = (ev) => {
      const chunk = toBuffer(ev.data);
      if (this.#handlers) this.#handlers.data(chunk);
      else this.#early.push(chunk);
    };
    ws.onerror = () => {
      // The close event follows with the details.
    };
    ws.onclose = (ev) => {
      this.#finish(
        ev.code === 1000 || ev.code === 1005
          ? undefined
          : clientError('ERR_WEBSOCKET', `WebSocket closed with code ${ev.code} ${ev.reason}`),
      );
    };
  }

  get needDrain(): boolean {
    return this.ws.bufferedAmount > HIGH_WATER;
  }

  start(handlers: StreamHandlers): void {
    this.#handlers = handlers;
    for (const c of this.#early) handlers.data(c);
    this.#early = [];
    if (this.#closed) handlers.close();
  }

  write(data: Uint8Array): boolean {
    if (this.#closed) return false;
    this.ws.send(data);
    if (this.ws.bufferedAmount > HIGH_WATER) {
      this.#pollDrain();
      return false;
    }
    return true;
  }

  #pollDrain(): void {
    if (this.#drainTimer !== undefined) return;
    const tick = () => {
      this.#drainTimer = undefined;
      if (this.#closed) return;
      if (this.ws.bufferedAmount > HIGH_WATER) this.#drainTimer = setTimeout(tick, 5);
      else this.#handlers?.drain();
    };
    this.#drainTimer = setTimeout(tick, 5);
  }

  end(): void {
    if (this.#closed) return;
    try {
      this.ws.close(1000);
    } catch {
      this.#finish();
    }
  }

  destroy(): void {
    if (this.#closed) return;
    try {
      this.ws.close(1000);
    } catch {
      // closing anyway
    }
    this.#finish();
  }

  #finish(err?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#drainTimer !== undefined) clearTimeout(this.#drainTimer);
    this.ws.onmessage = null;
    this.ws.onclose = null;
    this.#handlers?.close(err);
  }
}

/**
 * Opens a WebSocket with subprotocol `mqtt` [MQTT-6.0.0-3] and resolves once it is open.
 * `create` builds the socket (global WebSocket in browsers, `ws` in Node).
 */
export function openWebSocket(
  target: Target,
  create: (url: string, protocols: string[]) => WebSocketLike,
  signal: AbortSignal,
  reporter: ConnectReporter,
  afterOpen?: (ws: WebSocketLike) => Promise<WebSocketStream> | WebSocketStream,
  binaryType = 'arraybuffer',
): Promise<WebSocketStream> {
  const url = wsUrl(target);
  return new Promise<WebSocketStream>((resolve, reject) => {
    let ws: WebSocketLike;
    try {
      ws = create(url, ['mqtt']);
    } catch (err) {
      reject(clientError('ERR_WEBSOCKET', `cannot open ${url}: ${(err as Error).message}`, { cause: err }));
      return;
    }
    ws.binaryType = binaryType;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      try {
        ws.close();
      } catch {
        // not open yet
      }
      reject(err);
    };
    const onAbort = () => fail(signal.reason instanceof Error ? signal.reason : clientError('ERR_INTERRUPTED', 'connect aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    ws.onerror = (ev) => {
      const msg = (ev as { message?: string; error?: Error }).message ?? (ev as { error?: Error }).error?.message ?? 'connection failed';
      fail(clientError('ERR_WEBSOCKET', `WebSocket ${url}: ${msg}`, { cause: (ev as { error?: Error }).error }));
    };
    ws.onclose = (ev) => fail(clientError('ERR_WEBSOCKET', `WebSocket ${url} closed during the opening handshake (code ${ev.code})`));
    ws.onopen = () => {
      if (settled) return;
      if (ws.protocol !== 'mqtt') {
        fail(clientError('ERR_WEBSOCKET', `server did not accept the mqtt subprotocol (got ${JSON.stringify(ws.protocol)})`));
        return;
      }
      reporter.status('remoteHostConnected', 0, `WebSocket ${url} open`);
      Promise.resolve(afterOpen ? afterOpen(ws) : new WebSocketStream(ws)).then(
        (stream) => {
          if (settled) {
            stream.destroy();
            return;
          }
          settled = true;
          signal.removeEventListener('abort', onAbort);
          resolve(stream);
        },
        (err: Error) => fail(err),
      );
    };
  });
}
