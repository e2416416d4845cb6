/** Handshake message types (RFC 5246 §7.4, RFC 6347 §4.3.2). */
export const HandshakeType = {
  HelloRequest: 0,
  ClientHello: 1,
  ServerHello: 2,
  HelloVerifyRequest: 3,
  Certificate: 11,
  ServerKeyExchange: 12,
  CertificateRequest: 13,
  ServerHelloDone: 14,
  CertificateVerify: 15,
  ClientKeyExchange: 16,
  Finished: 20,
} as const;
export type HandshakeType = (typeof HandshakeType)[keyof typeof HandshakeType];

/** Alert levels (RFC 5246 §7.2). */
export const AlertLevel = { Warning: 1, Fatal: 2 } as const;

/** Alert descriptions (RFC 5246 §7.2, RFC 4279, RFC 5746). */
export const AlertDescription = {
  CloseNotify: 0,
  UnexpectedMessage: 10,
  BadRecordMac: 20,
  RecordOverflow: 22,
  HandshakeFailure: 40,
  BadCertificate: 42,
  UnsupportedCertificate: 43,
  CertificateRevoked: 44,
  CertificateExpired: 45,
  CertificateUnknown: 46,
  IllegalParameter: 47,
  UnknownCa: 48,
  AccessDenied: 49,
  DecodeError: 50,
  DecryptError: 51,
  ProtocolVersion: 70,
  InsufficientSecurity: 71,
  InternalError: 80,
  UserCanceled: 90,
  NoRenegotiation: 100,
  UnsupportedExtension: 110,
  UnknownPskIdentity: 115,
} as const;
export type AlertDescription = (typeof AlertDescription)[keyof typeof AlertDescription];

const ALERT_NAMES = new Map<number, string>(Object.entries(AlertDescription).map(([k, v]) => [v, k]));
/** Human name of an alert description (`'HandshakeFailure'`), or `alert(<n>)`. */
export function alertName(description: number): string {
  return ALERT_NAMES.get(description) ?? `alert(${description})`;
}

/** TLS extension types used by DTLS 1.2 here. */
export const ExtensionType = {
  ServerName: 0,
  SupportedGroups: 10,
  EcPointFormats: 11,
  SignatureAlgorithms: 13,
  ClientCertificateType: 19,
  ServerCertificateType: 20,
  ExtendedMasterSecret: 23,
  SessionTicket: 35,
  RenegotiationInfo: 0xff01,
} as const;

/** Certificate types for RFC 7250 negotiation. */
export const CertificateType = { X509: 0, RawPublicKey: 2 } as const;
export type CertificateType = (typeof CertificateType)[keyof typeof CertificateType];

/** ClientCertificateType values in CertificateRequest (RFC 4492 §5.5). */
export const ClientCertificateTypeCode = { RsaSign: 1, EcdsaSign: 64 } as const;

/** Named groups (RFC 8422 / RFC 7748). */
export const NamedGroup = { secp256r1: 23, secp384r1: 24, x25519: 29 } as const;
export type NamedGroupName = 'secp256r1' | 'x25519';

/** SignatureAndHashAlgorithm codes (RFC 5246 §7.4.1.4.1, as 16-bit hash<<8|sig). */
export const SignatureScheme = {
  ecdsa_secp256r1_sha256: 0x0403,
  ecdsa_secp384r1_sha384: 0x0503,
  ecdsa_secp521r1_sha512: 0x0603,
  rsa_pkcs1_sha256: 0x0401,
  rsa_pkcs1_sha384: 0x0501,
} as const;

/** Signalling cipher suite value for secure renegotiation (RFC 5746 §3.3). */
export const TLS_EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;

/** Bytes in a DTLS handshake message header (RFC 6347 §4.2.2). */
export const HANDSHAKE_HEADER_SIZE = 12;
