import type { Readable, Writable } from 'node:stream';

/** An output stream as the commands use it (process.stdout/stderr, or a test double). */
export type Output = Writable & { isTTY?: boolean; columns?: number };

/** The process's streams, injectable so commands run in tests without a process. */
export interface Io {
  stdout: Output;
  stderr: Output;
  stdin: Readable;
}

/** Writes `data` and resolves once the stream accepted it (waits for 'drain' under back-pressure). */
export function write(out: Output, data: string | Uint8Array): Promise<void> | undefined {
  if (out.write(data)) return undefined;
  return new Promise((resolve) => out.once('drain', resolve));
}

/** Reads a stream to its end. */
export async function readAll(input: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks);
}

/**
 * Splits a byte stream into lines at `\n` (a `\r` stays, as with mosquitto_pub -l); the last
 * line is yielded even without a newline.
 */
export async function* readLines(input: Readable): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  for await (const c of input) {
    const chunk = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    let start = 0;
    for (let nl = chunk.indexOf(10, start); nl >= 0; nl = chunk.indexOf(10, start)) {
      const part = chunk.subarray(start, nl);
      yield pending.length ? Buffer.concat([...pending, part]) : part;
      pending = [];
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  if (pending.length) yield Buffer.concat(pending);
}
