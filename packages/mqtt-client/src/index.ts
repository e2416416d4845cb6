export { Backoff, type BackoffOptions } from './backoff.js';
