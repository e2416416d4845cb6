import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpServerErrorCode } from '../src/index.js';
import { accept, listen, next, until } from './helpers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iotwire-tcp-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('send flow control', () => {
  it('send returns false above OutBufferSize; readyToSend fires when it drains (and once after connect)', async () => {
    const s = await listen({ outBufferSize: 1024 });
    const ready: string[] = [];
    s.on('readyToSend', (id) => ready.push(id));
    const { peer, id, conn } = await accept(s);
    expect(ready).toEqual(['1']);
    peer.socket.pause();
    let ok = true;
    let sent = 0;
    for (let i = 0; i < 10_000 && ok; i++) {
      ok = s.send(id, Buffer.alloc(32 * 1024));
      sent += 32 * 1024;
    }
    expect(ok).toBe(false);
    expect(conn.readyToSend).toBe(false);
    const drained = next(s, 'readyToSend');
    peer.socket.resume();
    await drained;
    expect(conn.readyToSend).toBe(true);
    await until(() => peer.receivedLength === sent);
  });

  it("wouldBlock: 'throw' throws 135 while the queue is full, with BytesSent 0", async () => {
    const s = await listen({ outBufferSize: 1024, wouldBlock: 'throw', maxSendBuffer: 1e9 });
    const { peer, id, conn } = await accept(s);
    peer.socket.pause();
    let thrown: unknown;
    for (let i = 0; i < 10_000 && !thrown; i++) {
      try {
        s.send(id, Buffer.alloc(64 * 1024));
      } catch (e) {
        thrown = e;
      }
    }
    expect(thrown).toMatchObject({ code: TcpServerErrorCode.WouldBlock, message: '[135] Operation would block' });
    expect(conn.bytesSent).toBe(0);
    peer.socket.resume();
    await next(s, 'readyToSend');
    expect(s.send(id, Buffer.from('x'))).toBeTypeOf('boolean');
  });

  it('a client that never reads: the send queue is bounded, then the connection drops with 10055', async () => {
    const s = await listen({ maxSendBuffer: 256 * 1024 });
    const { peer, id } = await accept(s);
    peer.socket.pause(); // never reads
    const gone = next<[string, number, string]>(s, 'disconnected');
    let rounds = 0;
    while (s.connections.has(id) && rounds++ < 100_000) s.send(id, Buffer.alloc(16 * 1024));
    const [, code, description] = await gone;
    expect(code).toBe(TcpServerErrorCode.NoBufferSpace);
    expect(description).toMatch(/peer not reading/);
    expect(s.connections.size).toBe(0);
    // Other clients are unaffected.
    const other = await accept(s);
    s.sendText(other.id, 'fine');
    await other.peer.waitFor((t) => t === 'fine');
  });

  it('flush/sendAsync resolve once sent; with Timeout they fail with 10060 when the peer stalls', async () => {
    const s = await listen({ defaultTimeout: 0.3, maxSendBuffer: 1e9 });
    const { peer, id } = await accept(s);
    await s.sendAsync(id, 'quick');
    await peer.waitFor((t) => t === 'quick');
    peer.socket.pause();
    const big = Buffer.alloc(32 * 1024 * 1024);
    await expect(s.sendAsync(id, big)).rejects.toMatchObject({ code: TcpServerErrorCode.TimedOut });
    // The connection stays usable once the peer reads again.
    peer.socket.resume();
    await s.flush(id);
    await until(() => peer.receivedLength === 5 + big.length);
  });

  it('sendFile streams a file with back-pressure; interrupt stops it and keeps the connection', async () => {
    const file = join(dir, 'payload.bin');
    const content = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < content.length; i++) content[i] = i & 0xff;
    writeFileSync(file, content);
    const s = await listen({ maxSendBuffer: 128 * 1024 });
    const { peer, id } = await accept(s);
    const r = await s.sendFile(id, file);
    expect(r).toEqual({ bytesSent: content.length, interrupted: false });
    await until(() => peer.receivedLength === content.length);
    expect(peer.received.equals(content)).toBe(true);

    // Interrupt: an endless source into a peer that stopped reading blocks on back-pressure.
    peer.socket.pause();
    const before = peer.receivedLength;
    async function* endless() {
      for (let i = 0; i < 100_000; i++) yield Buffer.alloc(64 * 1024, 0x7a);
    }
    const pending = s.sendStream(id, endless());
    await until(() => s.connections.get(id)!.writableNeedDrain, 10_000, 'transfer blocked');
    expect(s.interrupt(id)).toBe(true);
    const r2 = await pending;
    expect(r2.interrupted).toBe(true);
    expect(r2.bytesSent).toBeLessThan(100_000 * 64 * 1024);
    expect(s.connections.has(id)).toBe(true);
    peer.socket.resume();
    s.sendText(id, 'END');
    await until(() => peer.receivedLength === before + r2.bytesSent + 3, 20_000, 'rest of the data');
    expect(peer.received.subarray(-3).toString()).toBe('END');
    await expect(s.sendFile(id, join(dir, 'missing'))).rejects.toMatchObject({ name: 'TcpServerError' });
  });

  it('sendStream takes any readable (CloseStreamAfterTransfer)', async () => {
    const s = await listen();
    const { peer, id } = await accept(s);
    const src = Readable.from(['a', 'b', 'c']);
    expect(await s.sendStream(id, src)).toEqual({ bytesSent: 3, interrupted: false });
    expect(src.destroyed).toBe(true);
    const kept = Readable.from([Buffer.from('d')]);
    await s.sendStream(id, kept, { closeStream: false });
    await peer.waitFor((t) => t === 'abcd');
  });
});

describe('idle timeout', () => {
  it('disconnects a silent client after IdleTimeout with 10060; traffic resets the timer', async () => {
    const s = await listen({ defaultIdleTimeout: 1 });
    const { peer, conn } = await accept(s);
    const started = Date.now();
    // Keep it busy for a while: each write resets the timer.
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setTimeout(r, 200));
      peer.write('.');
    }
    expect(s.connections.has(conn.connectionId)).toBe(true);
    const [, code, description] = await next<[string, number, string]>(s, 'disconnected');
    expect(code).toBe(TcpServerErrorCode.TimedOut);
    expect(description).toMatch(/Idle timeout/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    await peer.closed;
  });

  it('a per-connection IdleTimeout overrides the default and can be turned off', async () => {
    const s = await listen({ defaultIdleTimeout: 0.2 });
    const a = await accept(s);
    a.conn.idleTimeout = 0;
    const b = await accept(s);
    const [id] = await next<[string]>(s, 'disconnected');
    expect(id).toBe(b.id);
    expect(s.connections.has(a.id)).toBe(true);
  });
});
