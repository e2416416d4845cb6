// RFC 7252 §9.1.1: over DTLS, a response or ACK must come from the session and epoch its request
// went out on. The endpoints here are fakes that report a securityContext like @iotwire/dtls does.
import { decode, encode, MessageType, uintOption } from '@iotwire/coap-message';
import { describe, expect, it } from 'vitest';
import { CoapClient, CoapServer } from '../src/index.js';
import { CLIENT, FakeEndpoint, FakeSecureEndpoint } from './fake-endpoint.js';

const SERVER = { address: '10.0.0.1', port: 5684, family: 'IPv4' as const };
const tick = () => new Promise((r) => setImmediate(r));

describe('security context matching', () => {
  it('client: accepts the answer from the request’s session and rejects one from another', async () => {
    const ep = new FakeSecureEndpoint({ address: '10.0.0.2', port: 40000, family: 'IPv4' });
    const sessionA = { id: 'A' };
    ep.sessions = new Map([[`${SERVER.address}:${SERVER.port}`, sessionA]]);
    const client = new CoapClient({ secureEndpoint: ep });
    const res = client.get('coaps://10.0.0.1/x');
    await tick();
    const req = decode(ep.sent[0]!.data);
    const answer = (ctx: unknown, mid: number, text: string) =>
      ep.deliver(
        encode({ type: MessageType.NON, code: 0x45, messageId: mid, token: req.token, options: [], payload: Buffer.from(text) }),
        SERVER,
        { securityContext: ctx },
      );
    answer(undefined, 1, 'plaintext');
    answer({ id: 'B' }, 2, 'other session');
    answer(sessionA, 3, 'right session');
    expect((await res).text()).toBe('right session');
    expect((await res).securityContext).toBe(sessionA);
    const rsts = ep
      .take()
      .slice(1)
      .filter((m) => m.type === MessageType.RST);
    expect(rsts.map((m) => m.messageId)).toEqual([1, 2]);
    await client.close();
  });

  it('client: a request queued before the handshake binds to the session its first answer arrives on', async () => {
    const ep = new FakeSecureEndpoint({ address: '10.0.0.2', port: 40000, family: 'IPv4' });
    ep.sessions = new Map();
    const client = new CoapClient({ secureEndpoint: ep });
    const res = client.get('coaps://10.0.0.1/x');
    await tick();
    const req = decode(ep.sent[0]!.data);
    const session = { id: 'new' };
    ep.sessions.set(`${SERVER.address}:${SERVER.port}`, session);
    ep.deliver(
      encode({ type: MessageType.ACK, code: 0x45, messageId: req.messageId, token: req.token, options: [], payload: Buffer.from('ok') }),
      SERVER,
      { securityContext: session },
    );
    expect((await res).text()).toBe('ok');
    await client.close();
  });

  it('server: treats the same Message ID under another session as a new message, and drops observers whose session ended', async () => {
    const ep = new FakeSecureEndpoint(SERVER);
    const s1 = { id: 1 };
    const s2 = { id: 2 };
    ep.sessions = new Map([[`${CLIENT.address}:${CLIENT.port}`, s1]]);
    const server = new CoapServer({ endpoint: ep, scheme: 'coaps' });
    let calls = 0;
    const reasons: string[] = [];
    server.on('unregistered', (_i, r) => reasons.push(r));
    server.resource('/o', {
      observable: true,
      get: () => {
        calls++;
        return { payload: 'v' };
      },
    });
    await server.listen();
    const reg = encode({
      type: MessageType.CON,
      code: 1,
      messageId: 9,
      token: Buffer.of(1),
      options: [uintOption(6, 0), { number: 11, value: Buffer.from('o') }],
      payload: Buffer.alloc(0),
    });
    ep.deliver(reg, CLIENT, { securityContext: s1 });
    ep.deliver(reg, CLIENT, { securityContext: s1 }); // duplicate in the same session
    ep.deliver(reg, CLIENT, { securityContext: s2 }); // same MID, another session: a new message
    expect(calls).toBe(2);
    expect(server.observerCount('/o')).toBe(2);
    // The client's session is now s2: the observer registered under s1 is gone at the next notify.
    ep.sessions.set(`${CLIENT.address}:${CLIENT.port}`, s2);
    expect(server.notify('/o')).toBe(2);
    expect(reasons).toEqual(['session-changed']);
    expect(server.observerCount('/o')).toBe(1);
    await server.close();
  });

  it('server over a plain fake endpoint answers through endpoint.send', async () => {
    const ep = new FakeEndpoint(SERVER);
    const server = new CoapServer({ endpoint: ep });
    server.resource('/x', { get: () => ({ payload: 'y' }) });
    await server.listen();
    ep.deliver(
      encode({
        type: MessageType.CON,
        code: 1,
        messageId: 5,
        token: Buffer.of(7),
        options: [{ number: 11, value: Buffer.from('x') }],
        payload: Buffer.alloc(0),
      }),
    );
    const [m] = ep.take();
    expect([m?.type, m?.code, m?.payload.toString()]).toEqual([MessageType.ACK, 0x45, 'y']);
    expect(ep.sent).toHaveLength(0);
    await server.close();
    expect(ep.listenerCount('message')).toBe(0);
  });
});
