/** Content-Format numbers from the IANA "CoAP Content-Formats" registry (common subset). */
export const ContentFormat = {
  TextPlain: 0,
  CoseEncrypt0: 16,
  CoseMac0: 17,
  CoseSign1: 18,
  LinkFormat: 40,
  Xml: 41,
  OctetStream: 42,
  Exi: 47,
  Json: 50,
  JsonPatchJson: 51,
  MergePatchJson: 52,
  Cbor: 60,
  Cwt: 61,
  MultipartCore: 62,
  CborSeq: 63,
  SenmlJson: 110,
  SensmlJson: 111,
  SenmlCbor: 112,
  SensmlCbor: 113,
  SenmlExi: 114,
  SensmlExi: 115,
  CoapGroupJson: 256,
  PkixCert: 287,
  JsonDeflate: 11050,
  CborDeflate: 11060,
} as const;

const MEDIA_TYPES: Record<number, string> = {
  0: 'text/plain;charset=utf-8',
  16: 'application/cose;cose-type="cose-encrypt0"',
  17: 'application/cose;cose-type="cose-mac0"',
  18: 'application/cose;cose-type="cose-sign1"',
  40: 'application/link-format',
  41: 'application/xml',
  42: 'application/octet-stream',
  47: 'application/exi',
  50: 'application/json',
  51: 'application/json-patch+json',
  52: 'application/merge-patch+json',
  60: 'application/cbor',
  61: 'application/cwt',
  62: 'application/multipart-core',
  63: 'application/cbor-seq',
  110: 'application/senml+json',
  111: 'application/sensml+json',
  112: 'application/senml+cbor',
  113: 'application/sensml+cbor',
  114: 'application/senml-exi',
  115: 'application/sensml-exi',
  256: 'application/coap-group+json',
  287: 'application/pkix-cert',
  11050: 'application/json;content-coding=deflate',
  11060: 'application/cbor;content-coding=deflate',
};

/** The media type of a Content-Format number, or `undefined` when not in the table. */
export function mediaType(format: number): string | undefined {
  return MEDIA_TYPES[format];
}

const BY_TYPE = new Map(Object.entries(MEDIA_TYPES).map(([n, t]) => [t, Number(n)]));

/** The Content-Format number of a media type (`'text/plain'` is accepted for 0). */
export function contentFormatOf(type: string): number | undefined {
  const t = type.trim().toLowerCase();
  if (t === 'text/plain') return 0;
  return BY_TYPE.get(t);
}
