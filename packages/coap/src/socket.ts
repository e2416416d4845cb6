import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns';
import { isIPv6 } from 'node:net';

/** True for dotted-quad IPv4 or any IPv6 literal, without a regular expression. */
function isIpLiteral(host: string): boolean {
  if (host.includes(':')) return true;
  let dots = 0;
  let digits = 0;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    if (c === 46) {
      if (digits === 0) return false;
      dots++;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (++digits > 3) return false;
    } else return false;
  }
  return dots === 3 && digits > 0;
}

/**
 * A dgram socket whose address lookup answers IP literals synchronously. dgram resolves the
 * destination of every `send` through `dns.lookup`, which for a literal still costs a regular
 * expression and a `process.nextTick`; a server replying to thousands of peers a second only
 * ever sends to literals.
 */
export function createUdpSocket(host: string, reuseAddr: boolean): Socket {
  const type = isIPv6(host) ? 'udp6' : 'udp4';
  return createSocket({
    type,
    reuseAddr,
    lookup: (hostname: string, options: unknown, callback: (err: Error | null, address: string, family: number) => void) => {
      if (isIpLiteral(hostname)) callback(null, hostname, hostname.includes(':') ? 6 : 4);
      else lookup(hostname, options as number, callback as never);
    },
  } as Parameters<typeof createSocket>[0]);
}
