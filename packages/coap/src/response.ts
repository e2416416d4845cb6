import { type CodeString, codeName, codeToString, type DecodedOption, decodeUint, OptionNumber } from '@iotwire/coap-message';
import type { PeerAddress } from '@iotwire/udp';

/** A response as the client sees it (seed `Response*` fields, per exchange). */
export class CoapResponse {
  /** `"2.05"` and so on (seed `ResponseCode`). */
  readonly code: CodeString;

  constructor(
    /** The 8-bit code. */
    readonly codeNumber: number,
    readonly type: 'CON' | 'NON' | 'ACK',
    readonly messageId: number,
    readonly token: Buffer,
    /** Options of the (last) response message; Block2/Size2 describe the last block. */
    readonly options: readonly DecodedOption[],
    /** The body, reassembled when it came in Block2 blocks. */
    readonly payload: Buffer,
    readonly peer: PeerAddress,
    /** The DTLS session/epoch it arrived on (undefined over plain UDP). */
    readonly securityContext: unknown,
  ) {
    this.code = codeToString(codeNumber);
  }

  /** True for 2.xx (seed: ErrorCode 0); false for 4.xx/5.xx (seed: 709). */
  get ok(): boolean {
    return this.codeNumber >> 5 === 2;
  }

  /** `'Content'`, `'Not Found'`... */
  get reason(): string {
    return codeName(this.codeNumber) ?? this.code;
  }

  option(number: number): DecodedOption | undefined {
    for (const o of this.options) if (o.number === number) return o;
    return undefined;
  }

  #uint(number: number): number | undefined {
    const o = this.option(number);
    return o === undefined ? undefined : decodeUint(o.value);
  }

  /** Content-Format, or `undefined` (seed `-1`). */
  get contentFormat(): number | undefined {
    return this.#uint(OptionNumber.ContentFormat);
  }

  get etag(): Buffer | undefined {
    return this.option(OptionNumber.ETag)?.value;
  }

  /** Max-Age in seconds (60 when absent, RFC 7252 §5.10.5). */
  get maxAge(): number {
    return this.#uint(OptionNumber.MaxAge) ?? 60;
  }

  /** Observe sequence value, when the response is a notification. */
  get observe(): number | undefined {
    return this.#uint(OptionNumber.Observe);
  }

  /** Location-Path joined with `/` (without a leading slash), or `undefined`. */
  get locationPath(): string | undefined {
    const segs = this.options.filter((o) => o.number === OptionNumber.LocationPath).map((o) => o.value.toString('utf8'));
    return segs.length === 0 ? undefined : segs.join('/');
  }

  get locationQuery(): string[] {
    return this.options.filter((o) => o.number === OptionNumber.LocationQuery).map((o) => o.value.toString('utf8'));
  }

  /** Body as UTF-8. */
  text(): string {
    return this.payload.toString('utf8');
  }

  /** Body parsed as JSON. */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }
}
