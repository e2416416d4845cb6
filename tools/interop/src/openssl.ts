import { requireBinary } from './binaries.js';
import { freePort } from './ports.js';
import { type PeerProcess, startPeer } from './process.js';

export interface OpensslDtlsServerOptions {
  port?: number;
  /**
   * Arguments after `s_server -dtls1_2 -accept 127.0.0.1:PORT`, e.g.
   * `['-listen', '-nocert', '-psk', '73656372657450534b', '-cipher', 'PSK-AES128-CCM8']`.
   */
  args: string[];
}

export interface OpensslPeer {
  process: PeerProcess;
  host: string;
  port: number;
  stop(): Promise<void>;
}

/** Starts `openssl s_server -dtls1_2` on a free loopback UDP port; ready when it prints ACCEPT. */
export async function startOpensslDtlsServer(options: OpensslDtlsServerOptions): Promise<OpensslPeer> {
  const bin = requireBinary('openssl');
  const port = options.port ?? (await freePort('udp'));
  const proc = await startPeer({
    name: 'openssl s_server',
    command: bin,
    args: ['s_server', '-dtls1_2', '-accept', `127.0.0.1:${port}`, ...options.args],
    ready: (p) => /ACCEPT/.test(p.output),
  });
  return { process: proc, host: '127.0.0.1', port, stop: () => proc.stop() };
}

/**
 * Starts `openssl s_client -dtls1_2 -connect 127.0.0.1:PORT ...args` (stdin kept open so data
 * can be written to the session). Resolves once the process runs; wait on its output for the
 * handshake result (e.g. `/Cipher is/`).
 */
export async function startOpensslDtlsClient(port: number, args: string[], host = '127.0.0.1'): Promise<PeerProcess> {
  const bin = requireBinary('openssl');
  return startPeer({
    name: 'openssl s_client',
    command: bin,
    args: ['s_client', '-dtls1_2', '-connect', `${host.includes(':') ? `[${host}]` : host}:${port}`, ...args],
    ready: () => true,
  });
}

/**
 * Starts `openssl s_client -connect HOST:PORT ...args` over TCP (TLS, no DTLS), stdin kept
 * open so data can be written to the session. Resolves once the process runs; wait on its
 * output for the handshake result (e.g. `/Verify return code/`, `/Cipher is/`). Typical args:
 * `['-CAfile', ca, '-cert', c, '-key', k, '-servername', 'localhost', '-quiet']`, or
 * `['-starttls', 'smtp']` for an explicit-TLS exchange.
 */
export async function startOpensslTlsClient(port: number, args: string[], host = '127.0.0.1'): Promise<PeerProcess> {
  const bin = requireBinary('openssl');
  return startPeer({
    name: 'openssl s_client',
    command: bin,
    args: ['s_client', '-connect', `${host.includes(':') ? `[${host}]` : host}:${port}`, ...args],
    ready: () => true,
  });
}
