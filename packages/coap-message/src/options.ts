/** Option numbers from the IANA "CoAP Option Numbers" registry that this codec knows. */
export const OptionNumber = {
  IfMatch: 1,
  UriHost: 3,
  ETag: 4,
  IfNoneMatch: 5,
  Observe: 6,
  UriPort: 7,
  LocationPath: 8,
  Oscore: 9,
  UriPath: 11,
  ContentFormat: 12,
  MaxAge: 14,
  UriQuery: 15,
  HopLimit: 16,
  Accept: 17,
  QBlock1: 19,
  LocationQuery: 20,
  Edhoc: 21,
  Block2: 23,
  Block1: 27,
  Size2: 28,
  QBlock2: 31,
  ProxyUri: 35,
  ProxyScheme: 39,
  Size1: 60,
  Echo: 252,
  NoResponse: 258,
  RequestTag: 292,
} as const;

/** Value formats of RFC 7252 §3.2. */
export type OptionFormat = 'empty' | 'opaque' | 'uint' | 'string';

export interface OptionDefinition {
  readonly number: number;
  readonly name: string;
  readonly format: OptionFormat;
  /** Smallest and largest value length in bytes. */
  readonly minLength: number;
  readonly maxLength: number;
  readonly repeatable: boolean;
  /** The RFC that registers it. */
  readonly rfc: number;
}

const def = (number: number, name: string, format: OptionFormat, minLength: number, maxLength: number, repeatable: boolean, rfc: number) =>
  Object.freeze({ number, name, format, minLength, maxLength, repeatable, rfc });

/** Every option this codec recognises, keyed by number. */
export const OPTION_DEFINITIONS: ReadonlyMap<number, OptionDefinition> = new Map(
  [
    def(1, 'If-Match', 'opaque', 0, 8, true, 7252),
    def(3, 'Uri-Host', 'string', 1, 255, false, 7252),
    def(4, 'ETag', 'opaque', 1, 8, true, 7252),
    def(5, 'If-None-Match', 'empty', 0, 0, false, 7252),
    def(6, 'Observe', 'uint', 0, 3, false, 7641),
    def(7, 'Uri-Port', 'uint', 0, 2, false, 7252),
    def(8, 'Location-Path', 'string', 0, 255, true, 7252),
    def(9, 'OSCORE', 'opaque', 0, 255, false, 8613),
    def(11, 'Uri-Path', 'string', 0, 255, true, 7252),
    def(12, 'Content-Format', 'uint', 0, 2, false, 7252),
    def(14, 'Max-Age', 'uint', 0, 4, false, 7252),
    def(15, 'Uri-Query', 'string', 0, 255, true, 7252),
    def(16, 'Hop-Limit', 'uint', 1, 1, false, 8768),
    def(17, 'Accept', 'uint', 0, 2, false, 7252),
    def(19, 'Q-Block1', 'uint', 0, 3, false, 9177),
    def(20, 'Location-Query', 'string', 0, 255, true, 7252),
    def(21, 'EDHOC', 'empty', 0, 0, false, 9668),
    def(23, 'Block2', 'uint', 0, 3, false, 7959),
    def(27, 'Block1', 'uint', 0, 3, false, 7959),
    def(28, 'Size2', 'uint', 0, 4, false, 7959),
    def(31, 'Q-Block2', 'uint', 0, 3, true, 9177),
    def(35, 'Proxy-Uri', 'string', 1, 1034, false, 7252),
    def(39, 'Proxy-Scheme', 'string', 1, 255, false, 7252),
    def(60, 'Size1', 'uint', 0, 4, false, 7252),
    def(252, 'Echo', 'opaque', 1, 40, false, 9175),
    def(258, 'No-Response', 'uint', 0, 1, false, 7967),
    def(292, 'Request-Tag', 'opaque', 0, 8, true, 9175),
  ].map((d) => [d.number, d] as const),
);

/** Critical options have odd numbers (RFC 7252 §5.4.6). */
export function isCritical(number: number): boolean {
  return (number & 1) === 1;
}

/** Unsafe-to-forward options have bit 1 set. */
export function isUnsafe(number: number): boolean {
  return (number & 2) === 2;
}

/** NoCacheKey options have bits 2–4 all set (`(n & 0x1e) === 0x1c`). */
export function isNoCacheKey(number: number): boolean {
  return (number & 0x1e) === 0x1c;
}

/** The registered name of an option, or `Option<number>` for unknown ones. */
export function optionName(number: number): string {
  return OPTION_DEFINITIONS.get(number)?.name ?? `Option${number}`;
}

const BY_NAME = new Map([...OPTION_DEFINITIONS.values()].map((d) => [d.name.toLowerCase(), d.number]));

/** Looks an option up by its registered name (case-insensitive), e.g. `'uri-path'` → 11. */
export function optionNumberByName(name: string): number | undefined {
  return BY_NAME.get(name.toLowerCase());
}
