import {
  blockOption,
  type DecodedMessage,
  decode,
  encode,
  MessageType,
  OptionNumber,
  opaqueOption,
  uintOption,
} from '@iotwire/coap-message';
import { afterEach, describe, expect, it } from 'vitest';
import { CoapClient, type Notification } from '../src/index.js';
import { pair, rawSocket } from './helpers.js';

type Raw = Awaited<ReturnType<typeof rawSocket>>;
let raw: Raw | undefined;
let client: CoapClient | undefined;
let p: Awaited<ReturnType<typeof pair>> | undefined;
afterEach(async () => {
  await client?.close();
  client = undefined;
  raw?.close();
  raw = undefined;
  await p?.close();
  p = undefined;
});

/** The next datagram the fake server received, decoded, with the client's port. */
async function nextReq(): Promise<{ m: DecodedMessage; port: number }> {
  const { data, port } = await raw!.nextFrom();
  return { m: decode(data), port };
}

/** A hand-driven "server": returns the raw socket and a helper to read the next request. */
async function fakeServer() {
  raw = await rawSocket();
  const port = raw.socket.address().port;
  return {
    port,
    base: `coap://127.0.0.1:${port}`,
    next: async () => {
      const b = await raw!.next();
      return decode(b);
    },
    reply: (m: Parameters<typeof encode>[0], to: number) => raw!.socket.send(encode(m), to, '127.0.0.1'),
  };
}

function newClient(opts: ConstructorParameters<typeof CoapClient>[0] = {}) {
  client = new CoapClient({ bindAddress: '127.0.0.1', port: 0, timeoutMs: 5000, ...opts });
  return client;
}

describe('CoapClient: message layer', () => {
  it('retransmits an unanswered CON with the same Message ID and succeeds on a later copy', async () => {
    const s = await fakeServer();
    const c = newClient({ transmission: { ackTimeout: 0.05 } });
    const res = c.get(`${s.base}/x`);
    const a = await nextReq();
    const b = await nextReq();
    expect(b.m.messageId).toBe(a.m.messageId);
    expect(b.m.token.equals(a.m.token)).toBe(true);
    // Answer the retransmission (piggybacked).
    s.reply(
      { type: MessageType.ACK, code: 0x45, messageId: b.m.messageId, token: b.m.token, options: [], payload: Buffer.from('late') },
      b.port,
    );
    expect((await res).text()).toBe('late');
  });

  it('gives up with 704 after MAX_RETRANSMIT retransmissions', async () => {
    const s = await fakeServer();
    const c = newClient({ transmission: { ackTimeout: 0.02, maxRetransmit: 2 } });
    const started = Date.now();
    await expect(c.get(`${s.base}/x`)).rejects.toMatchObject({ code: 'ERR_COAP_TIMEOUT', errorNumber: 704 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(20 + 40 + 80 - 5);
    expect(c.stats.retransmissions).toBe(2);
  });

  it('fails with 705 when the server resets the request', async () => {
    const s = await fakeServer();
    const c = newClient();
    const res = c.get(`${s.base}/x`);
    const req = await nextReq();
    raw!.socket.send(Buffer.from([0x70, 0, req.m.messageId >> 8, req.m.messageId & 255]), req.port, '127.0.0.1');
    await expect(res).rejects.toMatchObject({ code: 'ERR_COAP_RESET', errorNumber: 705 });
  });

  it('handles a separate response: empty ACK, then CON response which it acknowledges (§5.2.2)', async () => {
    const s = await fakeServer();
    const c = newClient();
    const res = c.get(`${s.base}/x`);
    const req = await nextReq();
    raw!.socket.send(Buffer.from([0x60, 0, req.m.messageId >> 8, req.m.messageId & 255]), req.port, '127.0.0.1');
    s.reply(
      { type: MessageType.CON, code: 0x45, messageId: 0x4242, token: req.m.token, options: [], payload: Buffer.from('sep') },
      req.port,
    );
    expect((await res).text()).toBe('sep');
    const ack = await s.next();
    expect([ack.type, ack.code, ack.messageId]).toEqual([MessageType.ACK, 0, 0x4242]);
    // A duplicate of the response is ACKed again but not delivered twice.
    s.reply(
      { type: MessageType.CON, code: 0x45, messageId: 0x4242, token: req.m.token, options: [], payload: Buffer.from('sep') },
      req.port,
    );
    expect((await s.next()).messageId).toBe(0x4242);
  });

  it('rejects a response with an unknown token (RST) and one with an unknown critical option (701)', async () => {
    const s = await fakeServer();
    const c = newClient();
    const res = c.get(`${s.base}/x`);
    const req = await nextReq();
    s.reply(
      { type: MessageType.CON, code: 0x45, messageId: 1, token: Buffer.of(0xde, 0xad), options: [], payload: Buffer.alloc(0) },
      req.port,
    );
    const rst = await s.next();
    expect([rst.type, rst.messageId]).toEqual([MessageType.RST, 1]);
    s.reply(
      {
        type: MessageType.CON,
        code: 0x45,
        messageId: 2,
        token: req.m.token,
        options: [{ number: 9999, value: Buffer.of(1) }],
        payload: Buffer.alloc(0),
      },
      req.port,
    );
    await expect(res).rejects.toMatchObject({ code: 'ERR_COAP_OPTION', errorNumber: 701 });
    expect((await s.next()).type).toBe(MessageType.RST);
  });

  it('treats unknown 4.xx/5.xx codes as 4.00/5.00 (§5.9)', async () => {
    const s = await fakeServer();
    const c = newClient();
    const res = c.get(`${s.base}/x`);
    const req = await nextReq();
    s.reply(
      { type: MessageType.ACK, code: (4 << 5) | 30, messageId: req.m.messageId, token: req.m.token, options: [], payload: Buffer.alloc(0) },
      req.port,
    );
    expect((await res).code).toBe('4.00');
  });
});

describe('CoapClient: requests', () => {
  it('sends method, options, Content-Format, Accept, ETags, If-Match/If-None-Match and payload', async () => {
    const s = await fakeServer();
    const c = newClient();
    void c
      .request({
        method: 'PUT',
        uri: `${s.base}/a/b?x=1`,
        payload: 'v',
        contentFormat: 0,
        accept: 50,
        etag: [Buffer.of(1), Buffer.of(2)],
        ifMatch: [Buffer.of(3)],
        ifNoneMatch: true,
        options: [uintOption(OptionNumber.MaxAge, 9), { number: 11, value: Buffer.from('ignored') }],
        confirmable: false,
      })
      .catch(() => {});
    const m = await s.next();
    expect([m.type, m.code, m.payload.toString()]).toEqual([MessageType.NON, 3, 'v']);
    expect(m.options.map((o) => [o.number, o.value.toString('hex')])).toEqual([
      [1, '03'],
      [4, '01'],
      [4, '02'],
      [5, ''],
      [11, '61'],
      [11, '62'],
      [12, ''],
      [14, '09'],
      [15, '783d31'],
      [17, '32'],
    ]);
    expect(m.token.length).toBe(6);
  });

  it('uses a Message ID set through nextMessageId (seed MessageId)', async () => {
    const s = await fakeServer();
    const c = newClient();
    expect(c.nextMessageId).toBeUndefined();
    c.nextMessageId = 0xfffe;
    void c.get(`${s.base}/a`, { timeoutMs: 300 }).catch(() => {});
    void c.get(`${s.base}/b`, { timeoutMs: 300 }).catch(() => {});
    const ids = [(await s.next()).messageId, (await s.next()).messageId];
    expect(ids.sort()).toEqual([0xfffe, 0xffff]);
    expect(c.nextMessageId).toBe(0);
    expect(() => {
      c.nextMessageId = -1;
    }).toThrow(RangeError);
  });

  it('sends any method code (seed SendCustomRequest) and rejects invalid ones', async () => {
    p = await pair();
    p.server.handler = (req) => ({ payload: req.method });
    expect((await p.client.request({ method: 9, uri: `${p.base}/x` })).text()).toBe('0.09');
    await expect(p.client.request({ method: 0, uri: `${p.base}/x` })).rejects.toMatchObject({ code: 'ERR_COAP_STATE' });
  });

  it('times out after timeoutMs (704), is cancellable by id (711) and by AbortSignal', async () => {
    const s = await fakeServer();
    const c = newClient();
    await expect(c.get(`${s.base}/t`, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'ERR_COAP_TIMEOUT' });
    const pending = c.get(`${s.base}/c`);
    await expect.poll(() => c.pendingRequests.length).toBe(1);
    const info = c.pendingRequests[0]!;
    expect(info.uri).toBe(`${s.base}/c`);
    c.cancel(info.id);
    await expect(pending).rejects.toMatchObject({ code: 'ERR_COAP_CANCELLED', errorNumber: 711 });
    expect(() => c.cancel(info.id)).toThrow(expect.objectContaining({ errorNumber: 706 }));
    const ac = new AbortController();
    const aborted = c.get(`${s.base}/a`, { signal: ac.signal });
    await expect.poll(() => c.pendingRequests.length).toBe(1);
    ac.abort();
    await expect(aborted).rejects.toMatchObject({ code: 'ERR_COAP_CANCELLED' });
    expect(c.pendingRequests).toHaveLength(0);
  });

  it('emits requestComplete for success, error responses and failures (seed RequestComplete)', async () => {
    p = await pair();
    p.server.handler = (req) => (req.path === '/ok' ? { payload: 'y' } : { code: '4.04' });
    const done: string[] = [];
    p.client.on('requestComplete', (i) => done.push(i.error ? i.error.code : (i.response?.code as string)));
    await p.client.get(`${p.base}/ok`);
    await p.client.get(`${p.base}/no`);
    const s = await fakeServer();
    await expect(p.client.get(`${s.base}/x`, { timeoutMs: 50 })).rejects.toMatchObject({ code: 'ERR_COAP_TIMEOUT' });
    expect(done).toEqual(['2.05', '4.04', 'ERR_COAP_TIMEOUT']);
  });

  it('rejects bad URIs (700), other schemes, and coaps:// without a DTLS endpoint', async () => {
    const c = newClient();
    await expect(c.get('http://x/')).rejects.toMatchObject({ code: 'ERR_COAP_URI', errorNumber: 700 });
    await expect(c.get('coap://h/#f')).rejects.toMatchObject({ code: 'ERR_COAP_URI' });
    await expect(c.get('coaps://127.0.0.1/')).rejects.toMatchObject({ code: 'ERR_COAP_NO_TRANSPORT' });
    await expect(c.get('coap+tcp://127.0.0.1/')).rejects.toMatchObject({ code: 'ERR_COAP_NO_TRANSPORT' });
  });

  it('reports unresolvable host names (ERR_COAP_DNS)', async () => {
    const c = newClient();
    await expect(c.get('coap://no-such-host.invalid/')).rejects.toMatchObject({ code: 'ERR_COAP_DNS' });
  });

  it('resolves host names through the lookup option and omits Uri-Host only for literals', async () => {
    const s = await fakeServer();
    const c = newClient({ lookup: async () => ({ address: '127.0.0.1', family: 4 }) });
    void c.get(`coap://Example.Test:${s.port}/p`, { timeoutMs: 500 }).catch(() => {});
    const m = await s.next();
    expect(m.options.map((o) => [o.number, o.value.toString()])).toEqual([
      [3, 'example.test'],
      [11, 'p'],
    ]);
  });

  it('works over IPv6 loopback', async () => {
    p = await pair({ host: '::1' });
    p.server.resource('/v6', { get: (req) => ({ payload: req.peer.family }) });
    const c = newClient({ bindAddress: undefined });
    expect((await c.get(`coap://[::1]:${p.port}/v6`)).text()).toBe('IPv6');
  });

  it('with empty tokens (seed UseEmptyToken) serialises requests to one server', async () => {
    p = await pair();
    let inFlight = 0;
    let maxInFlight = 0;
    p.server.handler = async (req) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
      expect(req.token.length).toBe(0);
      return { payload: req.path };
    };
    const c = newClient({ tokenLength: 0 });
    const out = await Promise.all([1, 2, 3].map((i) => c.get(`${p!.base}/${i}`)));
    expect(out.map((r) => r.text())).toEqual(['/1', '/2', '/3']);
    expect(maxInFlight).toBe(1);
  });

  it('pings (empty CON answered by RST) and times out when nobody answers', async () => {
    p = await pair();
    expect(await p.client.ping(p.base)).toBeGreaterThanOrEqual(0);
    const s = await fakeServer();
    await expect(p.client.ping(s.base, { timeoutMs: 100 })).rejects.toMatchObject({ code: 'ERR_COAP_TIMEOUT' });
  });

  it('rejects everything pending when closed', async () => {
    const s = await fakeServer();
    const c = newClient();
    const r = c.get(`${s.base}/x`);
    await expect.poll(() => c.pendingRequests.length).toBe(1);
    await c.close();
    await expect(r).rejects.toMatchObject({ code: 'ERR_COAP_CLOSED' });
    await expect(c.get(`${s.base}/x`)).rejects.toMatchObject({ code: 'ERR_COAP_CLOSED' });
  });
});

describe('CoapClient: block-wise (RFC 7959)', () => {
  it('fails with 702 when the representation changes between blocks (ETag)', async () => {
    const s = await fakeServer();
    const c = newClient();
    const res = c.get(`${s.base}/b`);
    const reply = async (etag: number, num: number) => {
      const req = await nextReq();
      s.reply(
        {
          type: MessageType.ACK,
          code: 0x45,
          messageId: req.m.messageId,
          token: req.m.token,
          options: [opaqueOption(4, Uint8Array.of(etag)), blockOption(23, { num, more: true, szx: 0 })],
          payload: Buffer.alloc(16),
        },
        req.port,
      );
    };
    await reply(1, 0);
    await reply(2, 1);
    await expect(res).rejects.toMatchObject({ code: 'ERR_COAP_BLOCK', errorNumber: 702 });
  });

  it('caps the reassembled body (maxBodySize)', async () => {
    p = await pair();
    p.server.resource('/big', { get: () => ({ payload: Buffer.alloc(5000) }) });
    const c = newClient({ maxBodySize: 3000 });
    await expect(c.get(`${p.base}/big`)).rejects.toMatchObject({ code: 'ERR_COAP_LIMIT' });
  });

  it('uploads with Block1 and downloads the Block2 answer of the same request', async () => {
    p = await pair({ blockSize: 128 });
    p.server.resource('/echo', { post: (req) => ({ payload: Buffer.concat([req.payload, req.payload]) }) });
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const r = await p.client.post(`${p.base}/echo`, data, { blockSize: 256 });
    expect(r.payload.equals(Buffer.concat([data, data]))).toBe(true);
  });
});

describe('CoapClient: observe (RFC 7641)', () => {
  async function observeAgainstRaw(onN: (n: Notification) => void | boolean = () => {}) {
    const s = await fakeServer();
    const c = newClient();
    const obsP = c.observe(`${s.base}/o`, onN);
    const req = await nextReq();
    expect(req.m.options.find((o) => o.number === OptionNumber.Observe)?.value.length).toBe(0);
    const notify = (mid: number, seq: number | undefined, text: string, type: MessageType = MessageType.NON, code = 0x45) =>
      s.reply(
        {
          type,
          code,
          messageId: mid,
          token: req.m.token,
          options: seq === undefined ? [] : [uintOption(6, seq)],
          payload: Buffer.from(text),
        },
        req.port,
      );
    s.reply(
      {
        type: MessageType.ACK,
        code: 0x45,
        messageId: req.m.messageId,
        token: req.m.token,
        options: [uintOption(6, 10)],
        payload: Buffer.from('first'),
      },
      req.port,
    );
    const obs = await obsP;
    return { s, c, obs, notify, req };
  }

  it('flags reordered notifications as not latest (24-bit freshness rule) but still delivers them', async () => {
    const seen: [string, boolean][] = [];
    const { notify, obs } = await observeAgainstRaw((n) => {
      seen.push([n.response.text(), n.isLatest]);
    });
    expect(obs.accepted).toBe(true);
    notify(1, 12, 'twelve');
    notify(2, 11, 'eleven (late)');
    notify(3, 0xffffff, 'wrapped back (stale)');
    notify(4, 13, 'thirteen');
    await expect.poll(() => seen.length).toBe(5);
    expect(seen).toEqual([
      ['first', true],
      ['twelve', true],
      ['eleven (late)', false],
      ['wrapped back (stale)', false],
      ['thirteen', true],
    ]);
  });

  it('ends on a non-2.xx notification (the server ended it)', async () => {
    const seen: boolean[] = [];
    const { notify, obs } = await observeAgainstRaw((n) => {
      seen.push(n.final);
    });
    notify(5, undefined, 'gone', MessageType.CON, 0x84);
    expect(await obs.ended).toBe('error-response');
    expect(seen).toEqual([false, true]);
  });

  it('stops from the handler: a CON notification is answered with RST (reactive, §3.6)', async () => {
    const { notify, obs, s } = await observeAgainstRaw((n) => n.response.text() !== 'stop');
    notify(7, 11, 'stop', MessageType.CON);
    const r = await s.next();
    expect([r.type, r.messageId]).toEqual([MessageType.RST, 7]);
    expect(obs.endReason).toBe('stopped');
    notify(8, 12, 'after', MessageType.CON);
    expect((await s.next()).type).toBe(MessageType.RST);
  });

  it('cancel() deregisters with GET Observe=1 on the same token and options (proactive, §3.6)', async () => {
    const { obs, s, req } = await observeAgainstRaw();
    const cancelled = obs.cancel();
    const dereg = await nextReq();
    expect(dereg.m.token.equals(req.m.token)).toBe(true);
    expect(dereg.m.options.find((o) => o.number === 6)?.value[0]).toBe(1);
    expect(dereg.m.options.filter((o) => o.number === 11).map((o) => o.value.toString())).toEqual(['o']);
    s.reply(
      { type: MessageType.ACK, code: 0x45, messageId: dereg.m.messageId, token: dereg.m.token, options: [], payload: Buffer.from('bye') },
      dereg.port,
    );
    await cancelled;
    expect(obs.endReason).toBe('cancelled');
  });

  it('stopObserving(uri) cancels by URI (seed StopObserving)', async () => {
    p = await pair();
    p.server.resource('/o', { observable: true, get: () => ({ payload: 'x' }) });
    const obs = await p.client.observe(`${p.base}/o`, () => {});
    expect(p.server.observerCount('/o')).toBe(1);
    await p.client.stopObserving(`${p.base}/o`);
    expect(obs.endReason).toBe('cancelled');
    expect(p.server.observerCount('/o')).toBe(0);
  });

  it('fetches the rest of a block-wise notification before delivering it', async () => {
    p = await pair({ blockSize: 64 });
    let state = 'a';
    p.server.resource('/o', { observable: true, get: () => ({ payload: state.repeat(200) }) });
    const seen: string[] = [];
    const obs = await p.client.observe(`${p.base}/o`, (n) => {
      seen.push(n.response.text());
    });
    await expect.poll(() => seen.length).toBe(1);
    state = 'b';
    p.server.notify('/o');
    await expect.poll(() => seen.length).toBe(2);
    expect(seen).toEqual(['a'.repeat(200), 'b'.repeat(200)]);
    await obs.cancel();
  });
});
