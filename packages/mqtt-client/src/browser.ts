/**
 * @iotwire/mqtt-client for browsers: MQTT 3.1.1 and 5.0 over WebSocket (`ws://`, `wss://`),
 * using the global `WebSocket`. Nothing here imports Node modules.
 */
import { MqttClientBase } from './client.js';
import { clientError } from './errors.js';
import type { BaseClientOptions } from './options.js';
import type { Connector } from './transport/types.js';
import { openWebSocket, type WebSocketLike } from './transport/websocket.js';

export * from './exports.js';

/** Options of the browser client (WebSocket only; TLS is the browser's). */
export type BrowserClientOptions = BaseClientOptions;

const browserConnector: Connector<BrowserClientOptions> = (target, _options, signal, reporter) => {
  if (target.protocol !== 'ws' && target.protocol !== 'wss') {
    return Promise.reject(clientError('ERR_INVALID_URL', `browsers can only use ws:// and wss:// (got ${target.protocol}://)`));
  }
  const WS = (globalThis as { WebSocket?: new (url: string, protocols: string[]) => WebSocketLike }).WebSocket;
  if (!WS) return Promise.reject(clientError('ERR_WEBSOCKET', 'no global WebSocket in this environment'));
  return openWebSocket(target, (url, protocols) => new WS(url, protocols), signal, reporter);
};

/** The MQTT client for browsers. */
export class MqttClient extends MqttClientBase<BrowserClientOptions> {
  constructor(options: BrowserClientOptions = {}) {
    super(options, browserConnector);
  }
}

/** Creates a client and connects it. */
export async function connect(url: string, options: Omit<BrowserClientOptions, 'url'> = {}): Promise<MqttClient> {
  const client = new MqttClient({ ...options, url });
  await client.connect();
  return client;
}
