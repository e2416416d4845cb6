/**
 * Reads a configuration file (YAML 1.2, so JSON files work too), validates it against the
 * schema plus the cross-field rules, and reports every problem at once with its key path and
 * line:column in the file. Relative file paths in the file are relative to the file's folder.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { type BrokerConfig, configSchema, DEFAULT_LISTENERS, type ListenerConfig } from './schema.js';

export type ConfigPath = readonly (string | number)[];

export interface ConfigIssue {
  /** Key path, e.g. `['listeners', 1, 'port']`. */
  readonly path: ConfigPath;
  readonly message: string;
  /** 1-based position in the file, when the path (or its parent) is in it. */
  readonly line?: number;
  readonly column?: number;
}

/** An invalid configuration: every problem found, each with its path and position. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code = 'ERR_BROKER_CONFIG';
  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(formatIssues(file, issues));
  }
}

/** A loaded configuration. */
export interface LoadedConfig {
  readonly config: BrokerConfig;
  /** Things that work but are probably not what was meant (logged at start). */
  readonly warnings: readonly string[];
  /** The file it came from (absolute), or undefined for the embedded defaults. */
  readonly file: string | undefined;
}

/** `listeners[1].port` */
export function formatPath(path: ConfigPath): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? p : `.${p}`;
  return s || '(top level)';
}

function formatIssues(file: string, issues: readonly ConfigIssue[]): string {
  const lines = issues.map((i) => {
    const where = i.line !== undefined ? `${file}:${i.line}:${i.column}` : file;
    return `${where}: ${formatPath(i.path)}: ${i.message}`;
  });
  return `invalid configuration (${issues.length} problem${issues.length === 1 ? '' : 's'}):\n  ${lines.join('\n  ')}`;
}

/** The embedded defaults (what `iotwire-broker` runs with no `-c`). */
export function defaultConfig(): LoadedConfig {
  return { config: finish(configSchema.parse({}), process.cwd(), {}), warnings: [], file: undefined };
}

/** Reads, validates and resolves a configuration file. Throws {@link ConfigError}. */
export function loadConfigFile(file: string): LoadedConfig {
  const abs = resolve(file);
  let text: string;
  try {
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    throw new ConfigError(file, [
      { path: [], message: `cannot read the file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` },
    ]);
  }
  return parseConfigText(text, file, dirname(abs));
}

/**
 * Validates configuration text. `file` names it in messages; `baseDir` anchors relative paths
 * (default: the current directory).
 */
export function parseConfigText(text: string, file = 'config', baseDir = process.cwd()): LoadedConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { path: [], message: `not valid YAML: ${e.message.split('\n')[0]}`, line: pos.line, column: pos.col };
      }),
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  const locate = (path: ConfigPath): Pick<ConfigIssue, 'line' | 'column'> => {
    // The deepest node of the path that exists in the file.
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as (string | number)[], true) as Node | undefined;
      const range = node && (isScalar(node) || isMap(node) || isSeq(node)) ? node.range : undefined;
      if (range) {
        const pos = lineCounter.linePos(keyOffset(doc.contents, path.slice(0, n)) ?? range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return {};
  };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(
      file,
      parsed.error.issues.flatMap((i) => zodIssues(i, raw)).map((i) => ({ ...i, ...locate(i.path) })),
    );
  }
  const config = finish(parsed.data, baseDir, raw as Record<string, unknown>);
  const problems = [...crossChecks(config), ...fileChecks(config)];
  if (config.cluster && valueAt(raw, ['storage']) !== undefined) {
    problems.push({
      path: ['storage'],
      message: 'does not apply with cluster: sessions and retained messages live in Redis (remove one of the two)',
    });
  }
  for (const i of problems) Object.assign(i, locate(i.path));
  if (problems.length > 0) throw new ConfigError(file, problems);
  return { config, warnings: warnings(config), file: resolve(baseDir, file) };
}

/** Offset of the key of the last path element (so a message points at `port:`, not at its value). */
function keyOffset(contents: unknown, path: ConfigPath): number | undefined {
  let node = contents;
  let offset: number | undefined;
  for (const p of path) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && it.key.value === p);
      if (!pair) return undefined;
      offset = isScalar(pair.key) ? pair.key.range?.[0] : undefined;
      node = pair.value;
    } else if (isSeq(node) && typeof p === 'number') {
      node = node.items[p];
      offset = (node as { range?: [number] } | undefined)?.range?.[0];
    } else return undefined;
  }
  return offset;
}

function valueAt(raw: unknown, path: ConfigPath): unknown {
  let v = raw;
  for (const p of path) v = v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[p] : undefined;
  return v;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** Levenshtein distance, for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] as number;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const t = d[j] as number;
      d[j] = Math.min((d[j] as number) + 1, (d[j - 1] as number) + 1, prev + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
      prev = t;
    }
  }
  return d[b.length] as number;
}

function knownKeys(path: ConfigPath, raw: unknown): string[] {
  // Walk the schema along the path (list indexes step into the element schema).
  let s: z.ZodType | undefined = configSchema;
  for (const p of path) {
    s = unwrap(s);
    if (s === undefined) return [];
    if (typeof p === 'number') {
      s = (s as unknown as { element?: z.ZodType }).element;
      continue;
    }
    const u = s as unknown as { options?: z.ZodType[]; shape?: Record<string, z.ZodType> };
    s = u.shape?.[p];
  }
  s = unwrap(s);
  const u = s as unknown as { options?: z.ZodType[]; shape?: Record<string, z.ZodType> } | undefined;
  if (u?.shape) return Object.keys(u.shape);
  if (u?.options) {
    // A listener: the keys of the variant its protocol selects.
    const protocol = valueAt(raw, [...path, 'protocol']);
    const variant = u.options.find((o) => {
      const lit = (o as unknown as { shape: { protocol: { value?: unknown; def?: { values?: unknown[] } } } }).shape.protocol;
      return lit.value === protocol || lit.def?.values?.includes(protocol);
    });
    return variant ? Object.keys((variant as unknown as { shape: Record<string, unknown> }).shape) : [];
  }
  return [];
}

function unwrap(s: z.ZodType | undefined): z.ZodType | undefined {
  let cur = s as unknown as { def?: { type?: string; innerType?: z.ZodType; in?: z.ZodType } } | undefined;
  for (let i = 0; i < 5 && cur?.def; i++) {
    const t = cur.def.type;
    if (t === 'optional' || t === 'default' || t === 'prefault' || t === 'nullable') cur = cur.def.innerType as never;
    else if (t === 'pipe') cur = cur.def.in as never;
    else break;
  }
  return cur as unknown as z.ZodType | undefined;
}

function zodIssues(issue: z.core.$ZodIssue, raw: unknown): ConfigIssue[] {
  const path = issue.path as (string | number)[];
  const got = valueAt(raw, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeys(path, raw);
      return issue.keys.map((k) => {
        const best = known.map((c) => [c, distance(k, c)] as const).sort((a, b) => a[1] - b[1])[0];
        const hint = best && best[1] <= Math.max(2, Math.floor(k.length / 3)) ? ` (did you mean "${best[0]}"?)` : '';
        return { path: [...path, k], message: `unknown key${hint}; allowed here: ${known.join(', ')}` };
      });
    }
    case 'invalid_type': {
      if (got === undefined) return [{ path, message: `is required (${issue.expected})` }];
      const expected =
        issue.expected === 'int'
          ? 'an integer'
          : issue.expected === 'object'
            ? 'a mapping'
            : issue.expected === 'array'
              ? 'a list'
              : `a ${issue.expected}`;
      return [{ path, message: `must be ${expected}, got ${describe(got)}` }];
    }
    case 'too_big':
    case 'too_small': {
      const limit = Number(issue.code === 'too_big' ? issue.maximum : issue.minimum);
      if (issue.origin === 'array' && !issue.message.startsWith('Too')) return [{ path, message: issue.message }];
      if (issue.origin === 'array')
        return [{ path, message: `must have ${issue.code === 'too_big' ? 'at most' : 'at least'} ${limit} item${limit === 1 ? '' : 's'}` }];
      if (issue.origin === 'string')
        return [
          {
            path,
            message: issue.message.startsWith('Too')
              ? `must be ${issue.code === 'too_big' ? 'at most' : 'at least'} ${limit} characters`
              : issue.message,
          },
        ];
      const op = issue.code === 'too_big' ? (issue.inclusive ? '<=' : '<') : issue.inclusive ? '>=' : '>';
      return [{ path, message: `must be ${op} ${limit}, got ${describe(got)}` }];
    }
    case 'invalid_value':
      return [{ path, message: `must be one of ${issue.values.map((v) => String(v)).join(', ')}, got ${describe(got)}` }];
    case 'invalid_union':
      if (got === undefined && !(issue as { discriminator?: string }).discriminator) return [{ path, message: 'is required' }];
      if ((issue as { discriminator?: string }).discriminator) {
        return [{ path, message: got === undefined ? 'is required (tcp, tls, ws or wss)' : `${issue.message}, got ${describe(got)}` }];
      }
      return [{ path, message: `${issue.message}, got ${describe(got)}` }];
    case 'invalid_format':
      return [{ path, message: `${issue.message.startsWith('Invalid') ? 'has an invalid format' : issue.message}, got ${describe(got)}` }];
    default:
      return [{ path, message: issue.message }];
  }
}

const FILE_KEYS = ['certFile', 'keyFile', 'pfxFile', 'caFile', 'keyLogFile'] as const;

/** Resolves relative paths and applies the listener defaults. */
function finish(config: BrokerConfig, baseDir: string, raw: Record<string, unknown>): BrokerConfig {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const listeners = (config.listeners ?? DEFAULT_LISTENERS).map((l) => {
    const out = { ...l } as ListenerConfig & Record<string, unknown>;
    for (const k of FILE_KEYS) if (typeof out[k] === 'string') out[k] = abs(out[k] as string);
    return out as ListenerConfig;
  });
  const storageDirGiven = valueAt(raw, ['storage', 'directory']) !== undefined;
  return {
    ...config,
    listeners,
    auth: {
      ...config.auth,
      ...(config.auth.passwordFile ? { passwordFile: abs(config.auth.passwordFile) } : {}),
      ...(config.auth.aclFile ? { aclFile: abs(config.auth.aclFile) } : {}),
    },
    // An explicit directory is relative to the file; the default one to the working directory.
    storage: { ...config.storage, directory: storageDirGiven ? abs(config.storage.directory) : resolve(config.storage.directory) },
  };
}

function crossChecks(config: BrokerConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const listeners = config.listeners ?? [];
  const seen = new Map<string, number>();
  listeners.forEach((l, i) => {
    const at = (k?: string): ConfigPath => (k ? ['listeners', i, k] : ['listeners', i]);
    if (l.protocol === 'tls' || l.protocol === 'wss') {
      if (l.pfxFile && (l.certFile || l.keyFile))
        issues.push({ path: at('pfxFile'), message: 'give either pfxFile or certFile + keyFile, not both' });
      else if (!l.pfxFile && !(l.certFile && l.keyFile)) {
        issues.push({
          path: at(l.certFile ? 'certFile' : l.keyFile ? 'keyFile' : undefined),
          message: `a ${l.protocol} listener needs certFile and keyFile (or pfxFile)`,
        });
      }
      if (l.requestCert && !l.caFile)
        issues.push({ path: at('requestCert'), message: 'requestCert needs caFile (the CAs client certificates must chain to)' });
      if (l.certificateIdentity !== 'none' && !l.requestCert) {
        issues.push({ path: at('certificateIdentity'), message: 'certificateIdentity needs requestCert: true' });
      }
    }
    if (l.port !== undefined && l.port !== 0) {
      const key = `${l.host}:${l.port}`;
      const other = seen.get(key);
      if (other !== undefined) issues.push({ path: at('port'), message: `port ${l.port} is already used by listeners[${other}]` });
      else seen.set(key, i);
      if (config.dashboard.enabled && l.port === config.dashboard.port) {
        issues.push({ path: at('port'), message: `port ${l.port} is also the dashboard's (dashboard.port)` });
      }
      if (config.metrics.enabled && config.metrics.port !== undefined && l.port === config.metrics.port) {
        issues.push({ path: at('port'), message: `port ${l.port} is also the metrics server's (metrics.port)` });
      }
    }
  });
  if (
    config.auth.allowAnonymous === false &&
    !config.auth.passwordFile &&
    !listeners.some((l) => 'certificateIdentity' in l && l.certificateIdentity !== 'none')
  ) {
    issues.push({
      path: ['auth', 'allowAnonymous'],
      message: 'false, but no passwordFile and no certificateIdentity listener: no client could ever connect',
    });
  }
  if (config.cluster) {
    const { heartbeatInterval = 1000, nodeTimeout = 5000 } = config.cluster;
    if (nodeTimeout <= heartbeatInterval * 2)
      issues.push({ path: ['cluster', 'nodeTimeout'], message: 'must be more than twice cluster.heartbeatInterval' });
  }
  if (config.metrics.enabled && config.metrics.host !== undefined && config.metrics.port === undefined) {
    issues.push({
      path: ['metrics', 'host'],
      message: 'metrics.host needs metrics.port (without a port, /metrics is served by the dashboard server)',
    });
  }
  if (config.metrics.enabled && config.metrics.port === undefined && !config.dashboard.enabled) {
    issues.push({ path: ['metrics', 'port'], message: 'is required when the dashboard is disabled (or set metrics.enabled: false)' });
  }
  return issues;
}

function fileChecks(config: BrokerConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const readable = (path: ConfigPath, file: string) => {
    try {
      if (statSync(file).isDirectory()) throw Object.assign(new Error(), { code: 'EISDIR' });
      accessSync(file, constants.R_OK);
    } catch (err) {
      issues.push({ path, message: `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})` });
    }
  };
  (config.listeners ?? []).forEach((l, i) => {
    if (l.protocol !== 'tls' && l.protocol !== 'wss') return;
    for (const k of ['certFile', 'keyFile', 'pfxFile', 'caFile'] as const) {
      const f = l[k];
      if (f) readable(['listeners', i, k], f);
    }
  });
  if (config.auth.passwordFile) readable(['auth', 'passwordFile'], config.auth.passwordFile);
  if (config.auth.aclFile) readable(['auth', 'aclFile'], config.auth.aclFile);
  return issues;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function warnings(config: BrokerConfig): string[] {
  const w: string[] = [];
  if (config.dashboard.enabled && !LOOPBACK.has(config.dashboard.host) && !config.dashboard.token) {
    w.push(
      `dashboard.host is ${config.dashboard.host || 'all interfaces'} and no dashboard.token is set: anyone who can reach it can disconnect clients`,
    );
  }
  (config.listeners ?? []).forEach((l, i) => {
    if ((l.protocol === 'tls' || l.protocol === 'wss') && l.keyLogFile)
      w.push(`listeners[${i}].keyLogFile is set: TLS secrets are written to ${l.keyLogFile}`);
  });
  return w;
}
