export {
  Certificate,
  type CertificateInput,
  type CertificateStore,
  CertStoreType,
  type CertStoreTypeName,
  parsePemCertificates,
} from './certificate.js';
export { type ChainVerifyOptions, type ChainVerifyResult, verifyCertificateChain } from './chain.js';
export { ClientHelloCollector, type ClientHelloInfo, MAX_CLIENT_HELLO, parseClientHelloBody, signatureSchemeName } from './client-hello.js';
export { DerError } from './der.js';
export { TlsError, TlsErrorCode } from './errors.js';
export { colonHex, formatCertDate } from './format.js';
export {
  type AuthorityOptions,
  CertificateAuthority,
  type CertificateOptions,
  type CertificateUsage,
  createTestPki,
  generatePrivateKey,
  generateSelfSigned,
  type KeyOptions,
  type KeyType,
  type NamedCurve,
  type PemKeyPair,
  type TestPki,
  type TestPkiOptions,
} from './generate.js';
export { keyLogWriter } from './keylog.js';
export { type CertificatePin, pinMatches } from './pin.js';
export {
  type CreatePfxOptions,
  createPfx,
  type Pkcs12Certificate,
  type Pkcs12Contents,
  type Pkcs12Key,
  pkcs12Kdf,
  readPkcs12,
} from './pkcs12.js';
export {
  type ClientTlsInput,
  cipherStrength,
  cipherSuiteName,
  cipherSuitesToOpenssl,
  clientTlsOptions,
  createSecureContext,
  groupsToEcdhCurve,
  ianaCipherName,
  type PemInput,
  type ProtocolOptions,
  protocolOptions,
  type SecureContextInput,
  type ServerTlsInput,
  SslProtocol,
  secureContextOptions,
  serverTlsOptions,
  signatureAlgorithmsToSigalgs,
  type TlsSettings,
  type TlsVersionName,
  trustAnchors,
} from './settings.js';
export {
  type AcceptHandler,
  CertificateVerdict,
  clientCertificateVerdict,
  NO_CERTIFICATE,
  peerChain,
  runAcceptHandlers,
  serverCertificateVerdict,
  serverSideVerifyStatus,
} from './verdict.js';
export { type DnAttribute, formatDn, parseDn, readX509Fields, usageText, type X509Fields } from './x509-fields.js';
