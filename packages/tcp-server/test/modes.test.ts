import { describe, expect, it } from 'vitest';
import { type Connection, TcpServerErrorCode } from '../src/index.js';
import { accept, listen, next, record, until } from './helpers.js';

/** Writes the parts one by one, each in its own TCP segment (waits for the server to read each). */
async function writeApart(conn: Connection, write: (s: string) => void, parts: string[]): Promise<void> {
  for (const part of parts) {
    const before = conn.socket.bytesRead;
    write(part);
    await until(() => conn.socket.bytesRead >= before + Buffer.byteLength(part, 'latin1'), 5000, 'server read');
  }
}

describe('line mode over a socket', () => {
  it('splits on the EOL sequence, also when it is split across packets, and strips it', async () => {
    const s = await listen({ defaultEol: '\r\n' });
    const lines: Array<[string, boolean]> = [];
    s.on('dataIn', (_id, d, eol) => lines.push([d.toString(), eol]));
    const { peer, conn } = await accept(s);
    await writeApart(conn, (x) => peer.write(x), ['GET /a', '\r', '\nsecond\r\nthi', 'rd\r\n']);
    await until(() => lines.length === 3);
    expect(lines).toEqual([
      ['GET /a', true],
      ['second', true],
      ['third', true],
    ]);
  });

  it('oversized lines: MaxLineLength pieces with eol=false, memory bounded, connection unaffected', async () => {
    const s = await listen({ defaultEol: '\n', defaultMaxLineLength: 256 });
    const frames: Array<[number, boolean]> = [];
    s.on('dataIn', (_id, d, eol) => frames.push([d.length, eol]));
    const { peer } = await accept(s);
    peer.write(`${'x'.repeat(100_000)}\nshort\n`);
    await until(() => frames.at(-1)?.[1] === true && frames.length > 2);
    expect(frames.filter(([, eol]) => !eol).every(([n]) => n === 256)).toBe(true);
    const total = frames.slice(0, -1).reduce((a, [n]) => a + n, 0);
    expect(total).toBe(100_000);
    expect(frames.at(-1)).toEqual([5, true]);
  });

  it('SingleLineMode: CR, LF and CRLF end lines; a CRLF split across packets adds no empty line', async () => {
    const s = await listen({ defaultSingleLineMode: true });
    const lines: string[] = [];
    s.on('dataIn', (_id, d) => lines.push(d.toString()));
    const { peer, conn } = await accept(s);
    await writeApart(conn, (x) => peer.write(x), ['one\r', '\ntwo\nthree\r', 'four\r\n']);
    await until(() => lines.length === 4);
    expect(lines).toEqual(['one', 'two', 'three', 'four']);
  });

  it('per-connection EOL and MaxLineLength can change; 112 while a partial line is buffered', async () => {
    const s = await listen({ defaultEol: '\n' });
    const lines: string[] = [];
    s.on('dataIn', (_id, d) => lines.push(d.toString()));
    const { peer, conn } = await accept(s);
    peer.write('partial');
    await until(() => conn.socket.bytesRead === 7);
    expect(() => (conn.maxLineLength = 512)).toThrow(expect.objectContaining({ code: TcpServerErrorCode.CannotChangeMaxLineLength }));
    expect(() => (conn.maxLineLength = 100)).toThrow(expect.objectContaining({ code: TcpServerErrorCode.InvalidArgument }));
    peer.write('\n');
    await until(() => lines.length === 1);
    conn.maxLineLength = 512;
    conn.eol = '||';
    peer.write('a||b||');
    await until(() => lines.length === 3);
    expect(lines).toEqual(['partial', 'a', 'b']);
  });

  it('delivers a partial line left at the peer’s close with eol=false, before Disconnected', async () => {
    const s = await listen({ defaultEol: '\n' });
    const log = record(s);
    const { peer } = await accept(s);
    peer.write('complete\nunterminated');
    peer.socket.end();
    await next(s, 'disconnected');
    expect(log.slice(2)).toEqual(['dataIn 1 "complete" true', 'dataIn 1 "unterminated" false', 'disconnected 1 0']);
  });
});

describe('record mode', () => {
  it('ChangeRecordLength inside DataIn parses a length-prefixed protocol from the buffered bytes', async () => {
    const s = await listen();
    const frames: string[] = [];
    s.on('connected', (id) => s.changeRecordLength(id, 2));
    s.on('dataIn', (id, d, _eol, conn) => {
      frames.push(d.toString());
      if (conn.recordLength === 2) s.changeRecordLength(id, Number(d.toString()));
      else s.changeRecordLength(id, 2);
    });
    const { peer } = await accept(s);
    peer.write('03abc05hel');
    peer.write('lo01!');
    await until(() => frames.length === 6);
    expect(frames).toEqual(['03', 'abc', '05', 'hello', '01', '!']);
    expect(() => s.changeRecordLength('1', -1)).toThrow(expect.objectContaining({ code: 10022 }));
  });
});

describe('PauseData / ProcessData', () => {
  it('no DataIn while paused (even for lines already buffered); ProcessData delivers them first', async () => {
    const s = await listen({ defaultEol: '\n' });
    const lines: string[] = [];
    s.on('dataIn', (id, d) => {
      lines.push(d.toString());
      if (d.toString() === 'pause') s.pauseData(id);
    });
    const { peer, conn } = await accept(s);
    peer.write('a\npause\nb\nc\n');
    await until(() => lines.length === 2);
    expect(conn.acceptData).toBe(false);
    peer.write('d\n');
    await until(() => conn.socket.bytesRead >= 14 || conn.socket.isPaused());
    // Give the socket a chance to (wrongly) deliver; it must not while paused.
    await new Promise((r) => setTimeout(r, 50));
    expect(lines).toEqual(['a', 'pause']);
    s.processData('1');
    expect(conn.acceptData).toBe(true);
    expect(lines.slice(0, 4)).toEqual(['a', 'pause', 'b', 'c']);
    await until(() => lines.length === 5);
    expect(lines[4]).toBe('d');
  });

  it('pausing applies TCP back-pressure: the peer’s writes stall, then flow again', async () => {
    const s = await listen();
    let received = 0;
    s.on('dataIn', (_id, d) => (received += d.length));
    const { peer, conn } = await accept(s);
    s.pauseData(conn.connectionId);
    const chunk = Buffer.alloc(64 * 1024);
    let flowing = true;
    for (let i = 0; i < 2000 && flowing; i++) flowing = peer.socket.write(chunk);
    // The peer fills the socket buffers and must wait.
    await until(() => peer.socket.writableLength > 0 && !flowing, 10_000, 'peer back-pressure');
    expect(received).toBe(0);
    const sent = peer.socket.bytesWritten;
    s.processData(conn.connectionId);
    await until(() => received === sent, 10_000, 'all data after resume');
  });
});

describe('raw mode (the seam for protocol servers)', () => {
  it('hands every chunk to onData, with no framing and no dataIn events', async () => {
    const chunks: Buffer[] = [];
    const s = await listen({
      defaultEol: '\n', // ignored in raw mode
      onData: (chunk, conn) => {
        chunks.push(chunk);
        conn.write(chunk);
      },
    });
    let dataIn = 0;
    s.on('dataIn', () => dataIn++);
    const { peer } = await accept(s);
    peer.write('no\nframing');
    await peer.waitFor((t) => t === 'no\nframing');
    expect(Buffer.concat(chunks).toString()).toBe('no\nframing');
    expect(dataIn).toBe(0);
  });

  it('a connection can switch to raw mode later; buffered bytes go to the handler first', async () => {
    const s = await listen({ defaultEol: '\n' });
    const got: string[] = [];
    s.on('dataIn', (_id, d, _eol, conn) => {
      got.push(`line:${d}`);
      if (d.toString() === 'UPGRADE') conn.onData = (c) => got.push(`raw:${c}`);
    });
    const { peer } = await accept(s);
    peer.write('UPGRADE\nbinary');
    await until(() => got.length === 2);
    peer.write('\nmore');
    await until(() => got.length === 3);
    expect(got).toEqual(['line:UPGRADE', 'raw:binary', 'raw:\nmore']);
  });

  it('exposes the byte-stream surface: write, cork/uncork, end, destroy, addresses', async () => {
    const s = await listen({ onData: () => {} });
    const { peer, conn } = await accept(s);
    conn.cork();
    conn.write(Buffer.from('a'));
    conn.write('b');
    conn.uncork();
    await peer.waitFor((t) => t === 'ab');
    expect(conn.writableLength).toBe(0);
    expect(conn.writableNeedDrain).toBe(false);
    expect(conn.peerCertificate()).toBeUndefined();
    const gone = next(s, 'disconnected');
    await conn.end();
    await gone;
    expect(conn.write('late')).toBe(false);
  });
});
