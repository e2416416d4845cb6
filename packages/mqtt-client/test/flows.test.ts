import { describe, expect, it } from 'vitest';
import { IncomingFlows, OutgoingFlows, OutgoingMessage } from '../src/flows.js';
import { MessageState, MqttMessage } from '../src/message.js';
import { resolveQueueOptions } from '../src/outbound-queue.js';

function setup(queue = {}) {
  const log: string[] = [];
  const flows = new OutgoingFlows(resolveQueueOptions(queue), {
    sendPublish: (m) => log.push(`PUBLISH ${m.packetId}${m.dup ? ' dup' : ''} ${m.topic}`),
    sentQoS0: (m) => log.push(`sent0 ${m.topic}`),
    sendPubrel: (id) => log.push(`PUBREL ${id}`),
    finished: (m, rc) => log.push(`done ${m.packetId} rc=${rc} index=${flows.indexOf(m)}`),
  });
  return { flows, log };
}
const msg = (topic: string, qos: 0 | 1 | 2 = 1) => new OutgoingMessage(topic, Buffer.from(topic), qos, false, false, undefined);

describe('OutgoingFlows', () => {
  it('QoS 1: PUBLISH, then PUBACK completes with the reason code', async () => {
    const { flows, log } = setup();
    flows.connected(false, 10);
    const m = msg('a');
    flows.submit(m);
    expect(m.state).toBe(MessageState.WaitPuback);
    expect([...flows.inflight.keys()]).toEqual([1]);
    expect(flows.puback(1, 0x10, undefined)).toBe(true);
    expect(await m.completion).toEqual({ packetId: 1, reasonCode: 0x10 });
    expect(log).toEqual(['PUBLISH 1 a', 'done 1 rc=16 index=0']);
    expect(flows.inflight.size).toBe(0);
    expect(flows.ids.size).toBe(0);
  });

  it('QoS 2: PUBREC → PUBREL → PUBCOMP; duplicate PUBREC answered again; unknown ids refused', async () => {
    const { flows, log } = setup();
    flows.connected(false, 10);
    const m = msg('b', 2);
    flows.submit(m);
    expect(flows.pubcomp(1, 0, undefined)).toBe(false); // not yet
    expect(flows.pubrec(1, 0, undefined)).toBe('pubrel');
    expect(m.state).toBe(MessageState.WaitPubcomp);
    expect(flows.pubrec(1, 0, undefined)).toBe('pubrel');
    expect(flows.pubrec(9, 0, undefined)).toBe('unknown');
    expect(flows.puback(1, 0, undefined)).toBe(false); // QoS 2 never takes a PUBACK
    expect(flows.pubcomp(1, 0, undefined)).toBe(true);
    await m.completion;
    expect(log).toEqual(['PUBLISH 1 b', 'PUBREL 1', 'PUBREL 1', 'done 1 rc=0 index=0']);
  });

  it('failure reason codes end the flow and reject with ERR_PUBLISH_FAILED carrying the code', async () => {
    const { flows, log } = setup();
    flows.connected(false, 10);
    const a = msg('a');
    const b = msg('b', 2);
    flows.submit(a);
    flows.submit(b);
    flows.puback(1, 0x87, undefined);
    expect(flows.pubrec(2, 0x97, undefined)).toBe('failed');
    await expect(a.completion).rejects.toMatchObject({ code: 'ERR_PUBLISH_FAILED', reasonCode: 0x87 });
    await expect(b.completion).rejects.toMatchObject({ code: 'ERR_PUBLISH_FAILED', reasonCode: 0x97 });
    expect(log).not.toContain('PUBREL 2');
    expect(flows.ids.size).toBe(0);
  });

  it('honours the Receive Maximum: the rest waits in order and goes out as acks free the quota', () => {
    const { flows, log } = setup();
    flows.connected(false, 2);
    const ms = ['a', 'b', 'c', 'd'].map((t) => msg(t));
    for (const m of ms) flows.submit(m);
    expect(log).toEqual(['PUBLISH 1 a', 'PUBLISH 2 b']);
    expect(flows.queue.length).toBe(2);
    expect(flows.onWire).toBe(2);
    flows.puback(2, 0, undefined);
    expect(log.at(-1)).toBe('PUBLISH 3 c');
    flows.puback(1, 0, undefined);
    expect(log.at(-1)).toBe('PUBLISH 4 d');
    expect(flows.onWire).toBe(2);
  });

  it('offline messages queue (bounded) and go out on connect', () => {
    const { flows, log } = setup({ maxMessages: 2 });
    flows.submit(msg('a'));
    flows.submit(msg('b'));
    expect(() => flows.submit(msg('c'))).toThrow(expect.objectContaining({ code: 'ERR_QUEUE_FULL' }));
    expect(log).toEqual([]);
    flows.connected(false, 65_535);
    expect(log).toEqual(['PUBLISH 1 a', 'PUBLISH 2 b']);
  });

  it('reconnect with a session: resend PUBLISH with DUP and same id, PUBREL for PUBREC-ed, within the quota', () => {
    const { flows, log } = setup();
    flows.connected(false, 10);
    const a = msg('a');
    const b = msg('b', 2);
    const c = msg('c', 2);
    flows.submit(a);
    flows.submit(b);
    flows.submit(c);
    flows.pubrec(2, 0, undefined);
    flows.disconnected();
    log.length = 0;
    flows.connected(true, 2);
    expect(log).toEqual(['PUBLISH 1 dup a', 'PUBREL 2']);
    flows.puback(1, 0, undefined);
    expect(log).toEqual(['PUBLISH 1 dup a', 'PUBREL 2', 'done 1 rc=0 index=0', 'PUBLISH 3 dup c']);
  });

  it('reconnect without a session: PUBREC-ed QoS 2 completes; others go out again as new messages', async () => {
    const { flows, log } = setup();
    flows.connected(false, 10);
    const a = msg('a');
    const b = msg('b', 2);
    flows.submit(a);
    flows.submit(b);
    flows.pubrec(2, 0, undefined);
    flows.disconnected();
    log.length = 0;
    flows.connected(false, 10);
    await b.completion;
    expect(log[0]).toMatch(/^done 2 rc=0/);
    expect(log[1]).toMatch(/^PUBLISH \d+ a$/); // new id, no DUP
    expect(a.dup).toBe(false);
  });

  it('queued QoS 0 messages are sent once and resolve without an id', async () => {
    const { flows, log } = setup({ queueQoS0: true });
    const z = msg('z', 0);
    flows.queue.push(z);
    flows.connected(false, 5);
    expect(await z.completion).toEqual({ packetId: -1, reasonCode: 0 });
    expect(log).toEqual(['PUBLISH 0 z', 'sent0 z']);
    expect(flows.ids.size).toBe(0);
  });

  it('abortAll rejects everything and frees every id', async () => {
    const { flows } = setup();
    flows.connected(false, 1);
    const a = msg('a');
    const b = msg('b');
    flows.submit(a);
    flows.submit(b);
    flows.abortAll(Object.assign(new Error('gone'), { code: 'X' }) as never);
    await expect(a.completion).rejects.toThrow('gone');
    await expect(b.completion).rejects.toThrow('gone');
    expect(flows.ids.size).toBe(0);
  });

  it('v3 republish resends only unacknowledged PUBLISHes that are old enough', () => {
    const { flows, log } = setup();
    flows.connected(false, 10);
    const a = msg('a');
    const b = msg('b', 2);
    flows.submit(a);
    flows.submit(b);
    flows.pubrec(2, 0, undefined);
    log.length = 0;
    expect(flows.republishUnacked(() => true)).toBe(1);
    expect(log).toEqual(['PUBLISH 1 dup a']);
    expect(flows.republishUnacked(() => false)).toBe(0);
  });
});

describe('IncomingFlows', () => {
  it('holds QoS 2 until PUBREL and recognises duplicates', () => {
    const f = new IncomingFlows();
    const m = new MqttMessage('t', Buffer.from('x'), 2, false, false, undefined, 5);
    f.hold(m);
    expect(m.state).toBe(MessageState.WaitPubrel);
    expect(f.has(5)).toBe(true);
    expect(f.release(6)).toBeUndefined();
    expect(f.release(5)).toBe(m);
    expect(f.indexOf(m)).toBe(0);
    f.remove(5);
    expect(f.has(5)).toBe(false);
  });
});
