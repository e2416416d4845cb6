import { createSocket, type Socket } from 'node:dgram';
import { lookup as dnsLookup, type LookupOneOptions } from 'node:dns';
import { EventEmitter } from 'node:events';
import { isIP, isIPv6 } from 'node:net';
import type { DatagramEndpoint, DatagramEndpointEvents, PeerAddress } from './endpoint.js';
import { UdpError, type UdpErrorCode } from './errors.js';

export interface UdpEndpointOptions {
  /** Local address to bind. Default `'0.0.0.0'`; an IPv6 address selects a `udp6` socket. */
  host?: string;
  /** Local port. Default `0` (ephemeral). */
  port?: number;
  /** Explicit socket type; otherwise derived from `host`. */
  type?: 'udp4' | 'udp6';
  /** For `udp6` sockets: refuse IPv4-mapped traffic. Default `false`. */
  ipv6Only?: boolean;
  /** Allow several sockets on one port (SO_REUSEADDR). Default `false`. */
  reuseAddr?: boolean;
  /** Kernel receive buffer size in bytes (SO_RCVBUF); unset keeps the OS default. */
  recvBufferSize?: number;
  /** Kernel send buffer size in bytes (SO_SNDBUF); unset keeps the OS default. */
  sendBufferSize?: number;
  /** Largest datagram `send` accepts. Default 65507 (IPv4 UDP payload limit). */
  maxDatagramSize?: number;
  /**
   * Upper bound on bytes pending: `send` calls not yet completed plus the socket's send queue.
   * Beyond it `send` rejects with `ERR_UDP_BACKPRESSURE` and `trySend` returns false, rather
   * than growing memory. Default 8 MiB.
   */
  maxPendingSendBytes?: number;
  /** Wrap an existing socket instead of creating one (it must not be bound yet unless `bound`). */
  socket?: Socket;
}

/** A UDP endpoint over `node:dgram` implementing the {@link DatagramEndpoint} seam. */
export class UdpEndpoint extends EventEmitter<DatagramEndpointEvents> implements DatagramEndpoint {
  readonly #socket: Socket;
  readonly #host: string;
  readonly #port: number;
  readonly #maxDatagram: number;
  readonly #maxPending: number;
  readonly #options: UdpEndpointOptions;
  #bound: Promise<PeerAddress> | undefined;
  #address: PeerAddress | undefined;
  #closed = false;
  /** Bytes of `send` calls whose callback has not run yet. */
  #inflight = 0;
  #binding = false;
  /** Datagrams received and handed to listeners. */
  datagramsIn = 0;
  /** Datagrams handed to the socket (by `send` or `trySend`). */
  datagramsOut = 0;
  /** Datagrams `trySend` refused (closed, not bound, too large, backpressure). */
  sendDrops = 0;

  constructor(options: UdpEndpointOptions = {}) {
    super();
    this.#options = options;
    this.#host = options.host ?? '0.0.0.0';
    this.#port = options.port ?? 0;
    this.#maxDatagram = options.maxDatagramSize ?? 65_507;
    this.#maxPending = options.maxPendingSendBytes ?? 8 * 1024 * 1024;
    const type = options.type ?? (isIPv6(this.#host) ? 'udp6' : 'udp4');
    this.#socket =
      options.socket ??
      createSocket({ type, reuseAddr: options.reuseAddr ?? false, ipv6Only: options.ipv6Only ?? false, lookup: literalLookup });
    this.#socket.on('message', (msg, rinfo) => {
      this.datagramsIn++;
      this.emit('message', msg, { address: rinfo.address, port: rinfo.port, family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4' }, {});
    });
    // Bind failures are reported through bind()'s rejection, not as an `error` event.
    this.#socket.on('error', (err) => {
      if (!this.#binding) this.#emitError(err);
    });
    this.#socket.on('close', () => {
      this.#closed = true;
      this.emit('close');
    });
  }

  /** The underlying dgram socket, for options this class does not wrap (multicast, TTL). */
  get socket(): Socket {
    return this.#socket;
  }

  /** Bytes of `send` calls not yet completed plus bytes waiting in the socket's send queue. */
  get pendingSendBytes(): number {
    return this.#closed ? 0 : this.#inflight + this.#socket.getSendQueueSize();
  }

  bind(): Promise<PeerAddress> {
    if (this.#closed) return Promise.reject(new UdpError('ERR_UDP_CLOSED', 'endpoint is closed'));
    this.#bound ??= new Promise<PeerAddress>((resolve, reject) => {
      this.#binding = true;
      const onError = (err: Error) => {
        this.#binding = false;
        reject(new UdpError('ERR_UDP_BIND', `cannot bind ${this.#host}:${this.#port}: ${err.message}`, { cause: err }));
      };
      this.#socket.once('error', onError);
      this.#socket.bind({ address: this.#host, port: this.#port }, () => {
        this.#binding = false;
        this.#socket.off('error', onError);
        const { recvBufferSize, sendBufferSize } = this.#options;
        if (recvBufferSize) this.#socket.setRecvBufferSize(recvBufferSize);
        if (sendBufferSize) this.#socket.setSendBufferSize(sendBufferSize);
        const a = this.#socket.address();
        this.#address = { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
        this.emit('listening', this.#address);
        resolve(this.#address);
      });
    });
    return this.#bound;
  }

  address(): PeerAddress | undefined {
    return this.#address;
  }

  /**
   * Sends one datagram and resolves once the socket has handed it to the kernel. The same
   * admission checks as {@link trySend}, but a refusal rejects with a typed `UdpError`
   * (`ERR_UDP_CLOSED`, `ERR_UDP_NOT_BOUND`, `ERR_UDP_DATAGRAM_TOO_LARGE`, `ERR_UDP_BACKPRESSURE`).
   */
  send(data: Uint8Array, peer: PeerAddress): Promise<void> {
    const refused = this.#admit(data.byteLength);
    if (refused !== undefined) return Promise.reject(this.#refusal(refused, data.byteLength));
    const size = data.byteLength;
    this.#inflight += size;
    this.datagramsOut++;
    return new Promise<void>((resolve, reject) => {
      this.#socket.send(data, peer.port, peer.address, (err) => {
        this.#inflight -= size;
        if (err) reject(new UdpError('ERR_UDP_SEND', `send to ${peer.address}:${peer.port} failed: ${err.message}`, { cause: err }));
        else resolve();
      });
    });
  }

  /**
   * Sends one datagram with no callback and no Promise. dgram first tries a synchronous
   * `sendmsg`; only when the kernel buffer is full does the datagram wait in the socket's send
   * queue, whose size is the backpressure figure. Returns false (counted in `sendDrops`) when
   * the datagram was refused. dgram reports nothing per datagram without a callback, except a
   * failed host-name lookup (an `error` event): peers are IP literals on the hot path.
   */
  trySend(data: Uint8Array, peer: PeerAddress): boolean {
    if (this.#admit(data.byteLength) !== undefined) {
      this.sendDrops++;
      return false;
    }
    this.datagramsOut++;
    this.#socket.send(data, peer.port, peer.address);
    return true;
  }

  /** Why a datagram of `size` bytes cannot be sent now, or undefined if it can. */
  #admit(size: number): UdpErrorCode | undefined {
    if (this.#closed) return 'ERR_UDP_CLOSED';
    if (this.#address === undefined) return 'ERR_UDP_NOT_BOUND';
    if (size > this.#maxDatagram) return 'ERR_UDP_DATAGRAM_TOO_LARGE';
    if (this.#inflight + this.#socket.getSendQueueSize() + size > this.#maxPending) return 'ERR_UDP_BACKPRESSURE';
    return undefined;
  }

  #refusal(code: UdpErrorCode, size: number): UdpError {
    switch (code) {
      case 'ERR_UDP_CLOSED':
        return new UdpError(code, 'endpoint is closed');
      case 'ERR_UDP_NOT_BOUND':
        return new UdpError(code, 'call bind() before send()');
      case 'ERR_UDP_DATAGRAM_TOO_LARGE':
        return new UdpError(code, `datagram of ${size} bytes exceeds ${this.#maxDatagram}`);
      default:
        return new UdpError(code, `${this.pendingSendBytes} bytes already pending (limit ${this.#maxPending})`);
    }
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    return new Promise<void>((resolve) => {
      try {
        this.#socket.close(() => resolve());
      } catch {
        resolve(); // never bound or already closed: nothing to release
      }
    });
  }

  #emitError(err: Error): void {
    // An `error` with no listener must not kill the host process.
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else process.emitWarning(`@iotwire/udp: ${err.message}`, { code: 'IOTWIRE_UDP_ERROR' });
  }
}

/**
 * dgram resolves the destination of every send through `dns.lookup`; for the IP literals that
 * datagram peers always carry that is pure overhead on the hot path, so answer those directly.
 */
function literalLookup(
  host: string,
  options: LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  const family = isIP(host);
  if (family !== 0) callback(null, host, family);
  else dnsLookup(host, options, callback);
}
