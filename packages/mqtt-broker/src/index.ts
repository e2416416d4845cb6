export { type BrokerLimits, DEFAULT_LIMITS, resolveLimits } from './limits.js';
