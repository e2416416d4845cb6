/**
 * mosquitto_sub's output: payload only, `-v` (topic payload), or `-F` format strings with
 * `%` message fields (width, `-`/`0` flags and precision where mosquitto honours them), `@`
 * strftime sequences and `\` escapes. The quirks are mosquitto 2.0's, kept on purpose so the
 * same format prints the same bytes (e.g. `%-p` pads with as many blanks as the payload is
 * long, a `%x` width truncates to half the bytes).
 */
import type { PublishProperties } from '@iotwire/mqtt-packet';
import { ByteSink, type JsonValue, parseJson, printJson } from './cjson.js';
import { UsageError } from './errors.js';
import { convert, strftime } from './strftime.js';

/** What the formatter needs of a received message. */
export interface FormatMessage {
  topic: string;
  payload: Uint8Array;
  qos: number;
  retain: boolean;
  /** Packet identifier (0 for QoS 0). */
  mid: number;
  properties?: PublishProperties | undefined;
}

/** Wall-clock time with nanoseconds within the second. */
export interface Timestamp {
  date: Date;
  /** 0..999999999 */
  ns: number;
}

const PERCENT = new Set(['%', 'A', 'C', 'D', 'E', 'F', 'I', 'l', 'm', 'P', 'p', 'q', 'R', 'S', 'r', 't', 'j', 'J', 'U', 'x', 'X']);
const ESCAPES: Readonly<Record<string, string>> = { '\\': '\\', '0': '\0', a: '\x07', e: '\x1b', n: '\n', r: '\r', t: '\t', v: '\v' };

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';

/** mosquitto's check_format: throws the same messages for the same mistakes. */
export function checkFormat(str: string): void {
  const len = str.length;
  const incomplete = () => new UsageError('Incomplete format specifier.');
  for (let i = 0; i < len; i++) {
    const c = str[i];
    if (c === '%') {
      if (i === len - 1) throw incomplete();
      if (str[i + 1] === '0' || str[i + 1] === '-') {
        i++;
        if (i === len - 1) throw incomplete();
      }
      while (isDigit(str[i + 1])) {
        i++;
        if (i === len - 1) throw incomplete();
      }
      if (str[i + 1] === '.') {
        i++;
        if (i === len - 1) throw incomplete();
        while (isDigit(str[i + 1])) {
          i++;
          if (i === len - 1) throw incomplete();
        }
      }
      if (!PERCENT.has(str[i + 1]!)) throw new UsageError(`Invalid format specifier '${str[i + 1]}'.`);
      i++;
    } else if (c === '@') {
      if (i === len - 1) throw incomplete();
      i++;
    } else if (c === '\\') {
      if (i === len - 1) throw new UsageError('Incomplete escape specifier.');
      if (ESCAPES[str[i + 1]!] === undefined) throw new UsageError(`Invalid escape specifier '${str[i + 1]}'.`);
      i++;
    }
  }
}

type Segment =
  | { k: 'lit'; bytes: Buffer }
  | { k: 'pct'; c: string; left: boolean; pad: ' ' | '0'; width: number; precision: number }
  | { k: 'time'; c: string }
  | { k: 'ns' };

/** Splits a checked format into segments, walking it as mosquitto's formatted_print does. */
export function compileFormat(f: string): Segment[] {
  const out: Segment[] = [];
  let text = '';
  const flush = () => {
    if (text) out.push({ k: 'lit', bytes: Buffer.from(text, 'utf8') });
    text = '';
  };
  const len = f.length;
  for (let i = 0; i < len; i++) {
    const c = f[i]!;
    if (c === '%') {
      if (i >= len - 1) continue;
      let left = false;
      let pad: ' ' | '0' = ' ';
      let width = 0;
      let precision = -1;
      i++;
      if (f[i] === '-') {
        left = true;
        if (i < len - 1) i++;
      }
      if (f[i] === '0') {
        pad = '0';
        if (i < len - 1) i++;
      }
      while (i < len - 1 && isDigit(f[i])) width = width * 10 + Number(f[i++]);
      if (f[i] === '.' && i < len - 1) {
        i++;
        precision = 0;
        while (i < len - 1 && isDigit(f[i])) precision = precision * 10 + Number(f[i++]);
      }
      flush();
      out.push({ k: 'pct', c: f[i]!, left, pad, width, precision });
    } else if (c === '@') {
      if (i >= len - 1) continue;
      const n = f[++i]!;
      if (n === '@') text += '@';
      else {
        flush();
        out.push(n === 'N' ? { k: 'ns' } : { k: 'time', c: n });
      }
    } else if (c === '\\') {
      if (i >= len - 1) continue;
      text += ESCAPES[f[++i]!] ?? '';
    } else {
      text += c;
    }
  }
  flush();
  return out;
}

const HEX_LOWER = '0123456789abcdef';
const HEX_UPPER = '0123456789ABCDEF';

/** write_payload: raw or hex, with mosquitto's width arithmetic. */
function writePayload(out: ByteSink, payload: Uint8Array, hex: 0 | 1 | 2, left: boolean, pad: string, width: number): void {
  let n = payload.length;
  let padlen: number;
  if (width > 0) {
    if (n > width) n = width;
    if (hex > 0) {
      n = Math.floor(n / 2);
      padlen = width - n * 2;
    } else {
      padlen = width - n;
    }
  } else {
    padlen = width - n;
  }
  if (!left && padlen > 0) out.text(pad.repeat(padlen));
  if (hex === 0) out.bytes(payload.subarray(0, n));
  else {
    const digits = hex === 1 ? HEX_LOWER : HEX_UPPER;
    let s = '';
    for (let i = 0; i < n; i++) s += digits[payload[i]! >> 4]! + digits[payload[i]! & 15]!;
    out.text(s);
  }
  // printf("%*s", padlen, ""): a negative width left-justifies, so |padlen| blanks either way.
  if (left) out.text(' '.repeat(Math.abs(padlen)));
}

/** formatted_print_int: printf %d, %-*d, %0*d or %*d. */
function formatInt(v: number, left: boolean, pad: string, width: number): string {
  const s = String(v);
  if (width === 0) return s;
  if (left) return s.padEnd(width);
  if (pad === '0') return v < 0 ? `-${String(-v).padStart(width - 1, '0')}` : s.padStart(width, '0');
  return s.padStart(width);
}

/** formatted_print_str: printf %s with width and precision, counted in bytes as C does. */
function writeStr(out: ByteSink, value: Uint8Array, left: boolean, width: number, precision: number): void {
  const v = precision >= 0 && value.length > precision ? value.subarray(0, precision) : value;
  const fill = width > v.length ? ' '.repeat(width - v.length) : '';
  if (!left && fill) out.text(fill);
  out.bytes(v);
  if (left && fill) out.text(fill);
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const str = (s: string): JsonValue => ({ t: 'str', v: utf8(s) });
const num = (v: number): JsonValue => ({ t: 'num', v });

/** The `properties` object of `%j`/`%J`, in the order the properties arrived (as cJSON builds it). */
function jsonProperties(p: PublishProperties): JsonValue | undefined {
  const entries: [Uint8Array, JsonValue][] = [];
  for (const key of Object.keys(p) as (keyof PublishProperties)[]) {
    const v = p[key];
    if (v === undefined) continue;
    switch (key) {
      case 'payloadFormatIndicator':
        entries.push([utf8('payload-format-indicator'), num(v as number)]);
        break;
      case 'messageExpiryInterval':
        entries.push([utf8('message-expiry-interval'), num(v as number)]);
        break;
      case 'contentType':
        entries.push([utf8('content-type'), str(v as string)]);
        break;
      case 'responseTopic':
        entries.push([utf8('response-topic'), str(v as string)]);
        break;
      case 'correlationData':
        entries.push([utf8('correlation-data'), { t: 'str', v: v as Uint8Array }]);
        break;
      case 'subscriptionIdentifiers':
        for (const id of v as number[]) entries.push([utf8('subscription-identifier'), num(id)]);
        break;
      case 'topicAlias':
        entries.push([utf8('topic-alias'), num(v as number)]);
        break;
      case 'userProperties': {
        const pairs = (v as [string, string][]).map(([k, val]): [Uint8Array, JsonValue] => [utf8(k), str(val)]);
        if (pairs.length) entries.push([utf8('user-properties'), { t: 'obj', v: pairs }]);
        break;
      }
    }
  }
  return entries.length ? { t: 'obj', v: entries } : undefined;
}

/** The `tst` of `%j`: mosquitto's "%Y-%m-%dT%H:%M:%S.uuuuuuZ%z" (sic: a Z before the offset). */
function jsonTimestamp(t: Timestamp): string {
  return `${strftime('%Y-%m-%dT%H:%M:%S', t.date)}.${String(Math.floor(t.ns / 1000)).padStart(6, '0')}Z${strftime('%z', t.date)}`;
}

let anchor: bigint | undefined;
/** Wall clock with nanosecond resolution: Date.now() anchored once, then the monotonic clock. */
export function systemTimestamp(): Timestamp {
  const hr = process.hrtime.bigint();
  anchor ??= BigInt(Date.now()) * 1_000_000n - hr;
  const epochNs = anchor + hr;
  const ms = Number(epochNs / 1_000_000n);
  return { date: new Date(ms), ns: Number(epochNs % 1_000_000_000n) };
}

export interface OutputOptions {
  /** `-F` format (already checked with {@link checkFormat}). */
  format?: string | undefined;
  /** `-v`. */
  verbose?: boolean;
  /** Append a newline (false with `-N`). Default true. */
  eol?: boolean;
  /** `--pretty` for %j/%J. */
  pretty?: boolean;
  /** Reports a per-message problem (`%J` on a non-JSON payload). */
  onError?: (message: string) => void;
  /** Clock (tests). */
  now?: () => Timestamp;
}

/** Renders received messages as mosquitto_sub prints them. */
export class OutputFormatter {
  readonly #segments: Segment[] | undefined;
  readonly #verbose: boolean;
  readonly #eol: boolean;
  readonly #pretty: boolean;
  readonly #onError: (message: string) => void;
  readonly #now: () => Timestamp;

  constructor(o: OutputOptions = {}) {
    if (o.format !== undefined) {
      checkFormat(o.format);
      this.#segments = compileFormat(o.format);
    }
    this.#verbose = o.verbose ?? false;
    this.#eol = o.eol ?? true;
    this.#pretty = o.pretty ?? false;
    this.#onError = o.onError ?? (() => {});
    this.#now = o.now ?? systemTimestamp;
  }

  /** The bytes to print for `m`, or undefined when mosquitto prints nothing (empty payload). */
  render(m: FormatMessage): Buffer | undefined {
    if (this.#segments) return this.#formatted(m);
    const out = new ByteSink();
    if (this.#verbose) {
      if (m.payload.length) {
        out.bytes(utf8(`${m.topic} `)).bytes(m.payload);
        if (this.#eol) out.text('\n');
      } else if (this.#eol) {
        out.bytes(utf8(`${m.topic} (null)\n`));
      } else {
        return undefined;
      }
      return out.toBuffer();
    }
    if (!m.payload.length) return undefined;
    out.bytes(m.payload);
    if (this.#eol) out.text('\n');
    return out.toBuffer();
  }

  #formatted(m: FormatMessage): Buffer {
    const out = new ByteSink();
    let time: Timestamp | undefined;
    const now = () => (time ??= this.#now());
    for (const s of this.#segments!) {
      switch (s.k) {
        case 'lit':
          out.bytes(s.bytes);
          break;
        case 'ns':
          out.text(String(now().ns).padStart(9, '0'));
          break;
        case 'time':
          out.text(convert(s.c, now().date));
          break;
        case 'pct':
          this.#field(out, m, s, now);
          break;
      }
    }
    if (this.#eol) out.text('\n');
    return out.toBuffer();
  }

  #field(out: ByteSink, m: FormatMessage, s: Extract<Segment, { k: 'pct' }>, now: () => Timestamp): void {
    const p = m.properties;
    const int = (v: number | undefined, blankPad: string) => {
      if (v === undefined) out.text(blankPad.repeat(s.width));
      else out.text(formatInt(v | 0, s.left, s.pad, s.width)); // C casts to int
    };
    switch (s.c) {
      case '%':
        out.text('%');
        break;
      case 'A':
        int(p?.topicAlias, s.pad);
        break;
      case 'C':
        if (p?.contentType !== undefined) writeStr(out, utf8(p.contentType), s.left, s.width, s.precision);
        else out.text(' '.repeat(s.width));
        break;
      case 'D':
        if (p?.correlationData !== undefined) out.bytes(p.correlationData);
        break;
      case 'E':
        int(p?.messageExpiryInterval, s.pad);
        break;
      case 'F':
        int(p?.payloadFormatIndicator, s.pad);
        break;
      case 'I':
        writeStr(out, utf8(strftime('%FT%T%z', now().date)), s.left, s.width, s.precision);
        break;
      case 'j':
      case 'J':
        this.#json(out, m, s.c === 'j', now());
        break;
      case 'l':
        out.text(formatInt(m.payload.length, s.left, s.pad, s.width));
        break;
      case 'm':
        out.text(formatInt(m.mid, s.left, s.pad, s.width));
        break;
      case 'P':
        out.bytes(utf8((p?.userProperties ?? []).map(([k, v]) => `${k}:${v}`).join(' ')));
        break;
      case 'p':
        writePayload(out, m.payload, 0, s.left, s.pad, s.width);
        break;
      case 'q':
        out.text(String.fromCharCode(m.qos + 48));
        break;
      case 'R':
        if (p?.responseTopic !== undefined) writeStr(out, utf8(p.responseTopic), s.left, s.width, s.precision);
        break;
      case 'r':
        out.text(m.retain ? '1' : '0');
        break;
      case 'S':
        int(p?.subscriptionIdentifiers?.[0], s.pad);
        break;
      case 't':
        writeStr(out, utf8(m.topic), s.left, s.width, s.precision);
        break;
      case 'U': {
        const t = now();
        out.text(`${Math.floor(t.date.getTime() / 1000)}.${String(t.ns).padStart(9, '0')}`);
        break;
      }
      case 'x':
        writePayload(out, m.payload, 1, s.left, s.pad, s.width);
        break;
      case 'X':
        writePayload(out, m.payload, 2, s.left, s.pad, s.width);
        break;
    }
  }

  #json(out: ByteSink, m: FormatMessage, escaped: boolean, t: Timestamp): void {
    let payload: JsonValue;
    if (!m.payload.length) payload = { t: 'null' };
    else if (escaped) payload = { t: 'str', v: m.payload };
    else {
      const parsed = parseJson(m.payload);
      if (!parsed) {
        this.#onError(`Error: Message payload is not valid JSON on topic ${m.topic}.`);
        return;
      }
      payload = parsed;
    }
    const entries: [Uint8Array, JsonValue][] = [
      [utf8('tst'), str(jsonTimestamp(t))],
      [utf8('topic'), str(m.topic)],
      [utf8('qos'), num(m.qos)],
      [utf8('retain'), num(m.retain ? 1 : 0)],
      [utf8('payloadlen'), num(m.payload.length)],
    ];
    if (m.qos > 0) entries.push([utf8('mid'), num(m.mid)]);
    const props = m.properties && jsonProperties(m.properties);
    if (props) entries.push([utf8('properties'), props]);
    entries.push([utf8('payload'), payload]);
    printJson({ t: 'obj', v: entries }, this.#pretty, out);
  }
}
