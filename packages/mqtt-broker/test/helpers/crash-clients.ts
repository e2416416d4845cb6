/**
 * Raw MQTT 3.1.1 clients for the crash tests, with persistent sessions that outlive their
 * connections (and the broker process): a publisher that re-sends what was not acknowledged
 * (DUP PUBLISH, or PUBREL once PUBREC came), and a subscriber that records every delivery and
 * answers QoS 2 by "deliver on PUBLISH, keep the packet id until PUBREL" — the strictest
 * receiver, which counts any re-delivery of a message under a new packet id as a duplicate.
 */
import net from 'node:net';
import { Decoder, encode, type Packet } from '@iotwire/mqtt-packet';

abstract class PersistentClient {
  socket: net.Socket | null = null;
  connected = false;
  sessionLost = 0;
  #connects = 0;
  constructor(readonly clientId: string) {}

  /** Connects (clean=false); resolves on CONNACK or rejects when the socket dies first. */
  connect(port: number): Promise<void> {
    this.connected = false;
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port });
      this.socket = s;
      s.setNoDelay(true);
      const decoder = new Decoder((p) => this.#onPacket(p, resolve), { side: 'client', protocolVersion: 4 });
      s.on('data', (d) => {
        try {
          decoder.push(d);
        } catch {
          s.destroy();
        }
      });
      s.on('error', () => {});
      s.on('close', () => {
        this.connected = false;
        reject(new Error(`${this.clientId}: closed before CONNACK`));
      });
      s.on('connect', () => this.send({ type: 'connect', protocolVersion: 4, clean: false, keepAlive: 0, clientId: this.clientId }));
    });
  }

  #onPacket(p: Packet, resolve: () => void): void {
    if (p.type === 'connack') {
      if (p.reasonCode !== 0) {
        this.socket?.destroy();
        return;
      }
      if (this.#connects++ > 0 && !p.sessionPresent) this.sessionLost++;
      this.connected = true;
      this.onConnected();
      resolve();
      return;
    }
    this.onPacket(p);
  }

  send(p: Packet): void {
    if (this.socket !== null && !this.socket.destroyed) this.socket.write(encode(p, 4));
  }

  protected abstract onConnected(): void;
  protected abstract onPacket(p: Packet): void;
}

export class CrashPublisher extends PersistentClient {
  running = true;
  readonly acked = new Set<number>();
  readonly #inflight = new Map<number, { seq: number; released: boolean }>();
  #seq = 0;
  #pid = 0;
  constructor(
    clientId: string,
    readonly topic: string,
    readonly qos: 1 | 2,
    readonly window = 16,
  ) {
    super(clientId);
  }

  get sent(): number {
    return this.#seq;
  }
  get pending(): number {
    return this.#inflight.size;
  }

  protected onConnected(): void {
    // Re-send in order what the broker has not acknowledged [MQTT-4.4.0-1].
    for (const [packetId, m] of this.#inflight) {
      if (m.released) this.send({ type: 'pubrel', packetId });
      else this.#publish(packetId, m.seq, true);
    }
    this.#pump();
  }

  #publish(packetId: number, seq: number, dup: boolean): void {
    this.send({
      type: 'publish',
      topic: this.topic,
      payload: Buffer.from(`${this.topic}:${seq}`),
      qos: this.qos,
      packetId,
      dup,
      retain: false,
    });
  }

  #pump(): void {
    while (this.connected && this.running && this.#inflight.size < this.window) {
      do this.#pid = this.#pid >= 65_535 ? 1 : this.#pid + 1;
      while (this.#inflight.has(this.#pid));
      const seq = ++this.#seq;
      this.#inflight.set(this.#pid, { seq, released: false });
      this.#publish(this.#pid, seq, false);
    }
  }

  protected onPacket(p: Packet): void {
    if (p.type === 'puback') {
      const m = this.#inflight.get(p.packetId);
      if (m === undefined) return;
      this.acked.add(m.seq);
      this.#inflight.delete(p.packetId);
      this.#pump();
    } else if (p.type === 'pubrec') {
      const m = this.#inflight.get(p.packetId);
      if (m === undefined) return;
      this.acked.add(m.seq);
      m.released = true;
      this.send({ type: 'pubrel', packetId: p.packetId });
    } else if (p.type === 'pubcomp') {
      if (this.#inflight.delete(p.packetId)) this.#pump();
    }
  }
}

export class CrashSubscriber extends PersistentClient {
  /** Deliveries per payload. */
  readonly counts = new Map<string, number>();
  readonly #awaitingRel = new Set<number>();
  #subscribed = false;
  constructor(
    clientId: string,
    readonly filter: string,
    readonly qos: 1 | 2,
  ) {
    super(clientId);
  }

  get subscribed(): boolean {
    return this.#subscribed;
  }

  protected onConnected(): void {
    if (!this.#subscribed) this.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: this.filter, qos: this.qos }] });
  }

  #deliver(payload: Uint8Array): void {
    const k = Buffer.from(payload).toString();
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  protected onPacket(p: Packet): void {
    if (p.type === 'suback') {
      this.#subscribed = true;
    } else if (p.type === 'publish') {
      if (p.qos === 0) this.#deliver(p.payload);
      else if (p.qos === 1) {
        this.#deliver(p.payload);
        this.send({ type: 'puback', packetId: p.packetId as number });
      } else {
        const id = p.packetId as number;
        if (!this.#awaitingRel.has(id)) {
          this.#awaitingRel.add(id);
          this.#deliver(p.payload);
        }
        this.send({ type: 'pubrec', packetId: id });
      }
    } else if (p.type === 'pubrel') {
      this.#awaitingRel.delete(p.packetId);
      this.send({ type: 'pubcomp', packetId: p.packetId });
    }
  }
}
