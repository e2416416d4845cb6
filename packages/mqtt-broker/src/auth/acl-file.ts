/**
 * ACL files in Mosquitto's `acl_file` syntax:
 *
 * ```
 * # before any "user" line: rules for anonymous clients (no user name)
 * topic read public/#
 * user alice
 * topic readwrite alice/#
 * topic deny alice/secret
 * # for every client: %u = user name, %c = client id
 * pattern write devices/%c/state
 * pattern read users/%u/#
 * ```
 *
 * Access is `read`, `write`, `readwrite` (the default when omitted) or `deny`. A topic is allowed
 * when a rule of the client (its user's `topic` lines, or the anonymous ones, plus every
 * `pattern`) grants the access and no `deny` rule matches. Publishing needs `write`,
 * subscribing needs `read` on some topic the filter can match (and no `deny` covering the
 * whole filter), and every delivery needs `read` on the message's topic — so a `#` subscriber
 * only receives what it may read. Clients never publish to `$SYS/…`.
 */
import { readFile } from 'node:fs/promises';
import { topicMatches } from '@iotwire/mqtt-packet';
import { BrokerError, BrokerErrorCode } from '../errors.js';
import type { SubscribeEvent } from '../events.js';
import type { AuthorizeDeliveryArgs, AuthorizePublishArgs, BrokerHook } from '../hooks.js';

export type AclAccess = 'read' | 'write' | 'readwrite' | 'deny';

interface Rule {
  readonly access: AclAccess;
  readonly topic: string;
  /** Pattern rules: has %u / %c. */
  readonly pattern: boolean;
}

interface ParsedAcl {
  anonymous: Rule[];
  users: Map<string, Rule[]>;
  patterns: Rule[];
  byClientId: boolean;
}

const ACCESS = new Set(['read', 'write', 'readwrite', 'deny']);
const READ = 1;
const WRITE = 2;

function parse(text: string, source: string): ParsedAcl {
  const acl: ParsedAcl = { anonymous: [], users: new Map(), patterns: [], byClientId: false };
  let current: Rule[] = acl.anonymous;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    const where = `${source}:${i + 1}`;
    const sp = line.search(/\s/);
    const word = sp < 0 ? line : line.slice(0, sp);
    const rest = sp < 0 ? '' : line.slice(sp).trim();
    if (word === 'user') {
      if (rest === '') throw new BrokerError(BrokerErrorCode.AuthFile, `${where}: "user" needs a user name`);
      let list = acl.users.get(rest);
      if (list === undefined) {
        list = [];
        acl.users.set(rest, list);
      }
      current = list;
      continue;
    }
    if (word !== 'topic' && word !== 'pattern')
      throw new BrokerError(
        BrokerErrorCode.AuthFile,
        `${where}: unknown keyword ${JSON.stringify(word)} (expected user, topic or pattern)`,
      );
    let access: AclAccess = 'readwrite';
    let topic = rest;
    const sp2 = rest.search(/\s/);
    const first = sp2 < 0 ? rest : rest.slice(0, sp2);
    if (ACCESS.has(first) && sp2 > 0) {
      access = first as AclAccess;
      topic = rest.slice(sp2).trim();
    }
    if (topic === '') throw new BrokerError(BrokerErrorCode.AuthFile, `${where}: "${word}" needs a topic`);
    if (!validFilter(topic)) throw new BrokerError(BrokerErrorCode.AuthFile, `${where}: invalid topic filter ${JSON.stringify(topic)}`);
    if (word === 'pattern') {
      acl.patterns.push({ access, topic, pattern: true });
      if (topic.includes('%c')) acl.byClientId = true;
    } else current.push({ access, topic, pattern: false });
  }
  return acl;
}

function validFilter(f: string): boolean {
  const levels = f.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i] as string;
    if (l.includes('#') && (l !== '#' || i !== levels.length - 1)) return false;
    if (l.includes('+') && l !== '+') return false;
  }
  return true;
}

/** Does some topic match both filters? (level by level; `$` topics are not matched by leading wildcards) */
export function filtersOverlap(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; ; i++) {
    const p = x[i];
    const q = y[i];
    if (p === '#' || q === '#') {
      if (i === 0 && ((p === '#' && q?.startsWith('$')) || (q === '#' && p?.startsWith('$')))) return false;
      return true;
    }
    if (p === undefined || q === undefined) return p === undefined && q === undefined;
    if (p === '+' || q === '+') {
      if (i === 0 && ((p === '+' && q.startsWith('$')) || (q === '+' && p.startsWith('$')))) return false;
      continue;
    }
    if (p !== q) return false;
  }
}

/** Does every topic matching `inner` match `outer`? */
export function filterCovers(outer: string, inner: string): boolean {
  const o = outer.split('/');
  const n = inner.split('/');
  for (let i = 0; ; i++) {
    const p = o[i];
    const q = n[i];
    if (p === '#') return !(i === 0 && q !== undefined && q !== '#' && q !== '+' && q.startsWith('$'));
    if (p === undefined || q === undefined) return p === undefined && q === undefined;
    if (q === '#') return false;
    if (p === '+') {
      if (i === 0 && q.startsWith('$')) return false;
      continue;
    }
    if (q === '+' || p !== q) return false;
  }
}

/** A substituted pattern, or undefined when the value could widen it (contains a wildcard or level separator) or is missing. */
function substitute(topic: string, user: string, clientId: string): string | undefined {
  if (topic.includes('%u')) {
    if (user === '' || /[+#/]/.test(user)) return undefined;
    topic = topic.replaceAll('%u', user);
  }
  if (topic.includes('%c')) {
    if (clientId === '' || /[+#/]/.test(clientId)) return undefined;
    topic = topic.replaceAll('%c', clientId);
  }
  return topic;
}

const CACHE_MAX = 100_000;

/**
 * An ACL file. `load` reads and checks it; `reload` swaps in a new version only when the whole
 * file is valid. Decisions are cached per user, client and topic until the next reload.
 */
export class AclFile {
  #acl: ParsedAcl;
  #path: string | undefined;
  // user → client id ('' unless %c patterns exist) → topic → granted bits (READ | WRITE)
  #cache = new Map<string, Map<string, Map<string, number>>>();
  #cached = 0;

  private constructor(acl: ParsedAcl, path: string | undefined) {
    this.#acl = acl;
    this.#path = path;
  }

  /** Reads an ACL file; throws `ERR_AUTH_FILE` with file and line when it is unreadable or invalid. */
  static async load(path: string): Promise<AclFile> {
    return new AclFile(parse(await readText(path), path), path);
  }
  static parse(text: string, source = 'ACL file'): AclFile {
    return new AclFile(parse(text, source), undefined);
  }

  get path(): string | undefined {
    return this.#path;
  }

  /** Re-reads the file; on any error keeps the current rules and throws. */
  async reload(): Promise<void> {
    if (this.#path === undefined) throw new BrokerError(BrokerErrorCode.InvalidState, 'this ACL file was not loaded from a path');
    this.#acl = parse(await readText(this.#path), this.#path);
    this.#cache = new Map();
    this.#cached = 0;
  }

  #rules(user: string, clientId: string): Rule[] {
    const own = user === '' ? this.#acl.anonymous : (this.#acl.users.get(user) ?? []);
    const out = [...own];
    for (const p of this.#acl.patterns) {
      const topic = substitute(p.topic, user, clientId);
      if (topic !== undefined) out.push({ access: p.access, topic, pattern: true });
    }
    return out;
  }

  /** May this client publish to (`write`) or receive (`read`) `topic`? */
  check(user: string, clientId: string, topic: string, access: 'read' | 'write'): boolean {
    const bit = access === 'read' ? READ : WRITE;
    if (bit === WRITE && (topic.startsWith('$SYS/') || topic === '$SYS')) return false;
    const cid = this.#acl.byClientId ? clientId : '';
    let byClient = this.#cache.get(user);
    if (byClient === undefined) {
      byClient = new Map();
      this.#cache.set(user, byClient);
    }
    let byTopic = byClient.get(cid);
    if (byTopic === undefined) {
      byTopic = new Map();
      byClient.set(cid, byTopic);
    }
    let bits = byTopic.get(topic);
    if (bits === undefined) {
      bits = this.#decide(user, clientId, topic);
      if (++this.#cached > CACHE_MAX) {
        this.#cache = new Map([[user, byClient]]);
        byClient.clear();
        byClient.set(cid, byTopic);
        byTopic.clear();
        this.#cached = 1;
      }
      byTopic.set(topic, bits);
    }
    return (bits & bit) !== 0;
  }

  #decide(user: string, clientId: string, topic: string): number {
    let bits = 0;
    for (const r of this.#rules(user, clientId)) {
      if (!topicMatches(r.topic, topic)) continue;
      if (r.access === 'deny') return 0;
      if (r.access === 'read' || r.access === 'readwrite') bits |= READ;
      if (r.access === 'write' || r.access === 'readwrite') bits |= WRITE;
    }
    return bits;
  }

  /** May this client subscribe to `filter` (without any `$share/` prefix)? */
  checkSubscribe(user: string, clientId: string, filter: string): boolean {
    const rules = this.#rules(user, clientId);
    for (const r of rules) if (r.access === 'deny' && filterCovers(r.topic, filter)) return false;
    for (const r of rules) if ((r.access === 'read' || r.access === 'readwrite') && filtersOverlap(r.topic, filter)) return true;
    return false;
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new BrokerError(BrokerErrorCode.AuthFile, `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The hook of {@link aclAuthorization}. */
export interface AclHook extends BrokerHook {
  /** The rules; replace to switch files on reload. */
  acl: AclFile;
}

/**
 * Authorization by ACL file, enforced on PUBLISH (refused: 5.0 PUBACK/PUBREC 0x87, 3.1.1
 * acknowledged and dropped), on SUBSCRIBE (SUBACK 0x87 / 0x80), on every delivery (a message
 * the subscriber may not read is not sent, whatever its filter) and on Wills (the Will is
 * published only to a topic its client may write). In-process `publish()` is not restricted;
 * clients never write to `$SYS/…`.
 */
export function aclAuthorization(acl: AclFile): AclHook {
  return {
    name: 'aclAuthorization',
    acl,
    authorizePublish(this: AclHook, a: AuthorizePublishArgs): boolean | undefined {
      const who = a.client ?? a.will;
      if (who === undefined) return undefined;
      return this.acl.check(who.userName, who.clientId, a.message.topic, 'write');
    },
    authorizeSubscribe(this: AclHook, a: SubscribeEvent): number | undefined {
      let filter = a.topicFilter;
      if (filter.startsWith('$share/')) filter = filter.slice(filter.indexOf('/', 7) + 1);
      return this.acl.checkSubscribe(a.userName, a.clientId, filter) ? undefined : 0x87;
    },
    authorizeDelivery(this: AclHook, a: AuthorizeDeliveryArgs): boolean {
      return this.acl.check(a.userName, a.clientId, a.topic, 'read');
    },
  };
}
