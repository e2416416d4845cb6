/**
 * One HTTP server (dashboard and/or /metrics) on one address. Routes are tried in order; the
 * first that answers wins, otherwise 404. Stopping also ends open event streams.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Answers a request and returns true, or returns false to let the next route try. */
export type Route = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

export class HttpEndpointError extends Error {
  override readonly name = 'HttpEndpointError';
  readonly code = 'ERR_HTTP_LISTEN';
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: message });
}

export class HttpEndpoint {
  readonly #server: Server;
  readonly #what: string;

  constructor(
    readonly host: string,
    readonly requestedPort: number,
    routes: readonly Route[],
    /** What it serves, for messages ("dashboard", "metrics"). */
    what: string,
    onError: (err: Error) => void,
  ) {
    this.#what = what;
    this.#server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      void (async () => {
        for (const route of routes) if (await route(req, res, url)) return;
        sendError(res, 404, `no ${url.pathname} here`);
      })().catch((err: Error) => {
        onError(err);
        if (!res.headersSent) sendError(res, 500, 'internal error');
        else res.destroy();
      });
    });
    // Keep-alive sockets must not hold a shutdown: stop() closes them.
    this.#server.keepAliveTimeout = 5000;
    this.#server.on('clientError', (_err, socket) => socket.destroy());
  }

  /** The bound port (the requested one until started). */
  get port(): number {
    const a = this.#server.address() as AddressInfo | null;
    return a ? a.port : this.requestedPort;
  }

  /** `http://host:port` as a person would type it. */
  get url(): string {
    const h =
      this.host === '' || this.host === '0.0.0.0'
        ? '127.0.0.1'
        : this.host === '::'
          ? '[::1]'
          : this.host.includes(':')
            ? `[${this.host}]`
            : this.host;
    return `http://${h}:${this.port}`;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'EADDRINUSE'
            ? 'address already in use (EADDRINUSE): another process is using that port: stop it, or choose another port in the configuration file'
            : (err.code ?? err.message);
        reject(
          new HttpEndpointError(`cannot listen on http ${this.host || '*'}:${this.requestedPort} for the ${this.#what}: ${why}`, {
            cause: err,
          }),
        );
      };
      this.#server.once('error', onError);
      this.#server.listen(this.requestedPort, this.host || undefined, () => {
        this.#server.off('error', onError);
        resolve();
      });
    });
  }

  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}
