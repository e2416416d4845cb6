import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isValidTopicFilter,
  isValidTopicName,
  MqttPacketError,
  parseSharedSubscription,
  topicMatches,
  validateTopicFilter,
  validateTopicName,
} from '../src/index.js';
import * as arb from './arbitraries.js';

describe('Topic Names', () => {
  it.each(['a', '/', 'a//b', '/finance', 'sport/tennis/player1', '$SYS/broker/uptime', ' ', 'ü/ß', 'a/'])('accepts %j', (t) => {
    expect(isValidTopicName(t)).toBe(true);
    expect(() => validateTopicName(t)).not.toThrow();
  });

  it.each([
    ['', '[MQTT-4.7.3-1] at least one character'],
    ['a/+', '[MQTT-3.3.2-2] [MQTT-4.7.1-1] no wildcards'],
    ['#', '[MQTT-3.3.2-2] no wildcards'],
    ['sport+', '[MQTT-3.3.2-2] no wildcards anywhere'],
    ['a\0b', '[MQTT-4.7.3-2] no U+0000'],
  ])('rejects %j (%s) with 0x90', (t) => {
    expect(isValidTopicName(t)).toBe(false);
    expect(() => validateTopicName(t)).toThrow(expect.objectContaining({ code: 'ERR_TOPIC_NAME_INVALID', reasonCode: 0x90 }));
  });

  it('enforces the byte length limit [MQTT-4.7.3-3] and the configured limits', () => {
    expect(isValidTopicName('a'.repeat(65_535))).toBe(true);
    expect(isValidTopicName('a'.repeat(65_536))).toBe(false);
    expect(isValidTopicName('é'.repeat(32_768))).toBe(false); // 65,536 bytes
    expect(isValidTopicName('abcd', { maxLength: 3 })).toBe(false);
    expect(isValidTopicName('a/b/c', { maxLevels: 3 })).toBe(true);
    expect(isValidTopicName('a/b/c/d', { maxLevels: 3 })).toBe(false);
  });
});

describe('Topic Filters', () => {
  // 3.1.1 §4.7.1.2 / §4.7.1.3 and 5.0 §4.7.1 non-normative examples, plus edge cases. Rule ids
  // below use 3.1.1 numbering; in 5.0 the '#' rule is [MQTT-4.7.1-1] and the '+' rule [MQTT-4.7.1-2].
  it.each([
    'sport/tennis/player1/#',
    'sport/#',
    '#',
    '+',
    '+/tennis/#',
    'sport/+/player1',
    '/+',
    '+/+',
    '+/',
    'a//b',
    '$SYS/#',
    '$share/group/a/+/#',
    '$share/g/#',
  ])('accepts %j', (f) => {
    expect(isValidTopicFilter(f)).toBe(true);
    expect(() => validateTopicFilter(f)).not.toThrow();
  });

  it.each([
    ['sport/tennis#', '[MQTT-4.7.1-2] # must follow /'],
    ['sport/tennis/#/ranking', '[MQTT-4.7.1-2] # must be last'],
    ['a/#/b', '[MQTT-4.7.1-2] # must be last'],
    ['##', '[MQTT-4.7.1-2]'],
    ['sport+', '[MQTT-4.7.1-3] + occupies a whole level'],
    ['a+', '[MQTT-4.7.1-3]'],
    ['+a', '[MQTT-4.7.1-3]'],
    ['a/+b/c', '[MQTT-4.7.1-3]'],
    ['', '[MQTT-4.7.3-1]'],
    ['a\0', '[MQTT-4.7.3-2]'],
    ['$share//a', '[MQTT-4.8.2-1] ShareName at least one character'],
    ['$share/g', '[MQTT-4.8.2-2] ShareName followed by / and a filter'],
    ['$share/g/', '[MQTT-4.8.2-2]'],
    ['$share/g+/a', '[MQTT-4.8.2-2] no wildcard in ShareName'],
    ['$share/#/a', '[MQTT-4.8.2-2]'],
    ['$share/g/a#', '[MQTT-4.7.1-2] inside a shared filter'],
  ])('rejects %j (%s) with 0x8F', (f) => {
    expect(isValidTopicFilter(f)).toBe(false);
    expect(() => validateTopicFilter(f)).toThrow(expect.objectContaining({ code: 'ERR_TOPIC_FILTER_INVALID', reasonCode: 0x8f }));
  });

  it('treats $share/ as an ordinary filter when shared syntax is off (3.1.1)', () => {
    expect(isValidTopicFilter('$share//a', { shared: false })).toBe(true);
    expect(isValidTopicFilter('$share/g', { shared: false })).toBe(true);
  });

  it('applies maxLength and maxLevels', () => {
    expect(isValidTopicFilter('a/b/#', { maxLevels: 3 })).toBe(true);
    expect(isValidTopicFilter('a/b/c/#', { maxLevels: 3 })).toBe(false);
    expect(isValidTopicFilter('abc', { maxLength: 2 })).toBe(false);
    expect(isValidTopicFilter('a'.repeat(65_536))).toBe(false);
  });

  it('accepts every generated filter', () => {
    fc.assert(fc.property(arb.topicFilter(true), (f) => isValidTopicFilter(f)));
  });
});

describe('parseSharedSubscription', () => {
  it('splits $share/{ShareName}/{filter}', () => {
    expect(parseSharedSubscription('$share/consumers/sport/+/score')).toEqual({ shareName: 'consumers', topicFilter: 'sport/+/score' });
    expect(parseSharedSubscription('$share/g/#')).toEqual({ shareName: 'g', topicFilter: '#' });
    expect(parseSharedSubscription('$share/g//')).toEqual({ shareName: 'g', topicFilter: '/' });
  });
  it('returns undefined for ordinary filters', () => {
    expect(parseSharedSubscription('sport/#')).toBeUndefined();
    expect(parseSharedSubscription('$SYS/#')).toBeUndefined();
    expect(parseSharedSubscription('$sharex/g/a')).toBeUndefined();
  });
  it('throws for malformed shared filters [MQTT-4.8.2-1] [MQTT-4.8.2-2]', () => {
    for (const f of ['$share//a', '$share/g', '$share/g/', '$share/a+b/c', '$share/g/a/#/b']) {
      expect(() => parseSharedSubscription(f)).toThrow(MqttPacketError);
    }
  });
});

/** Reference matcher, written the obvious way (split on '/'), to check the fast one against. */
function reference(filter: string, topic: string): boolean {
  if ((filter.startsWith('+') || filter.startsWith('#')) && topic.startsWith('$')) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

describe('topicMatches', () => {
  // 3.1.1 §4.7.1.2, §4.7.1.3, §4.7.2 and §4.7.3 / 5.0 §4.7 non-normative examples.
  it.each([
    ['sport/tennis/player1/#', 'sport/tennis/player1', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/ranking', true],
    ['sport/tennis/player1/#', 'sport/tennis/player1/score/wimbledon', true],
    ['sport/#', 'sport', true],
    ['#', 'sport/tennis', true],
    ['#', '/', true],
    ['sport/tennis/+', 'sport/tennis/player1', true],
    ['sport/tennis/+', 'sport/tennis/player2', true],
    ['sport/tennis/+', 'sport/tennis/player1/ranking', false],
    ['sport/+', 'sport', false],
    ['sport/+', 'sport/', true],
    ['+/+', '/finance', true],
    ['/+', '/finance', true],
    ['+', '/finance', false],
    ['+', 'finance', true],
    ['+/#', 'a', true],
    ['a/+/c', 'a//c', true],
    ['#', '$SYS/monitor/Clients', false],
    ['+/monitor/Clients', '$SYS/monitor/Clients', false],
    ['$SYS/#', '$SYS/monitor/Clients', true],
    ['$SYS/monitor/+', '$SYS/monitor/Clients', true],
    ['$SYS/+/Clients', '$SYS/monitor/Clients', true],
    ['ACCOUNTS', 'Accounts', false],
    ['a/b', 'a/b', true],
    ['a/b', 'a/b/', false],
    ['a/b', 'a', false],
    ['a/b/', 'a/b', false],
    ['a/b/#', 'a/bc', false],
    ['a/b', 'a/bc', false],
  ])('%j matches %j: %s', (filter, topic, result) => {
    expect(topicMatches(filter, topic)).toBe(result);
    expect(reference(filter, topic)).toBe(result);
  });

  it('agrees with the reference matcher on generated filters and topics', () => {
    const alphabet = fc.constantFrom('a', 'b', '', '$a');
    const topic = fc
      .array(alphabet, { minLength: 1, maxLength: 4 })
      .map((l) => l.join('/'))
      .filter((t) => t.length > 0);
    const filter = fc
      .tuple(fc.array(fc.constantFrom('a', 'b', '', '+', '$a'), { minLength: 1, maxLength: 4 }), fc.boolean())
      .map(([l, hash]) => (hash ? [...l, '#'] : l).join('/'))
      .filter((f) => f.length > 0);
    fc.assert(
      fc.property(filter, topic, (f, t) => topicMatches(f, t) === reference(f, t)),
      { numRuns: 5000 },
    );
  });
});
