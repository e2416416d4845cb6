/**
 * @iotwire/mqtt-client for Node.js: MQTT 3.1.1 and 5.0 over TCP, TLS, WebSocket and secure
 * WebSocket. The browser build is `@iotwire/mqtt-client/browser`.
 */
import { MqttClientBase } from './client.js';
import type { BaseClientOptions } from './options.js';
import { proxyFromUrl, resolveProxy } from './proxy-config.js';
import { FileSessionStore } from './session-file.js';
import { type NodeTransportOptions, nodeConnector } from './transport/node.js';

export * from './exports.js';
export { FileSessionStore } from './session-file.js';
export type { ClientTlsOptions, NodeTransportOptions } from './transport/node.js';

/** Options of the Node client. */
export interface MqttClientOptions extends BaseClientOptions, NodeTransportOptions {
  /** SessionStateFile: saveSession()/restoreSession() use this file (written atomically). */
  sessionStateFile?: string;
}

/** The MQTT client for Node.js. */
export class MqttClient extends MqttClientBase<MqttClientOptions> {
  constructor(options: MqttClientOptions = {}) {
    const o =
      options.sessionStateFile && !options.sessionStore
        ? { ...options, sessionStore: new FileSessionStore(options.sessionStateFile) }
        : options;
    super(o, nodeConnector);
    // Fail at construction, not at the first connect, on a malformed explicit proxy.
    if (typeof o.proxy === 'string' && o.proxy !== 'auto') proxyFromUrl(o.proxy);
    else if (typeof o.proxy === 'object') resolveProxy(o.proxy);
  }

  protected override get hasNodeTransports(): boolean {
    return true;
  }
}

/** Creates a client and connects it. */
export async function connect(url: string, options: Omit<MqttClientOptions, 'url'> = {}): Promise<MqttClient> {
  const client = new MqttClient({ ...options, url });
  await client.connect();
  return client;
}
