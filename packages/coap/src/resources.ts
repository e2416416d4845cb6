import { type Link, type LinkAttributeValue, splitPath } from '@iotwire/coap-message';
import type { IncomingRequest } from './request.js';
import type { CoapResponseInit } from './response-init.js';

/** A request handler: returns the response (or a Promise of it); `undefined` sends the method's default success code. */
export type RequestHandler = (req: IncomingRequest) => CoapResponseInit | undefined | void | Promise<CoapResponseInit | undefined | void>;

/** Link-format attributes a resource advertises in `/.well-known/core` (RFC 6690 §3). */
export interface ResourceAttributes {
  /** Resource type(s), `rt`. */
  rt?: string;
  /** Interface description, `if`. */
  if?: string;
  /** Content-Format(s), `ct`. */
  ct?: number | readonly number[];
  /** Maximum size estimate, `sz`. */
  sz?: number;
  title?: string;
  /** Anything else (`true` for a flag). */
  [name: string]: LinkAttributeValue | readonly (string | number)[] | undefined;
}

export interface ResourceOptions {
  get?: RequestHandler;
  post?: RequestHandler;
  put?: RequestHandler;
  delete?: RequestHandler;
  fetch?: RequestHandler;
  patch?: RequestHandler;
  ipatch?: RequestHandler;
  /** Accept RFC 7641 observe registrations (advertised as `obs`). Default false. */
  observable?: boolean;
  /** Link-format attributes for discovery. */
  attributes?: ResourceAttributes;
  /** Leave it out of `/.well-known/core`. Default false. */
  hidden?: boolean;
}

const METHOD_KEYS: Record<number, keyof ResourceOptions> = {
  1: 'get',
  2: 'post',
  3: 'put',
  4: 'delete',
  5: 'fetch',
  6: 'patch',
  7: 'ipatch',
};

/** A registered resource. */
export class Resource {
  /** Observe sequence value of the current state (24-bit). */
  observeSeq = 2;

  constructor(
    readonly path: string,
    public options: ResourceOptions,
  ) {}

  handlerFor(method: number): RequestHandler | undefined {
    const k = METHOD_KEYS[method];
    return k === undefined ? undefined : (this.options[k] as RequestHandler | undefined);
  }

  get observable(): boolean {
    return this.options.observable === true;
  }

  /** Its entry in `/.well-known/core`. */
  link(): Link {
    const attributes: Link['attributes'] = {};
    for (const [k, v] of Object.entries(this.options.attributes ?? {})) {
      if (v === undefined) continue;
      attributes[k] = Array.isArray(v) ? [...(v as (string | number)[])] : (v as LinkAttributeValue);
    }
    if (this.observable && attributes.obs === undefined) attributes.obs = true;
    return { href: this.path, attributes };
  }
}

/** Normalises `'a/b'`, `'/a/b'` and `'/a/b/'`-style paths to the router's `/a/b` form. */
export function normalizePath(path: string): string {
  if (path === '' || path === '/') return '/';
  const p = path.startsWith('/') ? path : `/${path}`;
  // Round-trip through the segment form so escaping matches what requests produce.
  const segs = splitPath(p);
  return segs.length === 0 ? '/' : p;
}

/** Resources by exact path, in registration order. */
export class ResourceRegistry {
  readonly #byPath = new Map<string, Resource>();

  get(path: string): Resource | undefined {
    return this.#byPath.get(path);
  }

  add(path: string, options: ResourceOptions): Resource {
    const p = normalizePath(path);
    const r = new Resource(p, options);
    this.#byPath.set(p, r);
    return r;
  }

  remove(path: string): Resource | undefined {
    const p = normalizePath(path);
    const r = this.#byPath.get(p);
    this.#byPath.delete(p);
    return r;
  }

  get size(): number {
    return this.#byPath.size;
  }

  all(): IterableIterator<Resource> {
    return this.#byPath.values();
  }

  links(): Link[] {
    const out: Link[] = [];
    for (const r of this.#byPath.values()) if (!r.options.hidden) out.push(r.link());
    return out;
  }
}
