import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MqttClient } from '../src/index.js';
import { MessageState, MqttMessage } from '../src/message.js';
import { loadMessage, parseSession, storeMessage } from '../src/session.js';
import { FileSessionStore } from '../src/session-file.js';

const arbMessage = fc
  .record({
    topic: fc
      .string({ minLength: 1, maxLength: 20 })
      .filter((s) => !s.includes('+') && !s.includes('#') && !s.includes(String.fromCharCode(0))),
    payload: fc.uint8Array({ maxLength: 64 }),
    qos: fc.constantFrom(1 as const, 2 as const),
    retain: fc.boolean(),
    dup: fc.boolean(),
    packetId: fc.integer({ min: 1, max: 65_535 }),
    state: fc.constantFrom(0, 1, 2, 3, 7),
    props: fc.option(
      fc.record(
        {
          contentType: fc.string(),
          responseTopic: fc.constant('r/t'),
          correlationData: fc.uint8Array({ maxLength: 16 }),
          messageExpiryInterval: fc.integer({ min: 0, max: 0xffff_ffff }),
          payloadFormatIndicator: fc.constantFrom(0 as const, 1 as const),
          userProperties: fc.array(fc.tuple(fc.string(), fc.string()), { maxLength: 3 }),
          subscriptionIdentifiers: fc.array(fc.integer({ min: 1, max: 268_435_455 }), { maxLength: 3 }),
        },
        { requiredKeys: [] },
      ),
      { nil: undefined },
    ),
  })
  .map((r) => {
    const m = new MqttMessage(r.topic, Buffer.from(r.payload), r.qos, r.retain, r.dup, r.props, r.packetId);
    m.state = r.state as never;
    return m;
  });

const norm = (m: MqttMessage) => ({
  topic: m.topic,
  payload: Buffer.from(m.payload).toString('hex'),
  qos: m.qos,
  retain: m.retain,
  dup: m.dup,
  packetId: m.packetId,
  state: m.state,
  props:
    m.properties && Object.keys(m.properties).length
      ? {
          ...m.properties,
          correlationData: m.properties.correlationData ? Buffer.from(m.properties.correlationData).toString('hex') : undefined,
        }
      : undefined,
});

describe('session JSON', () => {
  it('round-trips any message through store/load (property)', () => {
    fc.assert(
      fc.property(arbMessage, (m) => {
        const back = loadMessage(JSON.parse(JSON.stringify(storeMessage(m))));
        const a = norm(m);
        const b = norm(back);
        expect(JSON.parse(JSON.stringify(b))).toEqual(JSON.parse(JSON.stringify(a)));
      }),
      { numRuns: 300 },
    );
  });

  it('never stores a topic alias', () => {
    const m = new MqttMessage('t', Buffer.from('x'), 1, false, false, { topicAlias: 3, contentType: 'c' }, 1);
    expect(storeMessage(m).properties).toEqual({ contentType: 'c' });
  });

  it('rejects malformed documents with ERR_SESSION_FORMAT', () => {
    const good = {
      format: 'mqtt-session',
      v: 1,
      protocolVersion: 5,
      clientId: 'c',
      outgoing: [],
      incoming: [],
      queued: [],
      subscriptions: [],
    };
    expect(parseSession(JSON.stringify(good)).clientId).toBe('c');
    const bad: unknown[] = [
      'not json',
      { ...good, format: 'other' },
      { ...good, v: 2 },
      { ...good, protocolVersion: 6 },
      { ...good, outgoing: {} },
      { ...good, outgoing: [{ packetId: 0, qos: 1, state: 0, topic: 't', payload: '', retain: false, dup: false }] },
      { ...good, outgoing: [{ packetId: 1, qos: 1, state: 7, topic: 't', payload: '', retain: false, dup: false }] },
      { ...good, incoming: [{ packetId: 1, qos: 2, state: 0, topic: 't', payload: '', retain: false, dup: false }] },
      { ...good, subscriptions: [{ topicFilter: 3, qos: 1 }] },
    ];
    for (const b of bad) {
      expect(() => parseSession(typeof b === 'string' ? b : JSON.stringify(b))).toThrow(
        expect.objectContaining({ code: 'ERR_SESSION_FORMAT' }),
      );
    }
  });

  it('a client saves its unfinished messages and another instance restores them', async () => {
    const a = new MqttClient({ clientId: 'dev-1', clean: false, protocolVersion: 5, sessionExpiryInterval: 60 });
    // Offline publishes wait in the queue; they are part of the session.
    const p1 = a.publish('x/1', 'one', { qos: 1, properties: { contentType: 'text/plain', userProperties: [['k', 'v']] } });
    const p2 = a.publish('x/2', new Uint8Array([0, 255]), { qos: 2 });
    const text = await a.saveSession();
    const doc = JSON.parse(text);
    expect(doc).toMatchObject({ format: 'mqtt-session', v: 1, clientId: 'dev-1', protocolVersion: 5, sessionExpiryInterval: 60 });
    expect(doc.queued).toHaveLength(2);
    const b = new MqttClient({ protocolVersion: 5 });
    await b.restoreSession(text);
    expect(b.clientId).toBe('dev-1');
    expect(b.options.clean).toBe(false);
    expect(b.queuedMessages.map((m) => [m.topic, Buffer.from(m.payload).toString('hex'), m.qos, m.properties?.contentType])).toEqual([
      ['x/1', Buffer.from('one').toString('hex'), 1, 'text/plain'],
      ['x/2', '00ff', 2, undefined],
    ]);
    // The session outlives the (never opened) connection: the publishes stay pending in `a`.
    await a.disconnect();
    expect(a.queuedMessages).toHaveLength(2);
    void p1;
    void p2;
  });

  it('refuses a session of another client', async () => {
    const a = new MqttClient({ clientId: 'a' });
    const text = await new MqttClient({ clientId: 'b', clean: false }).saveSession();
    await expect(a.restoreSession(text)).rejects.toMatchObject({ code: 'ERR_SESSION_FORMAT' });
  });

  it('the session state file is written atomically and read back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotwire-session-'));
    try {
      const file = join(dir, 'state.json');
      const store = new FileSessionStore(file);
      expect(await store.load()).toBeUndefined();
      await store.save('{"a":1}');
      await store.save('{"a":2}');
      expect(readFileSync(file, 'utf8')).toBe('{"a":2}');
      expect(readdirSync(dir)).toEqual(['state.json']); // no temporary files left
      const c = new MqttClient({ clientId: 'f', clean: false, sessionStateFile: file });
      c.publish('q/1', 'x', { qos: 1 });
      await c.saveSession();
      const d = new MqttClient({ sessionStateFile: file });
      await d.restoreSession('ignored: the file wins');
      expect(d.queuedMessages.map((m) => m.topic)).toEqual(['q/1']);
      await expect(new FileSessionStore(join(dir, 'missing', 'x.json')).save('x')).rejects.toMatchObject({ code: 'ERR_SESSION_FILE' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the numeric state values of the toolkit', () => {
    expect(MessageState).toMatchObject({
      WaitPuback: 0,
      WaitPubrec: 1,
      SendPubrel: 2,
      WaitPubcomp: 3,
      OutDone: 4,
      SendPuback: 5,
      SendPubrec: 6,
      WaitPubrel: 7,
      SendPubcomp: 8,
      InDone: 9,
    });
  });
});
