import net from 'node:net';
import { freePort } from '@iotwire/interop';
import { describe, expect, it, vi } from 'vitest';
import { type Connection, type ConnectionRequest, TcpServer, TcpServerError, TcpServerErrorCode } from '../src/index.js';
import { accept, listen, next, Peer, record, until } from './helpers.js';

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (e) {
    return (e as TcpServerError).code;
  }
  return undefined;
}

describe('listening lifecycle', () => {
  it('reads the OS-chosen port back, and refuses changes while listening (104/106/107/108)', async () => {
    const s = await listen();
    expect(s.listening).toBe(true);
    expect(s.localPort).toBeGreaterThan(0);
    expect(s.address()?.address).toBe('127.0.0.1');
    await expect(s.startListening()).rejects.toMatchObject({ code: TcpServerErrorCode.AlreadyListening });
    expect(codeOf(() => (s.localPort = 1234))).toBe(106);
    expect(codeOf(() => (s.localHost = '::1'))).toBe(107);
    expect(codeOf(() => (s.maxConnections = 5))).toBe(108);
    expect(codeOf(() => s.reset())).toBe(104);
    // Non-structural settings may change while listening (they apply to new connections).
    s.defaultEol = '\n';
    expect(s.defaultEol.toString()).toBe('\n');
  });

  it('validates settings with code 10022', () => {
    const s = new TcpServer();
    expect(codeOf(() => (s.maxConnections = 0))).toBe(10022);
    expect(codeOf(() => (s.maxConnections = 100_001))).toBe(10022);
    expect(codeOf(() => (s.defaultMaxLineLength = 255))).toBe(10022);
    expect(codeOf(() => (s.localPort = 70000))).toBe(10022);
    expect(codeOf(() => (s.sslStartMode = 'sometimes' as never))).toBe(10022);
    expect(codeOf(() => new TcpServer({ bogus: 1 } as never))).toBe(10022);
    s.maxConnections = 100_000;
    expect(s.maxConnections).toBe(100_000);
  });

  it('has the documented defaults, and reset() restores them', () => {
    const s = new TcpServer({ maxConnections: 5, defaultEol: '\n', linger: false });
    s.reset();
    expect({
      maxConnections: s.maxConnections,
      defaultMaxLineLength: s.defaultMaxLineLength,
      defaultEol: s.defaultEol.length,
      linger: s.linger,
      keepAlive: s.keepAlive,
      tcpNoDelay: s.tcpNoDelay,
      sslStartMode: s.sslStartMode,
      sslEnabled: s.sslEnabled,
      useIPv6: s.useIPv6,
      localHost: s.localHost,
      localPort: s.localPort,
      listening: s.listening,
    }).toEqual({
      maxConnections: 1000,
      defaultMaxLineLength: 2048,
      defaultEol: 0,
      linger: true,
      keepAlive: false,
      tcpNoDelay: false,
      sslStartMode: 'none',
      sslEnabled: false,
      useIPv6: 0,
      localHost: '',
      localPort: 0,
      listening: false,
    });
  });

  it('maps bind errors (address in use → 10048)', async () => {
    const a = await listen();
    const b = new TcpServer({ localHost: '127.0.0.1', localPort: a.localPort });
    await expect(b.startListening()).rejects.toMatchObject({ code: TcpServerErrorCode.AddressInUse });
    expect(b.listening).toBe(false);
  });

  it('StopListening refuses new clients but keeps existing ones; Shutdown disconnects them', async () => {
    const s = await listen();
    const log = record(s);
    const port = s.localPort;
    const p = await Peer.connect(port);
    await until(() => log.includes('readyToSend 1'));
    await s.stopListening();
    expect(s.listening).toBe(false);
    await expect(Peer.connect(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    p.write('still here');
    await next(s, 'dataIn');
    expect(s.connections.size).toBe(1);
    await s.shutdown();
    await p.closed;
    expect(s.connections.size).toBe(0);
    expect(log.filter((l) => l.startsWith('disconnected'))).toEqual(['disconnected 1 0']);
  });

  it('can listen again after StopListening; new ids keep counting', async () => {
    const s = await listen();
    await s.stopListening();
    await s.startListening();
    const { peer, id } = await accept(s);
    expect(id).toBe('1');
    peer.socket.destroy();
    await s.stopListening();
  });
});

describe('events and connection fields', () => {
  it('fires connected, readyToSend, dataIn and disconnected in order, with the fields filled', async () => {
    const s = await listen();
    const log = record(s);
    const connected = next<[string, number, string, Connection]>(s, 'connected');
    const p = await Peer.connect(s.localPort);
    const [id, code, description, conn] = await connected;
    expect([id, code, description]).toEqual(['1', 0, 'OK']);
    expect(s.connections.get('1')).toBe(conn);
    expect(conn.connectionId).toBe('1');
    expect(conn.connected).toBe(true);
    expect(conn.acceptData).toBe(true);
    expect(conn.readyToSend).toBe(true);
    expect(conn.remoteHost).toBe('127.0.0.1');
    expect(conn.remotePort).toBe(p.socket.localPort);
    expect(conn.localAddress).toBe('127.0.0.1');
    expect(conn.localPort).toBe(s.localPort);
    expect(conn.encrypted).toBe(false);
    conn.userData = { session: 42 };
    p.write('hello');
    await next(s, 'dataIn');
    p.socket.end();
    const [, dcode] = await next<[string, number]>(s, 'disconnected');
    expect(dcode).toBe(0);
    expect(conn.connected).toBe(false);
    expect(conn.remoteHost).toBe('127.0.0.1'); // still known after the close
    expect(s.connections.size).toBe(0);
    expect(log).toEqual(['connected 1 0', 'readyToSend 1', 'dataIn 1 "hello" true', 'disconnected 1 0']);
  });

  it('sends bytes, text and lines (SendLine always appends CRLF)', async () => {
    const s = await listen({ defaultEol: '\n' });
    const { peer: p, id, conn } = await accept(s);
    expect(s.send(id, Buffer.from([0x00, 0x01]))).toBe(true);
    expect(conn.bytesSent).toBe(2);
    s.sendBytes(id, Buffer.from('|'));
    s.sendText(id, 'grüße|');
    expect(conn.bytesSent).toBe(Buffer.byteLength('grüße|'));
    s.sendLine(id, 'line');
    await p.waitFor((t) => t.endsWith('line\r\n'));
    expect(p.received.equals(Buffer.concat([Buffer.from([0, 1]), Buffer.from('|grüße|line\r\n')]))).toBe(true);
  });

  it('rejects unknown connection ids with 126', async () => {
    const s = await listen();
    for (const fn of [
      () => s.send('nope', Buffer.alloc(1)),
      () => s.sendText('nope', 'x'),
      () => s.sendLine('nope', 'x'),
      () => s.pauseData('nope'),
      () => s.processData('nope'),
      () => s.changeRecordLength('nope', 2),
      () => s.interrupt('nope'),
    ]) {
      expect(codeOf(fn)).toBe(TcpServerErrorCode.InvalidConnectionId);
    }
    for (const p of [
      s.startSSL('nope'),
      s.disconnect('nope'),
      s.flush('nope'),
      s.sendAsync('nope', 'x'),
      s.sendFile('nope', '/etc/hostname'),
    ]) {
      await expect(p).rejects.toMatchObject({ code: TcpServerErrorCode.InvalidConnectionId });
    }
    expect(s.config.bind(s, 'SSLNegotiatedCipher[nope]')).toThrow(TcpServerError);
  });

  it('Disconnect with Linger sends all queued data before FIN', async () => {
    const s = await listen({ maxSendBuffer: 64 * 1024 * 1024 });
    const { peer: p, id } = await accept(s);
    p.socket.pause(); // the data stays queued on our side for a while
    const big = Buffer.alloc(8 * 1024 * 1024, 0x61);
    s.send(id, big);
    const gone = next<[string, number]>(s, 'disconnected');
    const done = s.disconnect(id);
    setTimeout(() => p.socket.resume(), 50);
    await done;
    await p.closed;
    expect(p.received.length).toBe(big.length);
    expect(p.closeError).toBeUndefined();
    expect((await gone)[1]).toBe(0);
  });

  it('Disconnect without Linger resets: queued data is dropped and the peer sees ECONNRESET', async () => {
    const s = await listen({ linger: false, maxSendBuffer: 64 * 1024 * 1024 });
    const a = await accept(s);
    await s.disconnect(a.id);
    await a.peer.closed;
    expect(a.peer.closeError).toMatchObject({ code: 'ECONNRESET' });

    const b = await accept(s);
    b.peer.socket.pause();
    const big = Buffer.alloc(16 * 1024 * 1024, 0x61);
    s.send(b.id, big);
    await s.disconnect(b.id);
    b.peer.socket.resume();
    await b.peer.closed;
    expect(b.peer.received.length).toBeLessThan(big.length);
  });

  it('reports a peer reset as 10054', async () => {
    const s = await listen();
    const { peer: p } = await accept(s);
    const gone = next<[string, number, string]>(s, 'disconnected');
    p.socket.resetAndDestroy();
    const [, code, description] = await gone;
    expect(code).toBe(10054);
    expect(description).toBe('Connection reset by peer');
  });

  it('applies KeepAlive and TcpNoDelay to accepted sockets', async () => {
    const ka = vi.spyOn(net.Socket.prototype, 'setKeepAlive');
    const nd = vi.spyOn(net.Socket.prototype, 'setNoDelay');
    try {
      const s = await listen({ keepAliveTime: 30_000, tcpNoDelay: true });
      expect(s.keepAlive).toBe(true);
      const { conn } = await accept(s);
      expect(ka.mock.contexts).toContain(conn.socket);
      expect(ka.mock.calls.find((_c, i) => ka.mock.contexts[i] === conn.socket)).toEqual([true, 30_000]);
      expect(nd.mock.contexts).toContain(conn.socket);
    } finally {
      ka.mockRestore();
      nd.mockRestore();
    }
  });
});

describe('accept pipeline', () => {
  it('ConnectionRequest can reject (sync): no Connected, socket closed, counted', async () => {
    const s = await listen();
    const log = record(s);
    const seen: ConnectionRequest[] = [];
    s.on('connectionRequest', (r) => {
      seen.push({ ...r });
      r.accept = false;
    });
    const p = await Peer.connect(s.localPort);
    const clientPort = p.socket.localPort;
    await p.closed;
    expect(seen[0]).toEqual({ address: '127.0.0.1', port: clientPort, localAddress: '127.0.0.1', localPort: s.localPort, accept: true });
    expect(log).toEqual([]);
    expect(s.rejectedConnections).toBe(1);
  });

  it('ConnectionRequest may decide asynchronously; data sent meanwhile is kept', async () => {
    const s = await listen();
    s.on('connectionRequest', async (r) => {
      await new Promise((res) => setTimeout(res, 30));
      r.accept = r.address === '127.0.0.1';
    });
    const p = await Peer.connect(s.localPort);
    p.write('early');
    const [, data] = await next<[string, Buffer]>(s, 'dataIn');
    expect(data.toString()).toBe('early');
  });

  it('a throwing ConnectionRequest handler rejects the client and reports an error', async () => {
    const s = await listen();
    const errors: TcpServerError[] = [];
    s.on('error', (e) => errors.push(e));
    s.on('connectionRequest', () => {
      throw new Error('handler bug');
    });
    const p = await Peer.connect(s.localPort);
    await p.closed;
    expect(errors).toHaveLength(1);
    expect(s.connections.size).toBe(0);
  });

  it('AllowedClients/BlockedClients pre-set accept, and the handler may overrule them', async () => {
    const s = await listen({ allowedClients: '10.0.0.1, 192.168.0.0/16' });
    const decisions: boolean[] = [];
    s.on('connectionRequest', (r) => decisions.push(r.accept));
    let p = await Peer.connect(s.localPort);
    await p.closed;
    s.allowedClients = ['localhost'];
    await s.resolveAccessLists();
    await accept(s);
    s.blockedClients = '127.0.0.1';
    p = await Peer.connect(s.localPort);
    await p.closed;
    s.on('connectionRequest', (r) => {
      r.accept = true; // the application overrules the block list
    });
    await accept(s);
    expect(decisions).toEqual([false, true, false, false]);
  });

  it('MaxConnections: a flood beyond the limit is dropped at accept, the others are unaffected', async () => {
    const s = await listen({ maxConnections: 5 });
    const dropped: unknown[] = [];
    s.on('connectionDropped', (d) => dropped.push(d));
    let connected = 0;
    s.on('connected', () => connected++);
    s.on('dataIn', (id, d) => s.send(id, d));
    const peers = await Promise.all(Array.from({ length: 25 }, () => Peer.connect(s.localPort)));
    await until(() => connected + dropped.length >= 25, 10_000, 'all accepted or dropped');
    expect(connected).toBe(5);
    expect(s.connections.size).toBe(5);
    expect(s.droppedConnections).toBe(20);
    // The 20 dropped clients see the server close their connection.
    await until(() => peers.filter((p) => p.socket.destroyed).length === 20, 10_000, 'dropped clients closed');
    const alive = peers.filter((p) => !p.socket.destroyed);
    expect(alive).toHaveLength(5);
    for (const p of alive) p.write('ping');
    await Promise.all(alive.map((p) => p.waitFor((t) => t === 'ping')));
  });

  it('keeps defaults as snapshots: changing them does not alter existing connections', async () => {
    const s = await listen({ defaultEol: '\n', defaultMaxLineLength: 300, defaultIdleTimeout: 100, defaultTimeout: 5 });
    const { conn: a } = await accept(s);
    s.defaultEol = '|';
    s.defaultMaxLineLength = 400;
    s.defaultIdleTimeout = 0;
    s.defaultTimeout = 0;
    s.defaultSingleLineMode = true;
    const { conn: b } = await accept(s);
    expect([a.eolText, a.maxLineLength, a.idleTimeout, a.timeout, a.singleLineMode]).toEqual(['\n', 300, 100, 5, false]);
    expect([b.eolText, b.maxLineLength, b.idleTimeout, b.timeout, b.singleLineMode]).toEqual(['|', 400, 0, 0, true]);
  });
});

describe('IPv6', () => {
  it('listens on ::1 and reports IPv6 peers', async () => {
    const s = await listen({ localHost: '::1' });
    const { peer: p, conn } = await accept(s, '::1');
    expect(conn.remoteHost).toBe('::1');
    expect(conn.localAddress).toBe('::1');
    p.write('v6');
    const [, data] = await next<[string, Buffer]>(s, 'dataIn');
    expect(data.toString()).toBe('v6');
  });

  it('UseIPv6 picks the wildcard family; dual stack reports IPv4 peers in IPv4 form', async () => {
    const port4 = await freePort();
    const v4 = new TcpServer({ localPort: port4, useIPv6: 0 });
    await v4.startListening();
    expect(v4.address()?.address).toBe('0.0.0.0');
    await expect(Peer.connect(port4, '::1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await v4.shutdown();

    const port6 = await freePort('tcp', { host: '::1' });
    const only6 = new TcpServer({ localPort: port6, useIPv6: 1 });
    await only6.startListening();
    expect(only6.address()?.address).toBe('::');
    await expect(Peer.connect(port6, '127.0.0.1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await only6.shutdown();

    const portDual = await freePort();
    const dual = new TcpServer({ localPort: portDual, useIPv6: 2 });
    await dual.startListening();
    const { peer: p, conn } = await accept(dual);
    expect(conn.remoteHost).toBe('127.0.0.1');
    p.socket.destroy();
    await dual.shutdown();
  });
});
