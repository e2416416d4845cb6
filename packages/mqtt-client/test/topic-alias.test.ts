import { describe, expect, it } from 'vitest';
import { IncomingTopicAliases, OutgoingTopicAliases, TopicAliasError } from '../src/topic-alias.js';

describe('OutgoingTopicAliases', () => {
  it('assigns aliases 1..max, then reuses the least recently used one', () => {
    const a = new OutgoingTopicAliases();
    a.reset(2);
    expect(a.assign('t/1')).toEqual({ alias: 1, known: false });
    expect(a.assign('t/2')).toEqual({ alias: 2, known: false });
    expect(a.assign('t/1')).toEqual({ alias: 1, known: true }); // t/1 now most recent
    expect(a.assign('t/3')).toEqual({ alias: 2, known: false }); // evicts t/2
    expect(a.topicOf(2)).toBe('t/3');
    expect(a.assign('t/2')).toEqual({ alias: 1, known: false }); // evicts t/1
    expect(a.size).toBe(2);
  });

  it('is disabled with maximum 0 and cleared on reset', () => {
    const a = new OutgoingTopicAliases();
    a.reset(0);
    expect(a.assign('x')).toBeUndefined();
    a.reset(3);
    a.assign('x');
    a.reset(3);
    expect(a.assign('x')).toEqual({ alias: 1, known: false });
  });

  it('explicit aliases: range checked, remapped, empty topic needs an established alias', () => {
    const a = new OutgoingTopicAliases();
    a.reset(5);
    expect(() => a.use(6, 'x')).toThrow(/outside 1..5/);
    expect(() => a.use(0, 'x')).toThrow();
    expect(() => a.use(2, '')).toThrow(/not established/);
    expect(a.use(2, 'x')).toBe(false);
    expect(a.use(2, 'x')).toBe(true);
    expect(a.use(2, '')).toBe(true);
    expect(a.use(2, 'y')).toBe(false); // remap
    expect(a.topicOf(2)).toBe('y');
    expect(a.assign('y')).toEqual({ alias: 2, known: true });
  });
});

describe('IncomingTopicAliases', () => {
  it('sets and resolves mappings', () => {
    const a = new IncomingTopicAliases();
    a.reset(3);
    expect(a.resolve('a/b', undefined)).toBe('a/b');
    expect(a.resolve('a/b', 1)).toBe('a/b');
    expect(a.resolve('', 1)).toBe('a/b');
    expect(a.resolve('c', 1)).toBe('c');
    expect(a.resolve('', 1)).toBe('c');
  });

  it('refuses an alias above the maximum (0x94) and an unknown alias (0x82)', () => {
    const a = new IncomingTopicAliases();
    a.reset(3);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(TopicAliasError);
        return (e as TopicAliasError).reasonCode;
      }
      return -1;
    };
    expect(code(() => a.resolve('x', 4))).toBe(0x94);
    expect(code(() => a.resolve('x', 0))).toBe(0x94);
    expect(code(() => a.resolve('', 2))).toBe(0x82);
    a.reset(0);
    expect(code(() => a.resolve('x', 1))).toBe(0x94);
  });

  it('forgets mappings on reset (new connection)', () => {
    const a = new IncomingTopicAliases();
    a.reset(2);
    a.resolve('t', 1);
    a.reset(2);
    expect(() => a.resolve('', 1)).toThrow(TopicAliasError);
  });
});
