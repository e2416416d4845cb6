import { readFileSync } from 'node:fs';
import type { BrokerListenerOptions } from '@iotwire/mqtt-broker';
import type { BrokerConfig, ListenerConfig } from './schema.js';

/** `-p PORT` replaces the port of the first TCP listener (adding one if there is none), as documented. */
export function withPort(config: BrokerConfig, port: number | undefined): BrokerConfig {
  if (port === undefined) return config;
  const listeners = [...(config.listeners ?? [])];
  const i = listeners.findIndex((l) => l.protocol === 'tcp');
  if (i >= 0) listeners[i] = { ...(listeners[i] as ListenerConfig), port };
  else listeners.unshift({ protocol: 'tcp', host: '', port });
  return { ...config, listeners };
}

/** The broker's listener options, certificate files read. */
export function listenerOptions(l: ListenerConfig): BrokerListenerOptions {
  const o: BrokerListenerOptions = { protocol: l.protocol, host: l.host };
  if (l.port !== undefined) o.port = l.port;
  if (l.protocol === 'ws' || l.protocol === 'wss') o.path = l.path;
  if (l.protocol === 'tls' || l.protocol === 'wss') {
    o.certificate = l.pfxFile
      ? { storeType: 'pfxFile', store: l.pfxFile, storePassword: l.passphrase ?? '' }
      : {
          cert: readFileSync(l.certFile as string),
          key: readFileSync(l.keyFile as string),
          ...(l.passphrase !== undefined ? { passphrase: l.passphrase } : {}),
        };
    o.requestCert = l.requestCert;
    if (l.certificateIdentity !== 'none') o.certificateIdentity = l.certificateIdentity;
    o.handshakeTimeout = l.handshakeTimeout;
    o.tls = {
      enabledProtocols: l.tlsVersions,
      ...(l.caFile ? { trustedCaCerts: readFileSync(l.caFile, 'utf8') } : {}),
      ...(l.ciphers ? { cipherSuites: l.ciphers } : {}),
      ...(l.keyLogFile ? { keyLogFile: l.keyLogFile } : {}),
    };
  }
  return o;
}

/** `tcp 0.0.0.0:1883`, `ws 127.0.0.1:8080/mqtt` */
export function describeListener(l: { protocol: string; host: string; port: number; path?: string | undefined }): string {
  const host = l.host === '' ? '0.0.0.0' : l.host.includes(':') ? `[${l.host}]` : l.host;
  return `${l.protocol} ${host}:${l.port}${l.path && l.protocol.startsWith('ws') ? l.path : ''}`;
}
