import { decode, encode, MessageType } from '@iotwire/coap-message';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MessageLayer, type TransmissionOwner, Verdict } from '../src/message-layer.js';
import { CLIENT, FakeEndpoint } from './fake-endpoint.js';

const owner = () => {
  const events: string[] = [];
  const o: TransmissionOwner = {
    onAcknowledged: () => events.push('ack'),
    onReset: () => events.push('rst'),
    onTimeout: () => events.push('timeout'),
  };
  return { o, events };
};

describe('message layer (RFC 7252 §4)', () => {
  let ep: FakeEndpoint;
  let layer: MessageLayer;

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
    ep = new FakeEndpoint();
    // random() = 0: the first timeout is exactly ACK_TIMEOUT (2 s).
    layer = new MessageLayer({ endpoint: ep, random: () => 0, dedupCapacity: 100 });
    layer.attach();
  });

  afterEach(() => {
    layer.detach();
    vi.useRealTimers();
  });

  it('retransmits a CON at 2, 4, 8, 16 s and gives up 32 s after the 4th retransmission (§4.2, §4.8)', () => {
    const peer = layer.peers.get(CLIENT, undefined);
    const { o, events } = owner();
    layer.sendConfirmable(
      peer,
      7,
      encode({ type: 0, code: 1, messageId: 7, token: Buffer.of(1), options: [], payload: Buffer.alloc(0) }),
      o,
    );
    const sendTimes = () => ep.sent.length;
    expect(sendTimes()).toBe(1);
    const steps = [2000, 4000, 8000, 16000];
    for (let i = 0; i < steps.length; i++) {
      vi.advanceTimersByTime((steps[i] as number) - 1);
      expect(sendTimes()).toBe(i + 1);
      vi.advanceTimersByTime(1);
      expect(sendTimes()).toBe(i + 2);
    }
    expect(events).toEqual([]);
    vi.advanceTimersByTime(31_999);
    expect(events).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(events).toEqual(['timeout']);
    expect(layer.stats.retransmissions).toBe(4);
    expect(layer.stats.timeouts).toBe(1);
    expect(layer.outstanding).toBe(0);
    expect(layer.peers.size).toBe(0);
  });

  it('applies ACK_RANDOM_FACTOR: the first timeout lies in [2 s, 3 s]', () => {
    const l2 = new MessageLayer({ endpoint: new FakeEndpoint(), random: () => 0.999 });
    const peer = l2.peers.get(CLIENT, undefined);
    const tx = l2.sendConfirmable(peer, 1, Buffer.from('40010001', 'hex'), owner().o);
    expect(tx.timeoutMs).toBeGreaterThan(2990);
    expect(tx.timeoutMs).toBeLessThanOrEqual(3000);
    l2.detach();
  });

  it('stops on a matching ACK and reports RST', () => {
    const peer = layer.peers.get(CLIENT, undefined);
    const a = owner();
    const b = owner();
    layer.sendConfirmable(peer, 0x1234, Buffer.from('40011234', 'hex'), a.o);
    layer.sendConfirmable(peer, 0x1235, Buffer.from('40011235', 'hex'), b.o);
    ep.deliver('60001234'); // empty ACK
    ep.deliver('70001235'); // RST
    expect(a.events).toEqual(['ack']);
    expect(b.events).toEqual(['rst']);
    vi.advanceTimersByTime(100_000);
    expect(ep.sent).toHaveLength(2);
  });

  it('ignores an ACK from another endpoint or for another Message ID', () => {
    const peer = layer.peers.get(CLIENT, undefined);
    const a = owner();
    layer.sendConfirmable(peer, 0x10, Buffer.from('40010010', 'hex'), a.o);
    ep.deliver('60000010', { ...CLIENT, port: 40001 });
    ep.deliver('60000011');
    expect(a.events).toEqual([]);
    expect(layer.stats.unmatched).toBe(2);
  });

  it('answers a CoAP ping (empty CON) with RST of the same Message ID (§4.3)', () => {
    ep.deliver('4000abcd');
    expect(ep.sent.map((s) => s.data.toString('hex'))).toEqual(['7000abcd']);
    expect(ep.sent[0]?.peer).toEqual(CLIENT);
    expect(layer.stats.pings).toBe(1);
  });

  it('rejects a malformed CON with RST and drops malformed NON/ACK silently (§4.2)', () => {
    const dropped: string[] = [];
    layer.sink = { onRequest: () => {}, onDropped: (reason) => dropped.push(reason) };
    ep.deliver('4101aaaa'); // CON GET, TKL 1 but no token byte
    ep.deliver('5101aaab'); // NON, same defect
    ep.deliver('6145aaac'); // ACK with a truncated token
    ep.deliver('40000001ff'); // CON Empty message with a payload byte
    expect(ep.take().map((m) => [m.type, m.messageId])).toEqual([
      [MessageType.RST, 0xaaaa],
      [MessageType.RST, 0x0001],
    ]);
    expect(layer.stats.malformed).toBe(3);
    expect(layer.stats.unmatched).toBe(1); // the ACK matches nothing we sent, so it is not even parsed
    expect(dropped).toEqual(['malformed', 'malformed']);
  });

  it('silently ignores other CoAP versions (§3)', () => {
    ep.deliver('80010001');
    ep.deliver('00');
    expect(ep.sent).toHaveLength(0);
    expect(layer.stats.badVersion).toBe(1);
    expect(layer.stats.malformed).toBe(1);
  });

  it('rejects CON messages with reserved code classes and answers requests RST when nobody serves', () => {
    ep.deliver('40200001'); // 1.00
    ep.deliver('40e10002'); // 7.01
    ep.deliver('40010003'); // GET, but no request sink
    ep.deliver('50010004'); // NON GET, dropped
    expect(ep.take().map((m) => [m.type, m.messageId])).toEqual([
      [MessageType.RST, 1],
      [MessageType.RST, 2],
      [MessageType.RST, 3],
    ]);
  });

  it('hands a request over once and replays the cached reply to duplicates (§4.5)', () => {
    let calls = 0;
    layer.sink = {
      onRequest: (msg, peer, slot) => {
        calls++;
        const reply = encode({
          type: MessageType.ACK,
          code: 0x45,
          messageId: msg.messageId,
          token: msg.token,
          options: [],
          payload: Buffer.from('x'),
        });
        layer.send(peer.address, reply);
        layer.dedup.setReply(slot, reply);
      },
    };
    const req = '4101beef07b474696d65';
    ep.deliver(req);
    ep.deliver(req);
    ep.deliver(req);
    expect(calls).toBe(1);
    const replies = ep.sent.map((s) => s.data.toString('hex'));
    expect(replies).toHaveLength(3);
    expect(new Set(replies).size).toBe(1);
    expect(layer.stats.duplicates).toBe(2);
    // The same Message ID from another endpoint is a different message.
    ep.deliver(req, { ...CLIENT, address: '10.0.0.3' });
    expect(calls).toBe(2);
  });

  it('answers a duplicate of a request still being processed with an empty ACK', () => {
    layer.sink = { onRequest: () => {} };
    ep.deliver('41010042aa');
    ep.deliver('41010042aa');
    expect(ep.take().map((m) => [m.type, m.code, m.messageId])).toEqual([[MessageType.ACK, 0, 0x42]]);
  });

  it('drops duplicate NON requests', () => {
    let calls = 0;
    layer.sink = { onRequest: () => calls++ };
    ep.deliver('51010042aa');
    ep.deliver('51010042aa');
    expect(calls).toBe(1);
    expect(ep.sent).toHaveLength(0);
  });

  it('forgets entries after EXCHANGE_LIFETIME (247 s) for CON, NON_LIFETIME (145 s) for NON', () => {
    let calls = 0;
    layer.sink = { onRequest: () => calls++ };
    ep.deliver('51010001aa');
    vi.advanceTimersByTime(144_999);
    ep.deliver('51010001aa');
    expect(calls).toBe(1);
    vi.advanceTimersByTime(1);
    ep.deliver('51010001aa');
    expect(calls).toBe(2);
    ep.deliver('41010002aa');
    vi.advanceTimersByTime(246_999);
    ep.deliver('41010002aa');
    expect(calls).toBe(3);
    vi.advanceTimersByTime(1);
    ep.deliver('41010002aa');
    expect(calls).toBe(4);
  });

  it('ACKs a CON response it accepts and RSTs one it rejects; duplicates get the same answer', () => {
    const verdicts = [Verdict.Accept, Verdict.Reject];
    layer.sink = { onResponse: () => verdicts.shift() ?? Verdict.Accept };
    ep.deliver('41450100aa'); // CON 2.05 MID 0x0100
    ep.deliver('41450101bb'); // CON 2.05 MID 0x0101
    ep.deliver('41450101bb'); // duplicate
    expect(ep.take().map((m) => [m.type, m.messageId])).toEqual([
      [MessageType.ACK, 0x100],
      [MessageType.RST, 0x101],
      [MessageType.RST, 0x101],
    ]);
  });

  it('passes a piggybacked response after ending retransmission', () => {
    const peer = layer.peers.get(CLIENT, undefined);
    const { o, events } = owner();
    const seen: boolean[] = [];
    layer.sink = {
      onResponse: (_m, _p, piggybacked) => {
        seen.push(piggybacked);
        return Verdict.Accept;
      },
    };
    layer.sendConfirmable(peer, 0x77, Buffer.from('41010077aa', 'hex'), o);
    ep.deliver('61450077aaff6f6b');
    ep.deliver('61450077aaff6f6b'); // duplicate ACK: the exchange is over
    expect(events).toEqual(['ack']);
    expect(seen).toEqual([true]);
  });

  it('keeps the dedup cache, and with it the peer table, within capacity under a flood', () => {
    layer.sink = { onRequest: () => {} };
    for (let i = 0; i < 5000; i++) {
      const peer = { address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 1000 + (i % 7), family: 'IPv4' as const };
      ep.deliver(Buffer.from([0x50, 0x01, i >> 8, i & 255]), peer);
    }
    expect(layer.dedup.size).toBe(100);
    expect(layer.peers.size).toBeLessThanOrEqual(100);
    expect(layer.dedup.evicted).toBe(4900);
  });

  it('counts the Message ID up from a random start and lets it be set (seed MessageId)', () => {
    const first = layer.allocateMessageId();
    expect(layer.allocateMessageId()).toBe((first + 1) & 0xffff);
    layer.nextMessageId = 0xffff;
    expect(layer.allocateMessageId()).toBe(0xffff);
    expect(layer.allocateMessageId()).toBe(0);
    expect(() => {
      layer.nextMessageId = 70000;
    }).toThrow(RangeError);
  });

  it('drops (and counts) outgoing datagrams the endpoint refuses, through trySend only', () => {
    ep.refuse = true;
    ep.deliver('4000abcd');
    expect(ep.sent).toHaveLength(0);
    expect(ep.sendDrops).toBe(1);
    expect(layer.stats.backpressureDrops).toBe(1);
    expect(layer.stats.datagramsOut).toBe(0);
    ep.refuse = false;
    ep.deliver('4000abce');
    expect(ep.sent).toHaveLength(1);
    expect(layer.stats.datagramsOut).toBe(1);
  });

  it('decodes what it receives (sanity check of the fake endpoint)', () => {
    ep.deliver('4000abcd');
    expect(decode(ep.sent[0]!.data).type).toBe(MessageType.RST);
  });
});
