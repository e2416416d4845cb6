import { requireBinary } from './binaries.js';
import { freePort } from './ports.js';
import { coapPing, udpExchange } from './probes.js';
import { type PeerProcess, startPeer } from './process.js';

export type LibcoapFlavor = 'notls' | 'openssl' | 'gnutls';

export interface LibcoapServerOptions {
  /** Which build of libcoap to run. Default `'notls'`; DTLS needs `openssl` or `gnutls`. */
  flavor?: LibcoapFlavor;
  /** CoAP port; DTLS is served on port + 1. Free pair chosen when omitted. */
  port?: number;
  /** Extra arguments (e.g. `['-k', 'secretPSK']` or `['-c', cert, '-j', key]`). */
  args?: string[];
}

export interface LibcoapPeer {
  process: PeerProcess;
  host: string;
  /** CoAP (UDP) port. */
  port: number;
  /** CoAPS (DTLS) port: `port + 1`. */
  dtlsPort: number;
  stop(): Promise<void>;
}

/**
 * Starts libcoap's example server (`coap-server-<flavor>`, Debian `libcoap3-bin`) with its demo
 * resources (`/`, `/time` observable, `/async`, `/example_data`) on 127.0.0.1.
 */
export async function startLibcoapServer(options: LibcoapServerOptions = {}): Promise<LibcoapPeer> {
  const flavor = options.flavor ?? 'notls';
  const bin = requireBinary(`coap-server-${flavor}`);
  const port = options.port ?? (await freePort('both', { count: 2 }));
  const proc = await startPeer({
    name: `coap-server-${flavor}`,
    command: bin,
    args: ['-A', '127.0.0.1', '-p', String(port), ...(options.args ?? [])],
    // A CoAP ping (empty CON) is answered with a Reset once the server is up.
    ready: async () => {
      const reply = await udpExchange(coapPing(), port);
      return reply !== undefined && (reply[0] ?? 0) >> 4 === 0x7;
    },
  });
  return { process: proc, host: '127.0.0.1', port, dtlsPort: port + 1, stop: () => proc.stop() };
}
