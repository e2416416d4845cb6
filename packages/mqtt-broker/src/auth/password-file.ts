/**
 * Password files: one `user:hash` line per user (`#` comments and blank lines allowed), the
 * same layout as Mosquitto's. New hashes are salted scrypt (`node:crypto`, memory-hard, no
 * native dependency) in PHC form: `$scrypt$ln=14,r=8,p=1$<salt>$<hash>` (base64). Mosquitto's
 * own `$7$` (PBKDF2-SHA512) and `$6$` (salted SHA-512) hashes are verified too, so an existing
 * `mosquitto_passwd` file works as it is.
 */
import { createHash, createHmac, pbkdf2, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { BrokerError, BrokerErrorCode } from '../errors.js';
import type { SessionRequestEvent } from '../events.js';
import type { BrokerHook } from '../hooks.js';

/** scrypt cost: N = 2^ln (2^14 = 16 MiB of memory per hash with r = 8), Node's default. */
export interface ScryptCost {
  ln: number;
  r: number;
  p: number;
}
export const DEFAULT_SCRYPT_COST: Readonly<ScryptCost> = Object.freeze({ ln: 14, r: 8, p: 1 });

const b64 = (b: Buffer) => b.toString('base64').replace(/=+$/, '');

function scryptAsync(password: Buffer, salt: Buffer, keylen: number, c: ScryptCost): Promise<Buffer> {
  const N = 2 ** c.ln;
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, { N, r: c.r, p: c.p, maxmem: 256 * N * c.r + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** Hashes a password for a password file (salted scrypt, PHC string). */
export async function hashPassword(password: string | Uint8Array, cost: ScryptCost = DEFAULT_SCRYPT_COST): Promise<string> {
  checkCost(cost);
  const salt = randomBytes(16);
  const key = await scryptAsync(Buffer.from(password as Uint8Array), salt, 32, cost);
  return `$scrypt$ln=${cost.ln},r=${cost.r},p=${cost.p}$${b64(salt)}$${b64(key)}`;
}

function checkCost(c: ScryptCost): void {
  if (
    !Number.isInteger(c.ln) ||
    c.ln < 10 ||
    c.ln > 20 ||
    !Number.isInteger(c.r) ||
    c.r < 1 ||
    c.r > 32 ||
    !Number.isInteger(c.p) ||
    c.p < 1 ||
    c.p > 16
  ) {
    throw new BrokerError(BrokerErrorCode.InvalidArgument, `scrypt cost out of range (ln 10..20, r 1..32, p 1..16): ${JSON.stringify(c)}`);
  }
}

/** Why a hash string is not usable, or undefined when it is. */
export function hashProblem(hash: string): string | undefined {
  const parts = hash.split('$');
  if (parts[1] === 'scrypt') {
    const m = /^ln=(\d+),r=(\d+),p=(\d+)$/.exec(parts[2] ?? '');
    if (parts.length !== 5 || m === null) return 'malformed $scrypt$ hash';
    try {
      checkCost({ ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) });
    } catch (err) {
      return (err as Error).message;
    }
    return parts[3] && parts[4] ? undefined : 'malformed $scrypt$ hash';
  }
  if (parts[1] === '7')
    return parts.length === 5 && /^\d+$/.test(parts[2] ?? '') && Number(parts[2]) <= 10_000_000 ? undefined : 'malformed $7$ hash';
  if (parts[1] === '6') return parts.length === 4 ? undefined : 'malformed $6$ hash';
  return 'unknown hash type (expected $scrypt$, or Mosquitto $7$ / $6$)';
}

/** Checks `password` against a hash from a password file (constant-time compare). */
export async function verifyPasswordHash(hash: string, password: string | Uint8Array): Promise<boolean> {
  if (hashProblem(hash) !== undefined) return false;
  const parts = hash.split('$');
  const pw = Buffer.from(password as Uint8Array);
  let expected: Buffer;
  let actual: Buffer;
  if (parts[1] === 'scrypt') {
    const m = /^ln=(\d+),r=(\d+),p=(\d+)$/.exec(parts[2] as string) as RegExpExecArray;
    expected = Buffer.from(parts[4] as string, 'base64');
    actual = await scryptAsync(pw, Buffer.from(parts[3] as string, 'base64'), expected.length, {
      ln: Number(m[1]),
      r: Number(m[2]),
      p: Number(m[3]),
    });
  } else if (parts[1] === '7') {
    expected = Buffer.from(parts[4] as string, 'base64');
    const salt = Buffer.from(parts[3] as string, 'base64');
    actual = await new Promise<Buffer>((resolve, reject) =>
      pbkdf2(pw, salt, Number(parts[2]), expected.length, 'sha512', (err, k) => (err ? reject(err) : resolve(k))),
    );
  } else {
    expected = Buffer.from(parts[3] as string, 'base64');
    actual = createHash('sha512')
      .update(pw)
      .update(Buffer.from(parts[2] as string, 'base64'))
      .digest();
  }
  return expected.length > 0 && actual.length === expected.length && timingSafeEqual(actual, expected);
}

interface ParsedFile {
  users: Map<string, string>;
}

function parse(text: string, source: string): ParsedFile {
  const users = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).trim();
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new BrokerError(BrokerErrorCode.AuthFile, `${source}:${i + 1}: expected "user:hash"`);
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    const problem = hashProblem(hash);
    if (problem !== undefined)
      throw new BrokerError(
        BrokerErrorCode.AuthFile,
        `${source}:${i + 1}: user ${JSON.stringify(user)}: ${problem}${hash.startsWith('$') ? '' : ' (a plain-text password? convert the file with iotwire-passwd -U)'}`,
      );
    if (users.has(user)) throw new BrokerError(BrokerErrorCode.AuthFile, `${source}:${i + 1}: user ${JSON.stringify(user)} appears twice`);
    users.set(user, hash);
  }
  return { users };
}

/**
 * A password file. `load` reads and checks it (every line, every hash); `reload` re-reads it
 * and swaps it in only when the whole file is valid (a bad edit keeps the old one and throws).
 * `verify` checks a user's password; successful checks are remembered (an HMAC with a
 * per-process key, never the password) so a reconnecting device does not cost a scrypt.
 */
export class PasswordFile {
  #users: Map<string, string>;
  #path: string | undefined;
  readonly #cacheKey = randomBytes(32);
  #verified = new Map<string, Buffer>();

  private constructor(parsed: ParsedFile, path: string | undefined) {
    this.#users = parsed.users;
    this.#path = path;
  }

  /** Reads a password file. Throws `ERR_AUTH_FILE` (with file and line) when it is unreadable or invalid. */
  static async load(path: string): Promise<PasswordFile> {
    return new PasswordFile(parse(await readText(path), path), path);
  }

  /** A password file from text (no path: `reload()` is then refused). */
  static parse(text: string, source = 'password file'): PasswordFile {
    return new PasswordFile(parse(text, source), undefined);
  }

  /** An empty file (for the CLI's -c). */
  static empty(path?: string): PasswordFile {
    return new PasswordFile({ users: new Map() }, path);
  }

  get path(): string | undefined {
    return this.#path;
  }
  get users(): readonly string[] {
    return [...this.#users.keys()];
  }
  has(user: string): boolean {
    return this.#users.has(user);
  }

  /** Re-reads the file; on any error keeps the current users and throws. */
  async reload(): Promise<void> {
    if (this.#path === undefined) throw new BrokerError(BrokerErrorCode.InvalidState, 'this password file was not loaded from a path');
    const parsed = parse(await readText(this.#path), this.#path);
    this.#users = parsed.users;
    this.#verified = new Map();
  }

  /** True when `user` exists and `password` matches its hash. */
  async verify(user: string, password: string | Uint8Array | undefined): Promise<boolean> {
    const hash = this.#users.get(user);
    if (hash === undefined || password === undefined) return false;
    const tag = createHmac('sha256', this.#cacheKey)
      .update(hash)
      .update('\0')
      .update(password as Uint8Array)
      .digest();
    const seen = this.#verified.get(user);
    if (seen !== undefined && timingSafeEqual(seen, tag)) return true;
    const ok = await verifyPasswordHash(hash, password);
    if (ok) {
      if (this.#verified.size >= 100_000) this.#verified.clear();
      // Only if the file did not change while scrypt ran.
      if (this.#users.get(user) === hash) this.#verified.set(user, tag);
    }
    return ok;
  }

  /** Sets (hashes) a user's password. */
  async set(user: string, password: string | Uint8Array, cost?: ScryptCost): Promise<void> {
    if (user === '' || user.includes(':') || /[\r\n]/.test(user))
      throw new BrokerError(BrokerErrorCode.InvalidArgument, 'a user name must be non-empty and contain no ":" or line break');
    this.#users.set(user, await hashPassword(password, cost));
    this.#verified.delete(user);
  }

  /** Sets a user's stored hash as it is (e.g. converting a file). */
  setHash(user: string, hash: string): void {
    const problem = hashProblem(hash);
    if (problem !== undefined) throw new BrokerError(BrokerErrorCode.InvalidArgument, problem);
    this.#users.set(user, hash);
    this.#verified.delete(user);
  }

  delete(user: string): boolean {
    this.#verified.delete(user);
    return this.#users.delete(user);
  }

  /** The file's text. */
  toString(): string {
    return [...this.#users].map(([u, h]) => `${u}:${h}\n`).join('');
  }

  /** Writes the file (atomically: a temporary file renamed over it), mode 0600. */
  async save(path = this.#path): Promise<void> {
    if (path === undefined) throw new BrokerError(BrokerErrorCode.InvalidArgument, 'no path to save the password file to');
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, this.toString(), { mode: 0o600 });
    await rename(tmp, path);
    this.#path = path;
  }
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new BrokerError(BrokerErrorCode.AuthFile, `cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

export interface PasswordFileAuthOptions {
  /**
   * Accept clients that send no user name (and have no certificate identity). Default false:
   * with a password file, anonymous access is off unless asked for. The broker's own
   * `allowAnonymous` option must allow it too.
   */
  allowAnonymous?: boolean;
}

/** A hook that authenticates CONNECTs against a password file (see {@link PasswordFile}). */
export interface PasswordFileHook extends BrokerHook {
  /** Changeable at run time (configuration reload). */
  allowAnonymous: boolean;
  /** The file; replace it to switch files on reload. */
  file: PasswordFile;
}

/**
 * Authentication by password file. A user name with the right password is accepted; a wrong
 * or unknown one is refused with "bad user name or password" (3.1.1 0x04, 5.0 0x86); no user
 * name is refused with "not authorized" (0x05 / 0x87) unless `allowAnonymous`. A user name
 * taken from the TLS client certificate (listener `certificateIdentity`) is already
 * authenticated by the TLS handshake and accepted as it is.
 */
export function passwordFileAuth(file: PasswordFile, options: PasswordFileAuthOptions = {}): PasswordFileHook {
  return {
    name: 'passwordFileAuth',
    file,
    allowAnonymous: options.allowAnonymous ?? false,
    async authenticate(this: PasswordFileHook, a: SessionRequestEvent): Promise<boolean | undefined> {
      if (!a.accept) return undefined; // refused already: keep that reason
      if (a.connection.userNameFromCertificate) return undefined;
      if (a.userName === '' && a.password === undefined) {
        if (this.allowAnonymous) return undefined;
        a.reasonCode = 0x87;
        return false;
      }
      if (await this.file.verify(a.userName, a.password)) return true;
      a.reasonCode = 0x86;
      return false;
    },
  };
}
