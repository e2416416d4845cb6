import { CoapMessageError } from './errors.js';

/** A CoAP code as its 8-bit value: class (3 bits) and detail (5 bits), RFC 7252 §3. */
export type CodeNumber = number;
/** A CoAP code in dotted form, `"c.dd"`, e.g. `"2.05"`. */
export type CodeString = `${number}.${number}${number}`;

/** Converts `"c.dd"` to its 8-bit value. */
export function codeFromString(code: string): CodeNumber {
  const m = /^([0-7])\.([0-3][0-9])$/.exec(code);
  if (!m) throw new CoapMessageError('ERR_COAP_CODE', `not a CoAP code: ${JSON.stringify(code)}`);
  const detail = Number(m[2]);
  if (detail > 31) throw new CoapMessageError('ERR_COAP_CODE', `code detail above 31: ${code}`);
  return (Number(m[1]) << 5) | detail;
}

/** Converts an 8-bit code to `"c.dd"`. */
export function codeToString(code: CodeNumber): CodeString {
  if (!Number.isInteger(code) || code < 0 || code > 255) {
    throw new CoapMessageError('ERR_COAP_CODE', `code out of range: ${code}`);
  }
  return `${code >> 5}.${String(code & 0x1f).padStart(2, '0')}` as CodeString;
}

/** Class of a code: 0 request/empty, 2 success, 4 client error, 5 server error, 7 signaling. */
export function codeClass(code: CodeNumber): number {
  return code >> 5;
}
