import { createSocket } from 'node:dgram';
import { connect } from 'node:net';

/** True when a TCP connection to host:port succeeds. */
export function tcpOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Sends one datagram and resolves with the first reply, or `undefined` after `timeoutMs`.
 * Used to probe UDP peers (a CoAP ping is answered by a Reset).
 */
export function udpExchange(data: Uint8Array, port: number, host = '127.0.0.1', timeoutMs = 300): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    const done = (v: Buffer | undefined) => {
      clearTimeout(timer);
      s.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    s.once('message', (msg) => done(msg));
    s.once('error', () => done(undefined));
    s.send(data, port, host);
  });
}

/** A CoAP ping (empty Confirmable, RFC 7252 §4.3) with the given message id. */
export function coapPing(messageId = 0x1234): Uint8Array {
  return Uint8Array.from([0x40, 0x00, messageId >> 8, messageId & 0xff]);
}
