/**
 * A small raw MQTT test client on @iotwire/mqtt-packet (test-only): sends any packet or raw
 * bytes and lets a test await the broker's packets one by one, and the connection's close.
 */
import net from 'node:net';
import {
  type ConnackPacket,
  type ConnectPacket,
  Decoder,
  encode,
  type Packet,
  type PacketOf,
  type ProtocolVersion,
} from '@iotwire/mqtt-packet';

type Waiter = { type: string | undefined; resolve: (p: Packet) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class RawClient {
  readonly packets: Packet[] = [];
  readonly #waiters: Waiter[] = [];
  readonly decoder: Decoder;
  #closed = false;
  readonly closed: Promise<void>;
  decodeError: Error | undefined;

  private constructor(
    readonly socket: net.Socket,
    public version: ProtocolVersion,
  ) {
    this.decoder = new Decoder((p) => this.#onPacket(p), { side: 'client', protocolVersion: version });
    socket.on('data', (chunk) => {
      try {
        this.decoder.push(chunk);
      } catch (e) {
        this.decodeError = e as Error;
      }
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.#closed = true;
        for (const w of this.#waiters.splice(0)) {
          clearTimeout(w.timer);
          w.reject(new Error(`connection closed while waiting for ${w.type ?? 'a packet'}`));
        }
        resolve();
      });
    });
    socket.on('error', () => {});
  }

  static open(port: number, version: ProtocolVersion = 4, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host, port }, () => resolve(new RawClient(s, version)));
      s.setNoDelay(true);
      s.once('error', reject);
    });
  }

  /** Opens a connection and completes CONNECT/CONNACK. */
  static async connect(port: number, connect: Partial<ConnectPacket> = {}): Promise<{ client: RawClient; connack: ConnackPacket }> {
    const version = connect.protocolVersion ?? 4;
    const client = await RawClient.open(port, version);
    const connack = await client.handshake(connect);
    return { client, connack };
  }

  async handshake(connect: Partial<ConnectPacket> = {}): Promise<ConnackPacket> {
    const version = connect.protocolVersion ?? this.version;
    this.version = version;
    this.decoder.protocolVersion = version;
    this.send({
      type: 'connect',
      protocolVersion: version,
      clean: true,
      keepAlive: 0,
      clientId: `raw-${Math.random().toString(36).slice(2, 10)}`,
      ...connect,
    });
    return (await this.next('connack')) as ConnackPacket;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  #onPacket(p: Packet): void {
    const i = this.#waiters.findIndex((w) => w.type === undefined || w.type === p.type);
    if (i >= 0) {
      const [w] = this.#waiters.splice(i, 1);
      clearTimeout(w!.timer);
      w!.resolve(p);
    } else this.packets.push(p);
  }

  send(p: Packet): void {
    this.socket.write(encode(p, p.type === 'connect' ? p.protocolVersion : this.version));
  }

  sendRaw(bytes: Uint8Array | number[]): void {
    this.socket.write(Buffer.from(bytes as Uint8Array));
  }

  /** The next packet (of `type`, skipping nothing of other types: they stay queued). */
  next<T extends Packet['type']>(type?: T, timeoutMs = 5000): Promise<PacketOf<T>> {
    const i = this.packets.findIndex((p) => type === undefined || p.type === type);
    if (i >= 0) return Promise.resolve(this.packets.splice(i, 1)[0] as PacketOf<T>);
    if (this.#closed) return Promise.reject(new Error(`closed; no ${type ?? 'packet'}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const k = this.#waiters.indexOf(w);
        if (k >= 0) this.#waiters.splice(k, 1);
        reject(new Error(`no ${type ?? 'packet'} within ${timeoutMs} ms (have: ${this.packets.map((p) => p.type).join(',')})`));
      }, timeoutMs);
      const w: Waiter = { type, resolve: resolve as (p: Packet) => void, reject, timer };
      this.#waiters.push(w);
    });
  }

  /** Resolves true if no packet of `type` arrives within `ms` (for "must not be sent" checks). */
  async none(type: Packet['type'], ms = 300): Promise<boolean> {
    try {
      await this.next(type, ms);
      return false;
    } catch {
      return true;
    }
  }

  /** Waits for the close; fails after `timeoutMs`. */
  async expectClose(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.closed,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`connection not closed within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  end(): void {
    this.socket.end();
  }
  destroy(): void {
    this.socket.destroy();
  }
}
