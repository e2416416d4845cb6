import { readFileSync } from 'node:fs';
import type { BrokerListenerOptions, BrokerOptions } from '@iotwire/mqtt-broker';

/**
 * The broker's JSON configuration file (minimal for now; the full operator experience comes
 * later):
 *
 * ```json
 * {
 *   "listeners": [
 *     { "protocol": "tcp", "host": "0.0.0.0", "port": 1883 },
 *     { "protocol": "ws", "port": 8080, "path": "/mqtt" },
 *     { "protocol": "tls", "port": 8883, "certFile": "server.crt", "keyFile": "server.key" },
 *     { "protocol": "wss", "port": 8443, "pfxFile": "server.pfx", "passphrase": "secret", "requestCert": true, "caFile": "ca.crt" }
 *   ],
 *   "limits": { "maxConnections": 10000 },
 *   "defaultIdleTimeout": 0,
 *   "maxKeepAlive": 0
 * }
 * ```
 */
export interface BrokerConfigFile {
  listeners?: ListenerConfig[];
  limits?: BrokerOptions['limits'];
  defaultIdleTimeout?: number;
  maxKeepAlive?: number;
  maxSessionExpiryInterval?: number;
  topicAliasMaximum?: number;
}

export interface ListenerConfig {
  protocol: 'tcp' | 'tls' | 'ws' | 'wss';
  host?: string;
  port?: number;
  path?: string;
  certFile?: string;
  keyFile?: string;
  pfxFile?: string;
  passphrase?: string;
  requestCert?: boolean;
  /** PEM file of CAs that client certificates must chain to. */
  caFile?: string;
}

/** Defaults: MQTT over TCP on 1883 and WebSocket on 8080 at /mqtt, all interfaces. */
export const DEFAULT_LISTENERS: readonly ListenerConfig[] = [
  { protocol: 'tcp', port: 1883 },
  { protocol: 'ws', port: 8080, path: '/mqtt' },
];

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'ERR_BROKER_CONFIG';
}

function fail(message: string): never {
  throw new ConfigError(message);
}

/** Reads and checks a configuration file. */
export function readConfig(path: string): BrokerConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    fail(`cannot read ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    fail(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseConfig(doc, path);
}

const KEYS = new Set(['listeners', 'limits', 'defaultIdleTimeout', 'maxKeepAlive', 'maxSessionExpiryInterval', 'topicAliasMaximum']);
const LISTENER_KEYS = new Set([
  'protocol',
  'host',
  'port',
  'path',
  'certFile',
  'keyFile',
  'pfxFile',
  'passphrase',
  'requestCert',
  'caFile',
]);

export function parseConfig(doc: unknown, where = 'config'): BrokerConfigFile {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) fail(`${where}: the top level must be an object`);
  const d = doc as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!KEYS.has(k)) fail(`${where}: unknown key ${JSON.stringify(k)}`);
  if (d.listeners !== undefined) {
    if (!Array.isArray(d.listeners) || d.listeners.length === 0) fail(`${where}: listeners must be a non-empty array`);
    d.listeners.forEach((l, i) => {
      if (l === null || typeof l !== 'object') fail(`${where}: listeners[${i}] must be an object`);
      const x = l as Record<string, unknown>;
      for (const k of Object.keys(x)) if (!LISTENER_KEYS.has(k)) fail(`${where}: listeners[${i}]: unknown key ${JSON.stringify(k)}`);
      if (!['tcp', 'tls', 'ws', 'wss'].includes(x.protocol as string))
        fail(`${where}: listeners[${i}].protocol must be tcp, tls, ws or wss`);
      if (x.port !== undefined && (!Number.isInteger(x.port) || (x.port as number) < 0 || (x.port as number) > 65535)) {
        fail(`${where}: listeners[${i}].port must be 0..65535`);
      }
      if (
        (x.protocol === 'tls' || x.protocol === 'wss') &&
        x.pfxFile === undefined &&
        (x.certFile === undefined || x.keyFile === undefined)
      ) {
        fail(`${where}: listeners[${i}] (${String(x.protocol)}) needs certFile and keyFile, or pfxFile`);
      }
    });
  }
  return d as BrokerConfigFile;
}

/** Listener options for the broker; `port` (-p) overrides the first TCP listener's port. */
export function listenerOptions(config: BrokerConfigFile, port?: number): BrokerListenerOptions[] {
  const list = (config.listeners ?? DEFAULT_LISTENERS).map((l) => ({ ...l }));
  if (port !== undefined) {
    const tcp = list.find((l) => l.protocol === 'tcp');
    if (tcp) tcp.port = port;
    else list.unshift({ protocol: 'tcp', port });
  }
  return list.map((l) => {
    const o: BrokerListenerOptions = { protocol: l.protocol, host: l.host ?? '', port: l.port };
    if (l.path !== undefined) o.path = l.path;
    if (l.requestCert) o.requestCert = true;
    if (l.protocol === 'tls' || l.protocol === 'wss') {
      o.certificate = l.pfxFile
        ? { storeType: 'pfxFile', store: l.pfxFile, storePassword: l.passphrase ?? '' }
        : { cert: readFileSync(l.certFile as string), key: readFileSync(l.keyFile as string), passphrase: l.passphrase };
      if (l.caFile) o.tls = { trustedCaCerts: readFileSync(l.caFile, 'utf8') };
    }
    return o;
  });
}
