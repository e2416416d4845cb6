import {
  type CoapOption,
  type CodeString,
  codeFromString,
  encodeUint,
  OptionNumber,
  ResponseCode,
  stringOption,
} from '@iotwire/coap-message';
import { CoapError } from './errors.js';

/** What a server handler returns (or passes to `respond`) to answer a request. */
export interface CoapResponseInit {
  /** Response code, `"2.05"` or its number. Default: 2.05 for GET/FETCH, 2.04 for POST/PUT/PATCH/iPATCH, 2.02 for DELETE. */
  code?: CodeString | (string & {}) | number;
  /** Body; strings are sent as UTF-8. */
  payload?: string | Uint8Array;
  /** Content-Format (omitted when undefined; 0 is text/plain and is sent). */
  contentFormat?: number;
  /** ETag (1–8 bytes). */
  etag?: Uint8Array;
  /** Max-Age in seconds (RFC 7252 default 60 when absent). */
  maxAge?: number;
  /** Location-Path of a created resource: a path string (`'a/b'`) or its segments. */
  locationPath?: string | readonly string[];
  /** Location-Query arguments. */
  locationQuery?: readonly string[];
  /** More options; Content-Format, ETag, Max-Age, Location-* and Observe/Block options set above or by the server win. */
  options?: readonly CoapOption[];
  /** Message type for a separate response or a notification. Default: the server's setting. */
  type?: 'CON' | 'NON';
}

const EMPTY = Buffer.alloc(0);
const FORMAT_OPTIONS = new Map<number, CoapOption>();

/** A cached Content-Format option (responses use a handful of formats). */
export function contentFormatOption(format: number): CoapOption {
  let o = FORMAT_OPTIONS.get(format);
  if (o === undefined) {
    if (!Number.isInteger(format) || format < 0 || format > 65535)
      throw new CoapError('ERR_COAP_OPTION', `invalid Content-Format ${format}`);
    o = { number: OptionNumber.ContentFormat, value: encodeUint(format) };
    if (FORMAT_OPTIONS.size < 256) FORMAT_OPTIONS.set(format, o);
  }
  return o;
}

const MAX_AGE_OPTIONS: CoapOption[] = [];

/** A Max-Age option; small values are cached (a server usually sends one or two). */
export function maxAgeOption(seconds: number): CoapOption {
  if (Number.isInteger(seconds) && seconds >= 0 && seconds < 256) {
    let o = MAX_AGE_OPTIONS[seconds];
    if (o === undefined) {
      o = { number: OptionNumber.MaxAge, value: encodeUint(seconds) };
      MAX_AGE_OPTIONS[seconds] = o;
    }
    return o;
  }
  return { number: OptionNumber.MaxAge, value: encodeUint(seconds) };
}

export function toPayload(payload: string | Uint8Array | undefined): Buffer {
  if (payload === undefined) return EMPTY;
  if (typeof payload === 'string') return payload.length === 0 ? EMPTY : Buffer.from(payload, 'utf8');
  return Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}

const CODE_CACHE = new Map<string, number>();

/** Resolves a response code; throws 707 for anything that is not a response code (2.xx–5.xx). */
export function responseCode(code: string | number | undefined, fallback: number): number {
  if (code === undefined) return fallback;
  let n: number;
  if (typeof code === 'number') n = code;
  else {
    const c = CODE_CACHE.get(code);
    if (c !== undefined) n = c;
    else {
      try {
        n = codeFromString(code);
      } catch {
        throw new CoapError('ERR_COAP_RESPONSE_CODE', `invalid response code ${JSON.stringify(code)}`);
      }
      if (CODE_CACHE.size < 256) CODE_CACHE.set(code, n);
    }
  }
  const cls = n >> 5;
  if (!Number.isInteger(n) || n > 255 || (cls !== 2 && cls !== 4 && cls !== 5)) {
    throw new CoapError('ERR_COAP_RESPONSE_CODE', `not a response code: ${String(code)}`);
  }
  return n;
}

/** Default success code per method (RFC 7252 §5.8, RFC 8132). */
export function defaultCode(method: number): number {
  switch (method) {
    case 1:
    case 5:
      return ResponseCode.Content;
    case 4:
      return ResponseCode.Deleted;
    default:
      return ResponseCode.Changed;
  }
}

/** The options a response init asks for (unsorted; the encoder sorts). */
export function responseOptions(init: CoapResponseInit): CoapOption[] {
  const out: CoapOption[] = [];
  let own = 0; // bitmask of the typed fields present, to filter duplicates from init.options
  if (init.contentFormat !== undefined) {
    out.push(contentFormatOption(init.contentFormat));
    own |= 1;
  }
  if (init.etag !== undefined) {
    if (init.etag.length < 1 || init.etag.length > 8)
      throw new CoapError('ERR_COAP_OPTION', `ETag must be 1–8 bytes, got ${init.etag.length}`);
    out.push({ number: OptionNumber.ETag, value: init.etag });
    own |= 2;
  }
  if (init.maxAge !== undefined) {
    out.push(maxAgeOption(init.maxAge));
    own |= 4;
  }
  if (init.locationPath !== undefined) {
    const segs =
      typeof init.locationPath === 'string'
        ? init.locationPath
            .replace(/^\//, '')
            .split('/')
            .filter((s, _i, a) => s !== '' || a.length > 1)
        : init.locationPath;
    for (const s of segs) out.push(stringOption(OptionNumber.LocationPath, s));
    own |= 8;
  }
  if (init.locationQuery !== undefined) {
    for (const q of init.locationQuery) out.push(stringOption(OptionNumber.LocationQuery, q));
    own |= 16;
  }
  if (init.options !== undefined) {
    for (const o of init.options) {
      const n = o.number;
      if (n === OptionNumber.Observe || n === OptionNumber.Block1 || n === OptionNumber.Block2 || n === OptionNumber.Size2) continue;
      if ((n === OptionNumber.ContentFormat && own & 1) || (n === OptionNumber.ETag && own & 2) || (n === OptionNumber.MaxAge && own & 4))
        continue;
      if ((n === OptionNumber.LocationPath && own & 8) || (n === OptionNumber.LocationQuery && own & 16)) continue;
      out.push(o);
    }
  }
  return out;
}
