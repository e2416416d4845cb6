export { BROKER_USAGE, type BrokerArgs, parseBrokerArgs } from './args.js';
export {
  type BrokerConfigFile,
  ConfigError,
  DEFAULT_LISTENERS,
  type ListenerConfig,
  listenerOptions,
  parseConfig,
  readConfig,
} from './config.js';
export { type RunningBroker, startServer } from './server.js';
