import { createWriteStream, type WriteStream } from 'node:fs';

const streams = new Map<string, WriteStream>();

/**
 * A listener for the `'keylog'` event of a TLS socket or server that appends NSS
 * SSLKEYLOGFILE lines to `path` (append only, one shared stream per path, as the toolkit's
 * SSLKeyLogFile does). For debugging with Wireshark; never enable it in production.
 */
export function keyLogWriter(path: string): (line: Buffer) => void {
  let stream = streams.get(path);
  if (!stream) {
    stream = createWriteStream(path, { flags: 'a' });
    // A failing key log must not take the host down.
    stream.on('error', (err) => process.emitWarning(`key log ${path}: ${err.message}`, 'TlsKeyLogWarning'));
    streams.set(path, stream);
  }
  const s = stream;
  return (line: Buffer) => {
    s.write(line);
  };
}
