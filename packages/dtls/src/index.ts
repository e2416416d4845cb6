export {
  type CertificateInput,
  type CertificateStatusCode,
  loadCertificates,
  type PrivateKeyInput,
  type PublicKeyInput,
  rawPublicKeyIdentity,
  SecurityFlags,
  spkiOf,
  type ValidationOptions,
  type ValidationResult,
  validateChain,
} from './certificates.js';
export {
  type BulkCipher,
  CIPHER_SUITES,
  type CipherSuite,
  cipherSuiteById,
  cipherSuiteByName,
  type KeyExchangeAlgorithm,
} from './cipher-suites.js';
export type { CloseReason } from './connection.js';
export { AlertDescription, AlertLevel, alertName, type NamedGroupName } from './constants.js';
export { DtlsClient, type DtlsClientEvents } from './dtls-client.js';
export { DtlsServer, type DtlsServerEvents } from './dtls-server.js';
export type { DtlsEndpointEvents } from './endpoint-base.js';
export { DtlsDecodeError, DtlsError, type DtlsErrorCode } from './errors.js';
export type { RetransmitOptions } from './flight.js';
export { keyLogLine } from './key-schedule.js';
export {
  type ClientPskOption,
  type DtlsClientOptions,
  type DtlsCommonOptions,
  type DtlsServerOptions,
  EnabledProtocols,
  type PskCredentials,
  type ServerPskOptions,
} from './options.js';
export {
  ContentType,
  DTLS_1_0,
  DTLS_1_2,
  RECORD_HEADER_SIZE,
  type RecordHeader,
  readRecordHeader,
  writeRecordHeader,
} from './record-header.js';
export type { DtlsSecurityContext, DtlsSessionInfo } from './session-info.js';
export type { DtlsStats } from './stats.js';
export type { Timers } from './timers.js';
export { CertificateVerdict } from './verdict.js';
