// `iotwire-coap serve DIR`: a directory as CoAP resources. GET a file (Content-Format from its
// extension, ETag from size and mtime, 2.03 for a matching ETag, block-wise when large), GET a
// directory for an RFC 6690 listing; with `--writable`, PUT creates or replaces a file and
// DELETE removes one. Paths never leave the directory (no `..`, no dot-files, symlinks checked).
import { createHash } from 'node:crypto';
import type { Dirent, Stats } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import type { CoapResponseInit, IncomingRequest, ResourceOptions } from '@iotwire/coap';
import { ContentFormat, formatLinks, type Link } from '@iotwire/coap-message';
import type { Site } from './site.js';

export interface DirectoryOptions {
  /** Allow PUT (create/replace files) and DELETE. Default false (read-only). */
  writable?: boolean;
  /** Largest file served or accepted, bytes. Default 16 MiB. */
  maxSize?: number;
  /** Files registered for discovery at start-up (the rest are still served). Default 1000. */
  maxListed?: number;
}

/** Content-Format by file extension; anything else is application/octet-stream. */
const FORMATS: Record<string, number> = {
  '.txt': ContentFormat.TextPlain,
  '.text': ContentFormat.TextPlain,
  '.log': ContentFormat.TextPlain,
  '.md': ContentFormat.TextPlain,
  '.csv': ContentFormat.TextPlain,
  '.json': ContentFormat.Json,
  '.cbor': ContentFormat.Cbor,
  '.xml': ContentFormat.Xml,
  '.exi': ContentFormat.Exi,
  '.wlnk': ContentFormat.LinkFormat,
  '.link': ContentFormat.LinkFormat,
  '.senml': ContentFormat.SenmlJson,
  '.cwt': ContentFormat.Cwt,
  '.der': ContentFormat.PkixCert,
  '.cer': ContentFormat.PkixCert,
};

export function contentFormatForFile(name: string): number {
  return FORMATS[extname(name).toLowerCase()] ?? ContentFormat.OctetStream;
}

/** 8-byte ETag from a file's size and modification time. */
function etagOf(st: Stats): Buffer {
  return createHash('sha256').update(`${st.size}:${st.mtimeMs}:${st.ino}`).digest().subarray(0, 8);
}

const text = (code: string, message: string): CoapResponseInit => ({ code, payload: message, contentFormat: ContentFormat.TextPlain });

/** File-system failures as CoAP responses rather than handler errors (5.00 + an `error` event). */
function guard(fn: (req: IncomingRequest) => Promise<CoapResponseInit>): (req: IncomingRequest) => Promise<CoapResponseInit> {
  return (req) =>
    fn(req).catch((err: NodeJS.ErrnoException) => {
      switch (err.code) {
        case 'ENOENT':
          return text('4.04', 'Not Found');
        case 'ENOTDIR':
        case 'EISDIR':
        case 'EEXIST':
          return text('4.09', `conflicts with an existing entry: ${err.code}`);
        case 'EACCES':
        case 'EPERM':
        case 'EROFS':
          return text('4.03', `not permitted: ${err.code}`);
        default:
          return text('5.00', `file system error: ${err.code ?? err.message}`);
      }
    });
}

/**
 * Serves `root` on every server of `site`. Resolves once the files present at start-up are
 * registered (for `/.well-known/core`); files added later by other programs are served too,
 * just not listed until a restart.
 */
export async function installDirectory(site: Site, root: string, options: DirectoryOptions = {}): Promise<void> {
  const base = await realpath(root);
  if (!(await stat(base)).isDirectory()) throw new Error(`${root} is not a directory`);
  const writable = options.writable ?? false;
  const maxSize = options.maxSize ?? 16 * 1024 * 1024;
  let tmpCounter = 0;

  /** The file system path for a request path, or a response refusing it. */
  const locate = (segments: readonly string[]): string | CoapResponseInit => {
    for (const s of segments) {
      if (s === '..' || s === '.' || s.includes('/') || s.includes('\\') || s.includes('\0')) return text('4.03', 'Forbidden path');
      if (s === '' || s.startsWith('.')) return text('4.04', 'Not Found');
    }
    return join(base, ...segments);
  };

  /** True if `path` (which exists) resolves inside the served directory (symlinks included). */
  const inside = async (path: string): Promise<boolean> => {
    const real = await realpath(path);
    return real === base || real.startsWith(base + sep);
  };

  const statInside = async (path: string): Promise<Stats | undefined> => {
    try {
      const st = await stat(path);
      return (await inside(path)) ? st : undefined;
    } catch {
      return undefined;
    }
  };

  /** What an entry is, following a symbolic link only while it stays inside the directory. */
  const kindOf = async (dir: string, e: Dirent): Promise<'file' | 'dir' | undefined> => {
    if (e.name.startsWith('.')) return undefined;
    if (e.isDirectory()) return 'dir';
    if (e.isFile()) return 'file';
    if (!e.isSymbolicLink()) return undefined;
    const st = await statInside(join(dir, e.name));
    return st?.isDirectory() ? 'dir' : st?.isFile() ? 'file' : undefined;
  };

  const listing = async (dir: string, prefix: string): Promise<CoapResponseInit> => {
    const links: Link[] = [];
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const kind = await kindOf(dir, e);
      const href = `${prefix}/${encodeURIComponent(e.name)}`;
      if (kind === 'dir') links.push({ href: `${href}/`, attributes: { ct: ContentFormat.LinkFormat } });
      else if (kind === 'file') links.push({ href, attributes: { ct: contentFormatForFile(e.name) } });
    }
    return { payload: formatLinks(links), contentFormat: ContentFormat.LinkFormat };
  };

  const get = guard(async (req: IncomingRequest): Promise<CoapResponseInit> => {
    const path = locate(req.pathSegments);
    if (typeof path !== 'string') return path;
    const st = await statInside(path);
    if (st === undefined) return text('4.04', 'Not Found');
    if (st.isDirectory()) {
      if (req.accept !== undefined && req.accept !== ContentFormat.LinkFormat) return { code: '4.06' };
      return listing(path, req.pathSegments.length === 0 ? '' : `/${req.pathSegments.map(encodeURIComponent).join('/')}`);
    }
    if (!st.isFile()) return text('4.04', 'Not Found');
    const format = contentFormatForFile(path);
    if (req.accept !== undefined && req.accept !== format) return { code: '4.06' };
    if (st.size > maxSize) return text('5.00', `file of ${st.size} bytes exceeds the ${maxSize}-byte limit`);
    const etag = etagOf(st);
    if (req.etags.some((t) => t.equals(etag))) return { code: '2.03', etag };
    return { payload: await readFile(path), contentFormat: format, etag };
  });

  const put = guard(async (req: IncomingRequest): Promise<CoapResponseInit> => {
    const segments = req.pathSegments;
    const path = locate(segments);
    if (typeof path !== 'string') return path;
    if (segments.length === 0) return text('4.05', 'cannot PUT the root directory');
    if (req.payload.length > maxSize) return { code: '4.13', options: [] };
    const st = await statInside(path);
    if (st?.isDirectory()) return text('4.05', 'a directory cannot be replaced');
    // Conditional requests (RFC 7252 §5.10.8).
    if (req.ifNoneMatch && st !== undefined) return { code: '4.12' };
    const ifMatch = req.ifMatch;
    if (ifMatch.length > 0) {
      const etag = st === undefined ? undefined : etagOf(st);
      if (etag === undefined || !ifMatch.some((t) => t.length === 0 || t.equals(etag))) return { code: '4.12' };
    }
    const dir = join(base, ...segments.slice(0, -1));
    await mkdir(dir, { recursive: true });
    if (!(await inside(dir))) return text('4.03', 'Forbidden path');
    // Write beside the target and rename: readers never see half a file.
    const tmp = join(dir, `.iotwire-coap-${process.pid}-${tmpCounter++}.tmp`);
    await writeFile(tmp, req.payload);
    await rename(tmp, path);
    const rel = `/${segments.join('/')}`;
    if (!site.hasResource(rel)) site.resource(rel, fileResource(path));
    else site.notify(rel);
    return { code: st === undefined ? '2.01' : '2.04', etag: etagOf(await stat(path)) };
  });

  const del = guard(async (req: IncomingRequest): Promise<CoapResponseInit> => {
    const path = locate(req.pathSegments);
    if (typeof path !== 'string') return path;
    const st = await statInside(path);
    if (st === undefined) return text('4.04', 'Not Found');
    if (!st.isFile()) return text('4.05', 'only files can be deleted');
    await unlink(path);
    // Observers of a removed resource get 4.04 and are dropped.
    site.removeResource(`/${req.pathSegments.join('/')}`);
    return { code: '2.02' };
  });

  const fileResource = (path: string): ResourceOptions => ({
    observable: true,
    attributes: { ct: contentFormatForFile(path) },
    get,
    ...(writable ? { put, delete: del } : {}),
  });

  // Unknown paths: directories, files that appeared after start-up, and PUTs creating files.
  site.handler = (req) => {
    if (req.code === 1) return get(req);
    if (writable && req.code === 3) return put(req);
    if (writable && req.code === 4) return del(req);
    return { code: '4.05' };
  };

  // Register what is there now, breadth-first and bounded, for discovery.
  const limit = options.maxListed ?? 1000;
  let listed = 0;
  const queue: string[][] = [[]];
  while (queue.length > 0 && listed < limit) {
    const segs = queue.shift() as string[];
    let entries: Dirent[];
    try {
      entries = await readdir(join(base, ...segs), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (listed >= limit) break;
      const kind = await kindOf(join(base, ...segs), e);
      if (kind === 'dir' && segs.length < 8) queue.push([...segs, e.name]);
      else if (kind === 'file') {
        site.resource(`/${[...segs, e.name].join('/')}`, fileResource(join(base, ...segs, e.name)));
        listed++;
      }
    }
  }
}
