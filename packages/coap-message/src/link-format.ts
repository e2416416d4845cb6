import { CoapMessageError } from './errors.js';

/** A link-format attribute value: text (quoted), a number (bare), `true` (a flag such as `obs`). */
export type LinkAttributeValue = string | number | true;

/** One link of an RFC 6690 document. Repeated attributes are kept as arrays. */
export interface Link {
  href: string;
  attributes: Record<string, LinkAttributeValue | LinkAttributeValue[]>;
}

const PTOKEN = /^[!#$%&'()*+\-./:<=>?@[\]^_`{|}~A-Za-z0-9]+$/;

function formatValue(name: string, v: LinkAttributeValue): string {
  if (v === true) return name;
  if (typeof v === 'number') return `${name}=${v}`;
  return `${name}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Serialises links as `application/link-format` (RFC 6690 §2). */
export function formatLinks(links: readonly Link[]): string {
  return links
    .map((l) => {
      let s = `<${l.href}>`;
      for (const [name, value] of Object.entries(l.attributes)) {
        for (const v of Array.isArray(value) ? value : [value]) s += `;${formatValue(name, v)}`;
      }
      return s;
    })
    .join(',');
}

function linkError(message: string): CoapMessageError {
  return new CoapMessageError('ERR_COAP_LINK_FORMAT', message);
}

/**
 * Parses `application/link-format` text. Quoted values become strings, bare numeric values
 * numbers, bare other values strings, and parameters without a value `true`.
 */
export function parseLinks(text: string): Link[] {
  const links: Link[] = [];
  let i = 0;
  const n = text.length;
  const skipWs = () => {
    while (i < n && /\s/.test(text[i] as string)) i++;
  };
  skipWs();
  if (i === n) return links;
  for (;;) {
    skipWs();
    if (text[i] !== '<') throw linkError(`expected '<' at ${i}`);
    const close = text.indexOf('>', i);
    if (close < 0) throw linkError('unterminated URI reference');
    const link: Link = { href: text.slice(i + 1, close), attributes: {} };
    i = close + 1;
    skipWs();
    while (text[i] === ';') {
      i++;
      skipWs();
      const start = i;
      while (i < n && /[A-Za-z0-9!#$&+\-.^_`|~*]/.test(text[i] as string)) i++;
      const name = text.slice(start, i);
      if (name === '') throw linkError(`empty parameter name at ${start}`);
      skipWs();
      let value: LinkAttributeValue = true;
      if (text[i] === '=') {
        i++;
        skipWs();
        if (text[i] === '"') {
          i++;
          let s = '';
          while (i < n && text[i] !== '"') {
            if (text[i] === '\\' && i + 1 < n) i++;
            s += text[i];
            i++;
          }
          if (i >= n) throw linkError('unterminated quoted string');
          i++;
          value = s;
        } else {
          const vs = i;
          while (i < n && text[i] !== ';' && text[i] !== ',') i++;
          const raw = text.slice(vs, i).trim();
          if (!PTOKEN.test(raw)) throw linkError(`invalid parameter value ${JSON.stringify(raw)}`);
          value = /^\d+$/.test(raw) ? Number(raw) : raw;
        }
      }
      const prev = link.attributes[name];
      link.attributes[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
      skipWs();
    }
    links.push(link);
    if (i === n) return links;
    if (text[i] !== ',') throw linkError(`expected ',' at ${i}`);
    i++;
  }
}

/**
 * RFC 6690 §4.1 query filtering: `href=…` or `<attribute>=…`, with a trailing `*` for a prefix
 * match. Space-separated attribute values (`rt="a b"`) match any of their words.
 */
export function filterLinks(links: readonly Link[], query: string | undefined): Link[] {
  if (query === undefined || query === '') return [...links];
  const eq = query.indexOf('=');
  const name = eq < 0 ? query : query.slice(0, eq);
  const pattern = eq < 0 ? '' : query.slice(eq + 1);
  const prefix = pattern.endsWith('*');
  const want = prefix ? pattern.slice(0, -1) : pattern;
  const matches = (v: string) => (prefix ? v.startsWith(want) : v === want);
  return links.filter((l) => {
    if (name === 'href') return matches(l.href);
    const a = l.attributes[name];
    if (a === undefined) return false;
    if (eq < 0) return true;
    for (const v of Array.isArray(a) ? a : [a]) {
      if (v === true) {
        if (want === '' && prefix) return true;
        continue;
      }
      const s = String(v);
      if (matches(s) || s.split(' ').some(matches)) return true;
    }
    return false;
  });
}
