import { CoapMessageError } from './errors.js';

/** A CoAP code as its 8-bit value: class (3 bits) and detail (5 bits), RFC 7252 §3. */
export type CodeNumber = number;
/** A CoAP code in dotted form, `"c.dd"`, e.g. `"2.05"`. */
export type CodeString = `${number}.${number}${number}`;

const CODE_RE = /^([0-7])\.([0-3][0-9])$/;

/** Converts `"c.dd"` to its 8-bit value. The detail is always two digits (`"2.05"`, never `"2.5"`). */
export function codeFromString(code: string): CodeNumber {
  const m = CODE_RE.exec(code);
  if (!m) throw new CoapMessageError('ERR_COAP_CODE', `not a CoAP code: ${JSON.stringify(code)}`);
  const detail = Number(m[2]);
  if (detail > 31) throw new CoapMessageError('ERR_COAP_CODE', `code detail above 31: ${code}`);
  return (Number(m[1]) << 5) | detail;
}

// Precomputed so formatting a response code on the hot path allocates nothing.
const CODE_STRINGS: CodeString[] = Array.from({ length: 256 }, (_, c) => `${c >> 5}.${String(c & 0x1f).padStart(2, '0')}` as CodeString);

/** Converts an 8-bit code to `"c.dd"`. */
export function codeToString(code: CodeNumber): CodeString {
  const s = Number.isInteger(code) ? CODE_STRINGS[code] : undefined;
  if (s === undefined) throw new CoapMessageError('ERR_COAP_CODE', `code out of range: ${code}`);
  return s;
}

/** Accepts a code as a number or a `"c.dd"` string and returns the number. */
export function toCodeNumber(code: CodeNumber | string): CodeNumber {
  if (typeof code === 'string') return codeFromString(code);
  codeToString(code);
  return code;
}

/** Class of a code: 0 request/empty, 2 success, 4 client error, 5 server error, 7 signaling. */
export function codeClass(code: CodeNumber): number {
  return code >> 5;
}

/** Detail of a code (the low 5 bits). */
export function codeDetail(code: CodeNumber): number {
  return code & 0x1f;
}

/** Request method codes (RFC 7252 §12.1.1, RFC 8132). */
export const Method = {
  GET: 1,
  POST: 2,
  PUT: 3,
  DELETE: 4,
  FETCH: 5,
  PATCH: 6,
  iPATCH: 7,
} as const;
export type MethodName = keyof typeof Method;

const METHOD_NAMES: Record<number, MethodName> = { 1: 'GET', 2: 'POST', 3: 'PUT', 4: 'DELETE', 5: 'FETCH', 6: 'PATCH', 7: 'iPATCH' };

/** `1` → `'GET'`; unregistered method codes (8–31) give `undefined`. */
export function methodName(code: CodeNumber): MethodName | undefined {
  return METHOD_NAMES[code];
}

/** True for the request codes 0.01–0.31. */
export function isRequestCode(code: CodeNumber): boolean {
  return code >= 1 && code <= 31;
}

/** True for response codes (classes 2, 4 and 5). */
export function isResponseCode(code: CodeNumber): boolean {
  const c = code >> 5;
  return c === 2 || c === 4 || c === 5;
}

/** True for the signaling codes 7.xx (RFC 8323). */
export function isSignalingCode(code: CodeNumber): boolean {
  return code >> 5 === 7;
}

/** Response codes registered by RFC 7252 §12.1.2, RFC 7959, RFC 8132, RFC 8516 and RFC 9175. */
export const ResponseCode = {
  Created: 0x41,
  Deleted: 0x42,
  Valid: 0x43,
  Changed: 0x44,
  Content: 0x45,
  Continue: 0x5f,
  BadRequest: 0x80,
  Unauthorized: 0x81,
  BadOption: 0x82,
  Forbidden: 0x83,
  NotFound: 0x84,
  MethodNotAllowed: 0x85,
  NotAcceptable: 0x86,
  RequestEntityIncomplete: 0x88,
  Conflict: 0x89,
  PreconditionFailed: 0x8c,
  RequestEntityTooLarge: 0x8d,
  UnsupportedContentFormat: 0x8f,
  UnprocessableEntity: 0x96,
  TooManyRequests: 0x9d,
  InternalServerError: 0xa0,
  NotImplemented: 0xa1,
  BadGateway: 0xa2,
  ServiceUnavailable: 0xa3,
  GatewayTimeout: 0xa4,
  ProxyingNotSupported: 0xa5,
  HopLimitReached: 0xa8,
} as const;

const REASON: Record<number, string> = {
  65: 'Created',
  66: 'Deleted',
  67: 'Valid',
  68: 'Changed',
  69: 'Content',
  95: 'Continue',
  128: 'Bad Request',
  129: 'Unauthorized',
  130: 'Bad Option',
  131: 'Forbidden',
  132: 'Not Found',
  133: 'Method Not Allowed',
  134: 'Not Acceptable',
  136: 'Request Entity Incomplete',
  137: 'Conflict',
  140: 'Precondition Failed',
  141: 'Request Entity Too Large',
  143: 'Unsupported Content-Format',
  150: 'Unprocessable Entity',
  157: 'Too Many Requests',
  160: 'Internal Server Error',
  161: 'Not Implemented',
  162: 'Bad Gateway',
  163: 'Service Unavailable',
  164: 'Gateway Timeout',
  165: 'Proxying Not Supported',
  168: 'Hop Limit Reached',
  225: 'CSM',
  226: 'Ping',
  227: 'Pong',
  228: 'Release',
  229: 'Abort',
};

/** Human-readable name of a code: `'Content'` for 2.05, a method name for requests, else `undefined`. */
export function codeName(code: CodeNumber): string | undefined {
  return REASON[code] ?? (code === 0 ? 'Empty' : METHOD_NAMES[code]);
}

/**
 * RFC 7252 §5.9: a client treats an unrecognised 4.xx as 4.00 and an unrecognised 5.xx as 5.00;
 * unrecognised 2.xx codes still mean success.
 */
export function normalizeResponseCode(code: CodeNumber): CodeNumber {
  if (REASON[code] !== undefined) return code;
  const c = code >> 5;
  if (c === 4) return 0x80;
  if (c === 5) return 0xa0;
  return code;
}
