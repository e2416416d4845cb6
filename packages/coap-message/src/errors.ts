/** Stable codes of {@link CoapMessageError}. */
export type CoapMessageErrorCode =
  /** Datagram shorter than the 4-byte header, or a field runs past the end. */
  | 'ERR_COAP_TRUNCATED'
  /** Version field other than 1 (RFC 7252 §3: such messages are silently ignored). */
  | 'ERR_COAP_VERSION'
  /** Token length 9–15 (reserved). */
  | 'ERR_COAP_TOKEN_LENGTH'
  /** Option delta or length nibble 15 outside a payload marker (reserved). */
  | 'ERR_COAP_OPTION_NIBBLE'
  /** Payload marker followed by a zero-length payload. */
  | 'ERR_COAP_EMPTY_PAYLOAD'
  /** An Empty message (code 0.00) with a token, options or payload. */
  | 'ERR_COAP_EMPTY_MESSAGE'
  /** A code outside 0–255 or a malformed `"c.dd"` string. */
  | 'ERR_COAP_CODE'
  /** An option number outside 1–65535 or a value that does not fit its format. */
  | 'ERR_COAP_OPTION'
  /** A header field (type, message ID, token) out of range when encoding. */
  | 'ERR_COAP_FIELD'
  /** A malformed Block1/Block2 value or size. */
  | 'ERR_COAP_BLOCK'
  /** A malformed or unsupported URI. */
  | 'ERR_COAP_URI'
  /** Malformed RFC 6690 link-format text. */
  | 'ERR_COAP_LINK_FORMAT'
  /** An RFC 8323 frame larger than the configured limit. */
  | 'ERR_COAP_FRAME_TOO_LARGE';

/** What could be read of the header before a decoding error, so a CON can be answered with RST. */
export interface PartialHeader {
  readonly type: number;
  readonly code: number;
  readonly messageId: number;
}

/** A typed CoAP codec error with a stable `code` and, where the seed has one, its error number. */
export class CoapMessageError extends Error {
  override readonly name = 'CoapMessageError';
  /** The header fields, when the 4-byte header was readable (decoding errors only). */
  readonly header: PartialHeader | undefined;

  constructor(
    readonly code: CoapMessageErrorCode,
    message: string,
    header?: PartialHeader,
  ) {
    super(message);
    this.header = header;
  }

  /**
   * The reference toolkit's error number: 700 malformed URI, 701 malformed option, 702 invalid
   * block, 703 malformed message, 707 invalid response code.
   */
  get errorNumber(): number {
    switch (this.code) {
      case 'ERR_COAP_URI':
        return 700;
      case 'ERR_COAP_OPTION':
        return 701;
      case 'ERR_COAP_BLOCK':
        return 702;
      case 'ERR_COAP_CODE':
        return 707;
      default:
        return 703;
    }
  }
}
