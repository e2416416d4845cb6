import { topicMatches } from '@iotwire/mqtt-packet';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type IndexedSubscription, TopicTrie } from '../src/index.js';
import { BrokerMessage } from '../src/message.js';
import { RetainedStore } from '../src/retained.js';

const sub = (clientId: string, topicFilter: string, shareName?: string): IndexedSubscription => ({ clientId, topicFilter, shareName });

describe('TopicTrie', () => {
  it('matches exact levels, +, # (including the parent level) and skips wildcards for $ topics', () => {
    const t = new TopicTrie<IndexedSubscription>();
    for (const f of ['a/b', 'a/+', 'a/#', '#', '+/b', '$SYS/#', '+/+', 'a/b/c']) t.add(sub(f, f));
    const ids = (topic: string) =>
      t
        .match(topic)
        .subscriptions.map((s) => s.clientId)
        .sort();
    expect(ids('a/b')).toEqual(['#', '+/+', '+/b', 'a/#', 'a/+', 'a/b'].sort());
    expect(ids('a')).toEqual(['#', 'a/#'].sort());
    expect(ids('$SYS/x')).toEqual(['$SYS/#']);
    expect(ids('a/b/c')).toEqual(['#', 'a/#', 'a/b/c'].sort());
  });

  it('replaces per client and filter, removes and prunes, and bumps the generation', () => {
    const t = new TopicTrie<IndexedSubscription>();
    const g0 = t.generation;
    expect(t.add(sub('c', 'x/y'))).toBeUndefined();
    expect(t.add(sub('c', 'x/y'))).toBeDefined();
    expect(t.size).toBe(1);
    expect(t.generation).toBeGreaterThan(g0);
    expect(t.remove('c', 'x/y')?.clientId).toBe('c');
    expect(t.remove('c', 'x/y')).toBeUndefined();
    expect(t.match('x/y').subscriptions).toEqual([]);
    expect(t.size).toBe(0);
  });

  it('keeps shared groups apart from ordinary subscriptions', () => {
    const t = new TopicTrie<IndexedSubscription>();
    t.add(sub('a', 'j/+', 'g'));
    t.add(sub('b', 'j/+', 'g'));
    t.add(sub('c', 'j/+', 'h'));
    t.add(sub('d', 'j/+'));
    const m = t.match('j/1');
    expect(m.subscriptions.map((s) => s.clientId)).toEqual(['d']);
    expect(m.shared.map((g) => [g.shareName, g.members.length]).sort()).toEqual([
      ['g', 2],
      ['h', 1],
    ]);
    t.remove('a', 'j/+', 'g');
    t.remove('b', 'j/+', 'g');
    expect(t.match('j/1').shared.map((g) => g.shareName)).toEqual(['h']);
  });

  it('agrees with topicMatches on random filters and topics (property)', () => {
    const level = fc.constantFrom('a', 'b', '', '$x', 'c');
    const topic = fc
      .array(level, { minLength: 1, maxLength: 4 })
      .map((l) => l.join('/'))
      .filter((s) => s.length > 0);
    const flevel = fc.constantFrom('a', 'b', '', '+', 'c', '$x');
    const filter = fc
      .tuple(fc.array(flevel, { minLength: 1, maxLength: 4 }), fc.boolean())
      .map(([l, hash]) => (hash ? [...l, '#'] : l).join('/'))
      .filter((s) => s.length > 0);
    fc.assert(
      fc.property(fc.uniqueArray(filter, { maxLength: 8 }), topic, (filters, t) => {
        const trie = new TopicTrie<IndexedSubscription>();
        for (const f of filters) trie.add(sub(f, f));
        const got = trie
          .match(t)
          .subscriptions.map((s) => s.topicFilter)
          .sort();
        const want = filters.filter((f) => topicMatches(f, t)).sort();
        expect(got).toEqual(want);
      }),
      { numRuns: 500 },
    );
  });
});

describe('RetainedStore', () => {
  const m = (topic: string, payload: string, expiresAt = 0) =>
    new BrokerMessage(1, topic, Buffer.from(payload), 0, true, undefined, expiresAt, '');
  it('sets, replaces, deletes on empty payload, matches by filter, and drops expired messages', () => {
    const r = new RetainedStore();
    r.set(m('a/1', 'x'));
    r.set(m('a/1', 'yy'));
    r.set(m('a/2', 'z', Date.now() - 1));
    expect(r.size).toBe(2);
    expect(r.bytes).toBe(3);
    expect([...r.match('a/+')].map((x) => x.payload.toString())).toEqual(['yy']);
    expect(r.size).toBe(1);
    r.set(m('a/1', ''));
    expect(r.size).toBe(0);
    expect(r.bytes).toBe(0);
  });
});
