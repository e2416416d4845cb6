// One set of resources served by several CoapServers at once: `serve` answers on coap:// and,
// with security options, on coaps:// (libcoap serves DTLS on port + 1), with shared state.
import type { CoapServer, RequestHandler, ResourceOptions } from '@iotwire/coap';

export class Site {
  readonly servers: CoapServer[] = [];
  readonly #resources = new Map<string, ResourceOptions>();
  #handler: RequestHandler | undefined;

  /** Adds a server: it gets every resource registered so far, and later ones. */
  add(server: CoapServer): CoapServer {
    this.servers.push(server);
    for (const [path, options] of this.#resources) server.resource(path, options);
    server.handler = this.#handler;
    return server;
  }

  /** Registers (or replaces) a resource on every server. */
  resource(path: string, options: ResourceOptions): void {
    this.#resources.set(path, options);
    for (const s of this.servers) s.resource(path, options);
  }

  removeResource(path: string): void {
    this.#resources.delete(path);
    for (const s of this.servers) s.removeResource(path);
  }

  hasResource(path: string): boolean {
    return this.#resources.has(path);
  }

  /** Handler for paths no resource matches, on every server. */
  set handler(h: RequestHandler | undefined) {
    this.#handler = h;
    for (const s of this.servers) s.handler = h;
  }

  /** Notifies the observers of `path` on every server; returns how many there were. */
  notify(path: string): number {
    let n = 0;
    for (const s of this.servers) n += s.notify(path);
    return n;
  }

  observerCount(path: string): number {
    let n = 0;
    for (const s of this.servers) n += s.observerCount(path);
    return n;
  }
}
