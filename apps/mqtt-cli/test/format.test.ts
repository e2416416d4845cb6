// The -F formatter against what mosquitto_sub 2.0.11 (Debian) printed for the same messages
// (captured with `mosquitto_sub -F …`; the interop suite re-checks it live), plus strftime
// against GNU date and the cJSON printer/parser rules.
import { execFileSync } from 'node:child_process';
import type { PublishProperties } from '@iotwire/mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatG, parseJson, printJsonNumber } from '../src/cjson.js';
import { type FormatMessage, OutputFormatter, type Timestamp } from '../src/index.js';
import { convert } from '../src/strftime.js';

const savedTz = process.env.TZ;
beforeAll(() => {
  process.env.TZ = 'UTC';
});
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

// 2026-11-22T16:02:16.721632Z
const T: Timestamp = { date: new Date(Date.UTC(2026, 10, 22, 16, 2, 16, 721)), ns: 721_632_000 };
const TST = '2026-11-22T16:02:16.721632Z+0000';

// Properties in the order Mosquitto forwards them (user properties first, expiry last).
const PROPS: PublishProperties = {
  userProperties: [
    ['k', 'v'],
    ['k2', 'v2'],
  ],
  contentType: 'text/plain',
  payloadFormatIndicator: 1,
  responseTopic: 'r/t',
  correlationData: Buffer.from('cd'),
  messageExpiryInterval: 60,
};
const A: FormatMessage = { topic: 'x/ab', payload: Buffer.from('he"l\\lo'), qos: 0, retain: false, mid: 0, properties: PROPS };
const B: FormatMessage = { topic: 'x/ab', payload: Buffer.from('{"a":1}'), qos: 0, retain: false, mid: 0 };
const C: FormatMessage = { topic: 'x/abcdefg', payload: Buffer.from([0x61, 0x01, 0xff, 0x62]), qos: 0, retain: false, mid: 0 };
const D: FormatMessage = {
  topic: 'y/ab',
  payload: Buffer.from('abc'),
  qos: 0,
  retain: false,
  mid: 0,
  properties: {
    userProperties: [
      ['k', 'v'],
      ['k', 'v2'],
    ],
  },
};
const EMPTY: FormatMessage = { topic: 'y/ab', payload: Buffer.alloc(0), qos: 0, retain: false, mid: 0 };
const Q2: FormatMessage = {
  topic: 's/1',
  payload: Buffer.from('q'),
  qos: 2,
  retain: true,
  mid: 7,
  properties: { subscriptionIdentifiers: [5, 9], topicAlias: 3 },
};

function render(format: string, m: FormatMessage, extra: { pretty?: boolean; eol?: boolean } = {}): { out: string; errors: string[] } {
  const errors: string[] = [];
  const f = new OutputFormatter({
    format,
    now: () => T,
    onError: (e) => errors.push(e),
    pretty: extra.pretty ?? false,
    eol: extra.eol ?? true,
  });
  return { out: f.render(m)?.toString('latin1') ?? '', errors };
}
const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

// [format, message, expected stdout (latin1 view of the bytes, newline included)]
const TABLE: [string, FormatMessage, string][] = [
  ['[%5t]|[%-5t]|[%.2t]|[%8.3t]', A, '[ x/ab]|[x/ab ]|[x/]|[     x/a]\n'],
  ['%l|%05l|%-5l|%m|%q|%r', A, '7|00007|7    |0|0|0\n'],
  ['%x|%X|%6x|%-8X', A, '6865226c5c6c6f|6865226C5C6C6F|686522|686522  \n'],
  ['%p|%10p|%-10p', A, 'he"l\\lo|   he"l\\lo|he"l\\lo   \n'],
  ['%P|%A|%C|%E|%F|%R|%S|%D', A, 'k:v k2:v2||text/plain|60|1|r/t||cd\n'],
  ['@Y-@m-@d @H:@M:@S @N @@ @z \\t|\\\\', A, '2026-11-22 16:02:16 721632000 @ +0000 \t|\\\n'],
  ['%I|%U', A, '2026-11-22T16:02:16+0000|1795363336.721632000\n'],
  [
    '%j',
    A,
    `{"tst":"${TST}","topic":"x/ab","qos":0,"retain":0,"payloadlen":7,"properties":{"user-properties":{"k":"v","k2":"v2"},"content-type":"text/plain","payload-format-indicator":1,"response-topic":"r/t","correlation-data":"cd","message-expiry-interval":60},"payload":"he\\"l\\\\lo"}\n`,
  ],
  [
    '%j|%J',
    B,
    `{"tst":"${TST}","topic":"x/ab","qos":0,"retain":0,"payloadlen":7,"payload":"{\\"a\\":1}"}|{"tst":"${TST}","topic":"x/ab","qos":0,"retain":0,"payloadlen":7,"payload":{"a":1}}\n`,
  ],
  ['%6x|%-8X|%10p|%l', C, '  6101|6101    |      a\x01\xffb|4\n'],
  ['%j', C, `{"tst":"${TST}","topic":"x/abcdefg","qos":0,"retain":0,"payloadlen":4,"payload":"a\\u0001\xffb"}\n`],
  [
    '[%-p][%-x][%-X][%-l][%05A][%5C][%-5E][%03S][%R][%D][%q][%5q][%.0t][%.t][%10.2I][%-5m]',
    D,
    '[abc   ][616263   ][616263   ][3][00000][     ][     ][000][][][0][0][][][        20][0    ]\n',
  ],
  [
    '%j',
    D,
    `{"tst":"${TST}","topic":"y/ab","qos":0,"retain":0,"payloadlen":3,"properties":{"user-properties":{"k":"v","k":"v2"}},"payload":"abc"}\n`,
  ],
  [
    '[%-p][%-x][%l]|%j|%J',
    EMPTY,
    `[][][0]|{"tst":"${TST}","topic":"y/ab","qos":0,"retain":0,"payloadlen":0,"payload":null}|{"tst":"${TST}","topic":"y/ab","qos":0,"retain":0,"payloadlen":0,"payload":null}\n`,
  ],
  ['%q %r %m %05m %-4m| %S %A %3S', Q2, '2 1 7 00007 7   | 5 3   5\n'],
  [
    '%j',
    Q2,
    `{"tst":"${TST}","topic":"s/1","qos":2,"retain":1,"payloadlen":1,"mid":7,"properties":{"subscription-identifier":5,"subscription-identifier":9,"topic-alias":3},"payload":"q"}\n`,
  ],
  ['%%|\\0|\\a|\\e|\\n|\\r|\\v|@@', A, '%|\0|\x07|\x1b|\n|\r|\v|@\n'],
  ['plain text ünïcode', A, latin1('plain text ünïcode\n')],
];

describe('-F formats (mosquitto_sub 2.0.11 output)', () => {
  it.each(TABLE)('%j', (format, message, expected) => {
    const { out, errors } = render(format, message);
    expect(out).toBe(expected);
    expect(errors).toEqual([]);
  });

  it('%J on a payload that is not JSON prints nothing for the field and reports it', () => {
    expect(render('<%J>', A)).toEqual({ out: '<>\n', errors: ['Error: Message payload is not valid JSON on topic x/ab.'] });
  });

  it('%J re-prints the payload as cJSON does (numbers, escapes, duplicate keys)', () => {
    const payload = Buffer.from(
      '  [1, 27.0, 1.5e-7, 0.1, 3e9, 1e400, -0.0, "x\\u00e9\\/\\n", {"a":{}, "b":[], "a":true}, null, false, 123456789012345678, 0.30000000000000004]  ',
    );
    const m: FormatMessage = { topic: 'y/ab', payload, qos: 0, retain: false, mid: 0 };
    expect(render('%J', m).out).toBe(
      latin1(
        `{"tst":"${TST}","topic":"y/ab","qos":0,"retain":0,"payloadlen":141,"payload":[1,27,1.5e-07,0.1,3000000000,null,-0,"xé/\\n",{"a":{},"b":[],"a":true},null,false,1.2345678901234568e+17,0.3]}\n`,
      ),
    );
    expect(render('%J', m, { pretty: true }).out).toBe(
      latin1(
        [
          '{',
          `\t"tst":\t"${TST}",`,
          '\t"topic":\t"y/ab",',
          '\t"qos":\t0,',
          '\t"retain":\t0,',
          '\t"payloadlen":\t141,',
          '\t"payload":\t[1, 27, 1.5e-07, 0.1, 3000000000, null, -0, "xé/\\n", {',
          '\t\t\t"a":\t{',
          '\t\t\t},',
          '\t\t\t"b":\t[],',
          '\t\t\t"a":\ttrue',
          '\t\t}, null, false, 1.2345678901234568e+17, 0.3]',
          '}',
          '',
        ].join('\n'),
      ),
    );
  });

  it('--pretty indents %j with tabs, nested properties included', () => {
    expect(render('%j', D, { pretty: true }).out).toBe(
      [
        '{',
        `\t"tst":\t"${TST}",`,
        '\t"topic":\t"y/ab",',
        '\t"qos":\t0,',
        '\t"retain":\t0,',
        '\t"payloadlen":\t3,',
        '\t"properties":\t{',
        '\t\t"user-properties":\t{',
        '\t\t\t"k":\t"v",',
        '\t\t\t"k":\t"v2"',
        '\t\t}',
        '\t},',
        '\t"payload":\t"abc"',
        '}',
        '',
      ].join('\n'),
    );
  });

  it('-N drops the newline', () => {
    expect(render('%p', A, { eol: false }).out).toBe('he"l\\lo');
  });
});

describe('payload-only and -v output', () => {
  const out = (m: FormatMessage, o: { verbose?: boolean; eol?: boolean }) => new OutputFormatter(o).render(m)?.toString('latin1');
  it('prints the payload, or topic and payload; an empty payload prints nothing or "(null)"', () => {
    expect(out(A, {})).toBe('he"l\\lo\n');
    expect(out(A, { verbose: true })).toBe('x/ab he"l\\lo\n');
    expect(out(EMPTY, {})).toBeUndefined();
    expect(out(EMPTY, { verbose: true })).toBe('y/ab (null)\n');
    expect(out(EMPTY, { verbose: true, eol: false })).toBeUndefined();
    expect(out(A, { verbose: true, eol: false })).toBe('x/ab he"l\\lo');
    expect(out(C, {})).toBe('a\x01\xffb\n');
  });
});

describe('cJSON rules', () => {
  it('formats numbers as %1.15g, or %1.17g when 15 digits do not round-trip', () => {
    const cases: [number, string][] = [
      [0, '0'],
      [-0, '-0'],
      [1, '1'],
      [27, '27'],
      [0.1, '0.1'],
      [1.5e-7, '1.5e-07'],
      [3e9, '3000000000'],
      [1e21, '1e+21'],
      [123456789012345680, '1.2345678901234568e+17'],
      [0.30000000000000004, '0.3'],
      [1 / 3, '0.33333333333333331'],
      [2 / 3, '0.66666666666666663'],
      [Number.POSITIVE_INFINITY, 'null'],
      [Number.NaN, 'null'],
      [1e-5, '1e-05'],
      [123.456, '123.456'],
      [-2.5e-300, '-2.5e-300'],
    ];
    // Expected values: C printf (Python's %-formatting) with cJSON's round-trip test.
    for (const [n, s] of cases) expect(printJsonNumber(n), String(n)).toBe(s);
    expect(formatG(0.0001, 6)).toBe('0.0001');
    expect(formatG(0.00001, 6)).toBe('1e-05');
    expect(formatG(123456, 6)).toBe('123456');
    expect(formatG(1234567, 6)).toBe('1.23457e+06');
  });

  const bad = [
    '',
    ' ',
    '{',
    '[1,]',
    '{"a"}',
    '{"a":}',
    '{"a":1,}',
    'nul',
    'tru',
    '"abc',
    '"\\x"',
    '-',
    '1 2',
    '[1]]',
    '"\\udc00"',
    '"\\ud800x"',
    "'a'",
    'a',
    '1\u0000',
    '{1:2}',
    '+1',
    '.5',
  ];
  it.each(bad)('rejects %j', (s) => {
    expect(parseJson(Buffer.from(s))).toBeUndefined();
  });

  it('accepts what cJSON accepts, leniencies included', () => {
    const ok: [string, string][] = [
      [' 1 ', '1'],
      ['01', '1'],
      ['1.', '1'],
      ['-0.5e1', '-5'],
      ['\ufeff{"a":1}', '{"a":1}'],
      ['"\\ud83d\\ude00"', '"😀"'],
      ['"a\\u0000b"', '"a"'],
      ['[true,false,null]', '[true,false,null]'],
      ['\x01\x02[1]\x1f', '[1]'],
    ];
    for (const [input, printed] of ok) {
      const v = parseJson(Buffer.from(input));
      expect(v, input).toBeDefined();
      const f = new OutputFormatter({ format: '%J', now: () => T });
      const out = f.render({ topic: 't', payload: Buffer.from(input), qos: 0, retain: false, mid: 0 })!.toString('utf8');
      expect(out.slice(out.indexOf('"payload":') + 10, -2), input).toBe(printed);
    }
  });

  it('stops at the nesting limit of 1000', () => {
    expect(parseJson(Buffer.from(`${'['.repeat(1000)}${']'.repeat(1000)}`))).toBeDefined();
    expect(parseJson(Buffer.from(`${'['.repeat(1001)}${']'.repeat(1001)}`))).toBeUndefined();
  });
});

describe('strftime (@X) against GNU date', () => {
  const conversions = 'aAbBcCdDeFgGhHIjklmMnpPrRsStTuUVwWxXyYz%';
  const instants = [
    Date.UTC(2026, 10, 22, 16, 2, 16),
    Date.UTC(2020, 11, 31, 23, 59, 59),
    Date.UTC(2021, 0, 3, 0, 0, 0),
    Date.UTC(2024, 11, 30, 12, 0, 0),
    Date.UTC(2024, 1, 29, 7, 5, 9),
    Date.UTC(2026, 2, 29, 1, 30, 0),
    Date.UTC(1999, 0, 1, 0, 0, 0),
  ];
  for (const tz of ['UTC', 'Europe/Berlin', 'America/St_Johns']) {
    it(`matches date(1) in ${tz}`, () => {
      process.env.TZ = tz;
      try {
        const format = [...conversions].map((c) => `%${c}`).join('\x01');
        for (const ms of instants) {
          const expected = execFileSync('date', ['-d', `@${ms / 1000}`, `+${format}`], {
            env: { ...process.env, TZ: tz, LC_ALL: 'C' },
            encoding: 'utf8',
          })
            .replace(/\n$/, '')
            .split('\x01');
          const d = new Date(ms);
          const got = [...conversions].map((c) => convert(c, d));
          expect(got, `${tz} ${new Date(ms).toISOString()}`).toEqual(expected);
        }
      } finally {
        process.env.TZ = 'UTC';
      }
    });
  }
  it('%Z in UTC, and unknown conversions stay literal (as glibc)', () => {
    expect(convert('Z', new Date(0))).toBe('UTC');
    expect(convert('Q', new Date(0))).toBe('%Q');
  });
});
