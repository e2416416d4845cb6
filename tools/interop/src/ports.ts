import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

export type PortKind = 'tcp' | 'udp' | 'both';

function probeTcp(host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(undefined));
    srv.listen({ host, port, exclusive: true }, () => {
      const { port: p } = srv.address() as { port: number };
      srv.close(() => resolve(p));
    });
  });
}

function probeUdp(host: string, port: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', () => {
      s.close();
      resolve(undefined);
    });
    s.bind(port, host, () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

const handedOut = new Set<number>();

/**
 * A port that is free on loopback for `kind` (and, with `count` > 1, the `count - 1` ports
 * after it too: libcoap listens on p for CoAP and p+1 for DTLS). Ports handed out by this
 * process are not handed out again, so parallel tests in one worker do not collide.
 */
export async function freePort(kind: PortKind = 'tcp', options: { host?: string; count?: number } = {}): Promise<number> {
  const host = options.host ?? '127.0.0.1';
  const count = options.count ?? 1;
  for (let attempt = 0; attempt < 200; attempt++) {
    // Random high base keeps parallel vitest workers (separate processes) from racing each other.
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    let ok = true;
    for (let i = 0; i < count && ok; i++) {
      const p = base + i;
      if (handedOut.has(p)) ok = false;
      else if ((kind === 'tcp' || kind === 'both') && (await probeTcp(host, p)) === undefined) ok = false;
      else if ((kind === 'udp' || kind === 'both') && (await probeUdp(host, p)) === undefined) ok = false;
    }
    if (ok) {
      for (let i = 0; i < count; i++) handedOut.add(base + i);
      return base;
    }
  }
  throw new Error(`no free ${kind} port range of ${count} on ${host}`);
}
