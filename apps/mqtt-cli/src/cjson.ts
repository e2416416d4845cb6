/**
 * JSON as cJSON (1.7.x, which mosquitto_sub links) parses and prints it, so `%j` and `%J`
 * print byte for byte what mosquitto_sub prints: strings are bytes (raw UTF-8 passes through,
 * control characters become `\u00XX`), numbers use `%1.15g` (or `%1.17g` when that does not
 * round-trip), objects keep duplicate keys and their order, `--pretty` indents with tabs.
 */

export type JsonValue =
  | { t: 'null' }
  | { t: 'bool'; v: boolean }
  | { t: 'num'; v: number }
  /** A string as bytes (cJSON strings are byte strings). */
  | { t: 'str'; v: Uint8Array }
  | { t: 'arr'; v: JsonValue[] }
  | { t: 'obj'; v: [key: Uint8Array, value: JsonValue][] };

/** Collects output bytes. */
export class ByteSink {
  #parts: Buffer[] = [];
  #text = '';

  text(s: string): this {
    this.#text += s;
    return this;
  }

  bytes(b: Uint8Array): this {
    if (this.#text) {
      this.#parts.push(Buffer.from(this.#text, 'utf8'));
      this.#text = '';
    }
    this.#parts.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength));
    return this;
  }

  toBuffer(): Buffer {
    if (this.#text) {
      this.#parts.push(Buffer.from(this.#text, 'utf8'));
      this.#text = '';
    }
    return this.#parts.length === 1 ? this.#parts[0]! : Buffer.concat(this.#parts);
  }
}

const HEX = '0123456789abcdef';

/** cJSON's print_string_ptr: quotes and escapes; bytes >= 0x20 (except `"` and `\`) pass raw. */
export function printJsonString(bytes: Uint8Array, out: ByteSink): void {
  let start = 0;
  out.text('"');
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    let esc: string | undefined;
    if (c === 0x22) esc = '\\"';
    else if (c === 0x5c) esc = '\\\\';
    else if (c < 0x20) {
      esc =
        c === 0x08
          ? '\\b'
          : c === 0x0c
            ? '\\f'
            : c === 0x0a
              ? '\\n'
              : c === 0x0d
                ? '\\r'
                : c === 0x09
                  ? '\\t'
                  : `\\u00${HEX[c >> 4]}${HEX[c & 15]}`;
    }
    if (esc !== undefined) {
      if (i > start) out.bytes(bytes.subarray(start, i));
      out.text(esc);
      start = i + 1;
    }
  }
  if (start < bytes.length) out.bytes(bytes.subarray(start));
  out.text('"');
}

function stripZeros(s: string): string {
  if (!s.includes('.')) return s;
  return s.replace(/0+$/, '').replace(/\.$/, '');
}

/** C's `printf("%1.<p>g", d)` for finite `d`. */
export function formatG(d: number, p: number): string {
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const [mant, e] = d.toExponential(p - 1).split('e') as [string, string];
  const exp = Number(e);
  if (exp < -4 || exp >= p) return `${stripZeros(mant)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return stripZeros(d.toFixed(p - 1 - exp));
}

const DBL_EPSILON = 2.220446049250313e-16;

/** cJSON's print_number. */
export function printJsonNumber(d: number): string {
  if (!Number.isFinite(d)) return 'null';
  const s = formatG(d, 15);
  const back = Number.parseFloat(s);
  const max = Math.max(Math.abs(back), Math.abs(d));
  return Math.abs(back - d) <= max * DBL_EPSILON ? s : formatG(d, 17);
}

/** cJSON_PrintUnformatted / cJSON_Print. */
export function printJson(value: JsonValue, pretty: boolean, out: ByteSink, depth = 0): void {
  switch (value.t) {
    case 'null':
      out.text('null');
      return;
    case 'bool':
      out.text(value.v ? 'true' : 'false');
      return;
    case 'num':
      out.text(printJsonNumber(value.v));
      return;
    case 'str':
      printJsonString(value.v, out);
      return;
    case 'arr': {
      out.text('[');
      value.v.forEach((item, i) => {
        if (i > 0) out.text(pretty ? ', ' : ',');
        printJson(item, pretty, out, depth + 1);
      });
      out.text(']');
      return;
    }
    case 'obj': {
      const d = depth + 1;
      out.text(pretty ? '{\n' : '{');
      value.v.forEach(([k, item], i) => {
        if (pretty) out.text('\t'.repeat(d));
        printJsonString(k, out);
        out.text(pretty ? ':\t' : ':');
        printJson(item, pretty, out, d);
        if (i < value.v.length - 1) out.text(',');
        if (pretty) out.text('\n');
      });
      if (pretty) out.text('\t'.repeat(d - 1));
      out.text('}');
      return;
    }
  }
}

/** cJSON's nesting limit (CJSON_NESTING_LIMIT). */
const NESTING_LIMIT = 1000;

class Parser {
  pos = 0;
  depth = 0;
  constructor(readonly b: Uint8Array) {}

  skipWs(): void {
    while (this.pos < this.b.length && this.b[this.pos]! <= 32) this.pos++;
  }

  literal(word: string): boolean {
    for (let i = 0; i < word.length; i++) if (this.b[this.pos + i] !== word.charCodeAt(i)) return false;
    this.pos += word.length;
    return true;
  }

  value(): JsonValue | undefined {
    const c = this.b[this.pos];
    if (c === undefined) return undefined;
    if (this.literal('null')) return { t: 'null' };
    if (this.literal('false')) return { t: 'bool', v: false };
    if (this.literal('true')) return { t: 'bool', v: true };
    if (c === 0x22) {
      const v = this.string();
      return v && { t: 'str', v };
    }
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === 0x5b) return this.array();
    if (c === 0x7b) return this.object();
    return undefined;
  }

  number(): JsonValue | undefined {
    let end = this.pos;
    // cJSON collects [0-9+-eE.] and lets strtod take the longest valid prefix.
    while (end < this.b.length && /[0-9+\-eE.]/.test(String.fromCharCode(this.b[end]!))) end++;
    const text = Buffer.from(this.b.subarray(this.pos, end)).toString('latin1');
    const m = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(text);
    if (!m) return undefined;
    this.pos += m[0].length;
    return { t: 'num', v: Number(m[0]) };
  }

  hex4(at: number): number {
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const ch = this.b[at + i]!;
      const d = ch >= 0x30 && ch <= 0x39 ? ch - 0x30 : ch >= 0x41 && ch <= 0x46 ? ch - 55 : ch >= 0x61 && ch <= 0x66 ? ch - 87 : -1;
      if (d < 0) return 0; // cJSON's parse_hex4 yields 0 for a bad digit
      v = v * 16 + d;
    }
    return v;
  }

  string(): Uint8Array | undefined {
    const b = this.b;
    let end = this.pos + 1;
    while (end < b.length && b[end] !== 0x22) {
      if (b[end] === 0x5c) {
        if (end + 1 >= b.length) return undefined;
        end++;
      }
      end++;
    }
    if (end >= b.length) return undefined;
    const out: number[] = [];
    let i = this.pos + 1;
    while (i < end) {
      const c = b[i]!;
      if (c !== 0x5c) {
        out.push(c);
        i++;
        continue;
      }
      const n = b[i + 1]!;
      let len = 2;
      switch (n) {
        case 0x62:
          out.push(0x08);
          break;
        case 0x66:
          out.push(0x0c);
          break;
        case 0x6e:
          out.push(0x0a);
          break;
        case 0x72:
          out.push(0x0d);
          break;
        case 0x74:
          out.push(0x09);
          break;
        case 0x22:
        case 0x5c:
        case 0x2f:
          out.push(n);
          break;
        case 0x75: {
          if (end - i < 6) return undefined;
          const first = this.hex4(i + 2);
          let cp = first;
          len = 6;
          if (first >= 0xdc00 && first <= 0xdfff) return undefined;
          if (first >= 0xd800 && first <= 0xdbff) {
            if (end - (i + 6) < 6 || b[i + 6] !== 0x5c || b[i + 7] !== 0x75) return undefined;
            const second = this.hex4(i + 8);
            if (second < 0xdc00 || second > 0xdfff) return undefined;
            cp = 0x10000 + (((first & 0x3ff) << 10) | (second & 0x3ff));
            len = 12;
          }
          out.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
          break;
        }
        default:
          return undefined;
      }
      i += len;
    }
    this.pos = end + 1;
    // cJSON strings end at a NUL (a decoded \u0000 cuts them).
    const nul = out.indexOf(0);
    return Uint8Array.from(nul >= 0 ? out.slice(0, nul) : out);
  }

  array(): JsonValue | undefined {
    if (this.depth >= NESTING_LIMIT) return undefined;
    this.depth++;
    this.pos++;
    this.skipWs();
    const items: JsonValue[] = [];
    if (this.b[this.pos] === 0x5d) {
      this.pos++;
      this.depth--;
      return { t: 'arr', v: items };
    }
    for (;;) {
      this.skipWs();
      const v = this.value();
      if (!v) return undefined;
      items.push(v);
      this.skipWs();
      if (this.b[this.pos] === 0x2c) {
        this.pos++;
        continue;
      }
      break;
    }
    if (this.b[this.pos] !== 0x5d) return undefined;
    this.pos++;
    this.depth--;
    return { t: 'arr', v: items };
  }

  object(): JsonValue | undefined {
    if (this.depth >= NESTING_LIMIT) return undefined;
    this.depth++;
    this.pos++;
    this.skipWs();
    const entries: [Uint8Array, JsonValue][] = [];
    if (this.b[this.pos] === 0x7d) {
      this.pos++;
      this.depth--;
      return { t: 'obj', v: entries };
    }
    for (;;) {
      this.skipWs();
      if (this.b[this.pos] !== 0x22) return undefined;
      const key = this.string();
      if (!key) return undefined;
      this.skipWs();
      if (this.b[this.pos] !== 0x3a) return undefined;
      this.pos++;
      this.skipWs();
      const v = this.value();
      if (!v) return undefined;
      entries.push([key, v]);
      this.skipWs();
      if (this.b[this.pos] === 0x2c) {
        this.pos++;
        continue;
      }
      break;
    }
    if (this.b[this.pos] !== 0x7d) return undefined;
    this.pos++;
    this.depth--;
    return { t: 'obj', v: entries };
  }
}

/**
 * cJSON_ParseWithOpts(payload, &end, require_null_terminated = true) as mosquitto_sub uses it
 * for `%J`: the whole payload must be one JSON value (surrounding white space allowed; a UTF-8
 * BOM is skipped). `undefined` when it is not. A NUL byte ends the C string, so it fails too.
 */
export function parseJson(bytes: Uint8Array): JsonValue | undefined {
  if (bytes.includes(0)) return undefined;
  const p = new Parser(bytes);
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) p.pos = 3;
  p.skipWs();
  const v = p.value();
  if (!v) return undefined;
  p.skipWs();
  return p.pos === bytes.length ? v : undefined;
}
