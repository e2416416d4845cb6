export { BROKER_USAGE, type BrokerArgs, parseBrokerArgs } from './args.js';
