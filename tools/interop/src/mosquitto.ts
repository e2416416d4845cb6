import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { requireBinary } from './binaries.js';
import { freePort } from './ports.js';
import { tcpOpen } from './probes.js';
import { type PeerProcess, startPeer } from './process.js';

export interface MosquittoTlsOptions {
  /** Server certificate and key, PEM text. */
  cert: string;
  key: string;
  /** CA certificates (PEM text) that client certificates must chain to. */
  ca?: string;
  /** Require a client certificate. Default false. */
  requireCertificate?: boolean;
}

export interface MosquittoOptions {
  /** Plain MQTT port; free one chosen when omitted. */
  port?: number;
  /** Add a WebSocket listener (path is ignored by Mosquitto; any path works). */
  websockets?: boolean;
  /** Add a TLS listener. */
  tls?: MosquittoTlsOptions;
  /** Extra configuration lines appended to the generated file. */
  extraConfig?: string[];
}

export interface MosquittoPeer {
  process: PeerProcess;
  host: string;
  port: number;
  wsPort?: number;
  tlsPort?: number;
  stop(): Promise<void>;
}

/** Starts Debian's `mosquitto` on free loopback ports with a generated configuration. */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<MosquittoPeer> {
  const bin = requireBinary('mosquitto');
  const dir = mkdtempSync(join(tmpdir(), 'iotwire-mosquitto-'));
  chmodSync(dir, 0o755); // mosquitto may drop privileges before reading certificates
  const port = options.port ?? (await freePort('tcp'));
  const lines = [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'log_dest stdout',
    'log_type error',
    'log_type warning',
    'log_type notice',
    'log_type information',
    'max_keepalive 65535',
  ];
  if (userInfo().uid === 0) lines.push('user root');
  let wsPort: number | undefined;
  if (options.websockets) {
    wsPort = await freePort('tcp');
    lines.push(`listener ${wsPort} 127.0.0.1`, 'protocol websockets');
  }
  let tlsPort: number | undefined;
  if (options.tls) {
    tlsPort = await freePort('tcp');
    const w = (name: string, text: string) => {
      const f = join(dir, name);
      writeFileSync(f, text, { mode: 0o644 });
      return f;
    };
    lines.push(
      `listener ${tlsPort} 127.0.0.1`,
      `certfile ${w('server.crt', options.tls.cert)}`,
      `keyfile ${w('server.key', options.tls.key)}`,
    );
    if (options.tls.ca) lines.push(`cafile ${w('ca.crt', options.tls.ca)}`);
    lines.push(`require_certificate ${options.tls.requireCertificate ? 'true' : 'false'}`);
  }
  lines.push(...(options.extraConfig ?? []));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `${lines.join('\n')}\n`, { mode: 0o644 });
  const ports = [port, wsPort, tlsPort].filter((p): p is number => p !== undefined);
  const proc = await startPeer({
    name: 'mosquitto',
    command: bin,
    args: ['-c', conf],
    ready: async () => (await Promise.all(ports.map((p) => tcpOpen(p)))).every(Boolean),
  });
  return {
    process: proc,
    host: '127.0.0.1',
    port,
    ...(wsPort !== undefined ? { wsPort } : {}),
    ...(tlsPort !== undefined ? { tlsPort } : {}),
    async stop() {
      await proc.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
