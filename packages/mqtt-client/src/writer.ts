import { encode, encodeInto, encodePublishFrames, type Packet, type ProtocolVersion, packetSize } from '@iotwire/mqtt-packet';
import { clientError } from './errors.js';
import type { ByteStream } from './transport/types.js';

const SLAB = 64 * 1024;
/** Packets at least this large are written on their own (payload not copied). */
const BIG = 16 * 1024;

/**
 * Batches packets into one transport write per tick. Packets are encoded at once, into a
 * shared slab (so encoding errors reach the caller synchronously), and the bytes written so
 * far go out in one `write` from a microtask: a loop of publishes becomes a handful of
 * socket writes. Bytes handed to the transport are never overwritten (the slab only moves
 * forward, like Node's Buffer pool).
 */
export class PacketWriter {
  #slab: Buffer = Buffer.allocUnsafe(SLAB);
  #start = 0;
  #pos = 0;
  #scheduled = false;
  #stream: ByteStream | undefined;
  readonly #flushBound = () => this.flush();
  /** Largest packet the server accepts (MQTT 5 Maximum Packet Size). */
  maxPacketSize = Number.POSITIVE_INFINITY;
  version: ProtocolVersion = 4;
  /** Called after bytes went to the transport (keep-alive bookkeeping). */
  onFlush: () => void = () => {};
  /** Called when the transport reports back-pressure. */
  onBackpressure: () => void = () => {};

  attach(stream: ByteStream, version: ProtocolVersion): void {
    this.#stream = stream;
    this.version = version;
    this.maxPacketSize = Number.POSITIVE_INFINITY;
    this.#start = this.#pos;
  }

  /** Drops unsent bytes (the connection is gone). */
  detach(): void {
    this.#stream = undefined;
    this.#start = this.#pos;
  }

  get attached(): boolean {
    return this.#stream !== undefined;
  }

  /**
   * Encodes `packet` for sending. Throws the codec's MqttPacketError for invalid packets and
   * ERR_PACKET_TOO_LARGE above the server's Maximum Packet Size; nothing is queued then.
   */
  write(packet: Packet): number {
    const room = this.#slab.length - this.#pos;
    let size: number;
    // Fast path: a PUBLISH without properties is at most this large.
    if (packet.type === 'publish' && packet.properties === undefined && packet.payload.length + packet.topic.length * 3 + 10 <= room) {
      size = encodeInto(packet, this.version, this.#slab, this.#pos);
      if (size > this.maxPacketSize) throw this.#tooLarge(size);
      this.#pos += size;
    } else {
      size = packetSize(packet, this.version);
      if (size > this.maxPacketSize) throw this.#tooLarge(size);
      if (size >= BIG) {
        this.flush();
        if (this.#stream) {
          if (packet.type === 'publish') {
            const [head, body] = encodePublishFrames(packet, this.version);
            this.#stream.write(head);
            this.#afterWrite(this.#stream.write(body));
          } else {
            this.#afterWrite(this.#stream.write(encode(packet, this.version)));
          }
        }
        return size;
      }
      if (size > room) {
        this.flush();
        this.#slab = Buffer.allocUnsafe(SLAB);
        this.#start = this.#pos = 0;
      }
      encodeInto(packet, this.version, this.#slab, this.#pos);
      this.#pos += size;
    }
    if (this.#pos > this.#slab.length - 256) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flushBound);
    }
    return size;
  }

  /**
   * Like `write`, for a small control packet that must not wait behind queued bytes
   * (PINGREQ under MaxTransferRate): handed to the stream's `writeUrgent` when it has one.
   */
  writeUrgent(packet: Packet): void {
    const stream = this.#stream;
    if (!stream?.writeUrgent) {
      this.write(packet);
      return;
    }
    this.flush();
    stream.writeUrgent(encode(packet, this.version));
    this.onFlush();
  }

  #tooLarge(size: number) {
    return clientError('ERR_PACKET_TOO_LARGE', `packet of ${size} bytes exceeds the server's Maximum Packet Size ${this.maxPacketSize}`, {
      reasonCode: 0x95,
    });
  }

  /** Writes everything encoded so far. */
  flush(): void {
    this.#scheduled = false;
    if (this.#pos > this.#start) {
      const chunk = this.#slab.subarray(this.#start, this.#pos);
      this.#start = this.#pos;
      if (this.#stream) this.#afterWrite(this.#stream.write(chunk));
    }
    if (this.#slab.length - this.#pos < 256) {
      this.#slab = Buffer.allocUnsafe(SLAB);
      this.#start = this.#pos = 0;
    }
  }

  #afterWrite(ok: boolean): void {
    this.onFlush();
    if (!ok) this.onBackpressure();
  }
}
