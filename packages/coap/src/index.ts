/** The verdict carried by `sslServerAuthentication` / `sslClientAuthentication` (from `@iotwire/dtls`). */
export type { CertificateVerdict, DtlsSessionInfo } from '@iotwire/dtls';
export {
  CoapClient,
  type CoapClientEvents,
  type CoapClientOptions,
  type PendingClientRequest,
  type RequestCompleteInfo,
  type RequestInit,
  type RequestOptions,
} from './client.js';
export type { CoapDtlsClientOptions, CoapDtlsServerOptions } from './dtls-transport.js';
export { CoapError, type CoapErrorCode, ERROR_NUMBERS } from './errors.js';
export type { MessageStats } from './message-layer.js';
export { type Notification, type NotificationHandler, Observation, type ObservationEndReason } from './observation.js';
export { isNewerNotification } from './observe-freshness.js';
export type { UnregisterReason } from './observers.js';
export { IncomingRequest } from './request.js';
export { type RequestHandler, Resource, type ResourceAttributes, type ResourceOptions } from './resources.js';
export { CoapResponse } from './response.js';
export type { CoapResponseInit } from './response-init.js';
export {
  CoapServer,
  type CoapServerEvents,
  type CoapServerOptions,
  type CoapServerStats,
  type ObserverInfo,
  type PendingServerRequest,
} from './server.js';
export { type Clock, systemClock } from './timers.js';
export { DEFAULT_TRANSMISSION, type DerivedTimes, deriveTimes, type TransmissionParameters } from './transmission.js';
