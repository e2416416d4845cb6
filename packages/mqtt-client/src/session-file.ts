/** A session store on disk (SessionStateFile), written atomically. Node only. */
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { clientError } from './errors.js';
import type { SessionStore } from './session.js';

/**
 * Reads and writes session state text at `path`. A save writes a temporary file in the same
 * directory, fsyncs it and renames it over the target, so a crash leaves either the old or
 * the new state, never a torn file.
 */
export class FileSessionStore implements SessionStore {
  constructor(readonly path: string) {}

  async load(): Promise<string | undefined> {
    try {
      return await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return undefined;
      throw clientError('ERR_SESSION_FILE', `cannot read ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }

  async save(text: string): Promise<void> {
    const tmp = join(dirname(this.path), `.${basename(this.path)}.${randomBytes(6).toString('hex')}.tmp`);
    try {
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.writeFile(text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => {});
      throw clientError('ERR_SESSION_FILE', `cannot write ${this.path}: ${(err as Error).message}`, { cause: err });
    }
  }
}
