export { AccessControl, type ClientChange, DASHBOARD_USER } from './access.js';
export { BROKER_USAGE, type BrokerArgs, EXIT, parseBrokerArgs } from './args.js';
export { describeListener, listenerOptions, withPort } from './config/listeners.js';
export {
  ConfigError,
  type ConfigIssue,
  type ConfigPath,
  defaultConfig,
  formatPath,
  type LoadedConfig,
  loadConfigFile,
  parseConfigText,
} from './config/load.js';
export {
  type BrokerConfig,
  type BrokerConfigInput,
  configSchema,
  DEFAULT_LISTENERS,
  type ListenerConfig,
  LOG_LEVELS,
  type LogLevelName,
  listenerSchema,
} from './config/schema.js';
export type { Logger, LoggerOptions } from './logger.js';
export { LIVE_MQTT_OPTIONS, planReload, type ReloadPlan } from './reload.js';
export { BrokerServer, type ReloadOutcome, type StartOptions } from './server.js';
