import { MqttBroker } from '@iotwire/mqtt-broker';
import type { BrokerArgs } from './args.js';
import { type BrokerConfigFile, listenerOptions, readConfig } from './config.js';

export interface RunningBroker {
  broker: MqttBroker;
  stop(): Promise<void>;
}

/** Starts the broker from command-line arguments (and an optional config file). */
export async function startServer(args: BrokerArgs, log: (line: string) => void = console.log): Promise<RunningBroker> {
  const config: BrokerConfigFile = args.config ? readConfig(args.config) : {};
  const broker = new MqttBroker({
    ...(config.limits ? { limits: config.limits } : {}),
    ...(config.defaultIdleTimeout !== undefined ? { defaultIdleTimeout: config.defaultIdleTimeout } : {}),
    ...(config.maxKeepAlive !== undefined ? { maxKeepAlive: config.maxKeepAlive } : {}),
    ...(config.maxSessionExpiryInterval !== undefined ? { maxSessionExpiryInterval: config.maxSessionExpiryInterval } : {}),
    ...(config.topicAliasMaximum !== undefined ? { topicAliasMaximum: config.topicAliasMaximum } : {}),
    logLevel: args.verbose ? 2 : 1,
  });
  for (const l of listenerOptions(config, args.port)) broker.addBrokerListener(l);
  broker.on('log', (e) => log(`${e.logType.toLowerCase()}: ${e.connectionId ? `[${e.connectionId}] ` : ''}${e.message}`));
  broker.on('error', (e) => log(`error ${e.errorCode}: ${e.connectionId ? `[${e.connectionId}] ` : ''}${e.description}`));
  await broker.startListening();
  for (const l of broker.brokerListeners) {
    log(`listening: ${l.protocol} ${l.host || '0.0.0.0'}:${l.port}${l.path && l.protocol.startsWith('ws') ? ` path ${l.path}` : ''}`);
  }
  return { broker, stop: () => broker.close() };
}
