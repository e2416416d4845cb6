import { describe, expect, it } from 'vitest';
import { COMMANDS, parseClientArgs, parseOptionArg, parseServeArgs, splitCommand, UsageError } from '../src/index.js';

const noStdin = () => Buffer.from('from stdin');

describe('command line parsing', () => {
  it('recognises every command and help', () => {
    for (const c of COMMANDS) expect(splitCommand([c, '-x']).command).toBe(c);
    expect(splitCommand([]).command).toBe('help');
    expect(splitCommand(['--help']).command).toBe('help');
    expect(() => splitCommand(['frobnicate'])).toThrow(UsageError);
  });

  it('parses every client option', () => {
    const a = parseClientArgs(
      'put',
      [
        '-e',
        'hi',
        '-t',
        'application/json',
        '-A',
        '50',
        '-N',
        '-b',
        '64',
        '-B',
        '3',
        '-O',
        '2049,0x0102',
        '-O',
        'Max-Age,9',
        '-T',
        'cafe',
        '-s',
        '5',
        '-o',
        '/tmp/x',
        '-v',
        'coap://h/a',
      ],
      noStdin,
    );
    expect(a).toMatchObject({
      uri: 'coap://h/a',
      contentFormat: 50,
      accept: 50,
      confirmable: false,
      blockSize: 64,
      timeoutMs: 3000,
      durationMs: 5000,
      output: '/tmp/x',
      verbose: true,
    });
    if (a === 'help') throw new Error('unexpected');
    expect(a.payload?.toString()).toBe('hi');
    expect(Buffer.from(a.token!).toString('hex')).toBe('cafe');
    expect(a.options.map((o) => [o.number, Buffer.from(o.value).toString('hex')])).toEqual([
      [2049, '0102'],
      [14, '09'],
    ]);
  });

  it('reads the payload from stdin with -f -', () => {
    const a = parseClientArgs('post', ['-f', '-', 'coap://h/'], noStdin);
    expect(a !== 'help' && a.payload?.toString()).toBe('from stdin');
  });

  it.each([
    [['coap://h/', '-b', '100'], /power of two/],
    [['coap://h/', '-b', '2048'], /-b must be/],
    [['coap://h/', '-B', '0'], /-B must be/],
    [['coap://h/', '-t', 'text/nonsense'], /unknown media type/],
    [['coap://h/', '-e', 'a', '-f', 'b'], /-e or -f/],
    [['coap://h/', '-T', 'xyz'], /-T needs hex/],
    [['coap://h/', '-T', '010203040506070809'], /at most 8 bytes/],
    [['coap://h/', '-O', 'nope,1'], /invalid option number/],
    [['coap://h/', '--bogus'], /Unknown option/],
    [[], /exactly one URI/],
    [['coap://a/', 'coap://b/'], /exactly one URI/],
    [['-f', '/no/such/file', 'coap://h/'], /cannot read/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseClientArgs('get', argv as string[], noStdin)).toThrow(message as RegExp);
  });

  it('parses serve options with libcoap’s defaults', () => {
    expect(parseServeArgs([])).toEqual({ host: '::', port: 5683, dynamic: 0, verbose: false });
    expect(parseServeArgs(['-A', '127.0.0.1', '-p', '0', '-d', '10', '-v'])).toEqual({
      host: '127.0.0.1',
      port: 0,
      dynamic: 10,
      verbose: true,
    });
    expect(() => parseServeArgs(['-p', '70000'])).toThrow(UsageError);
    expect(() => parseServeArgs(['extra'])).toThrow(UsageError);
    expect(parseServeArgs(['-h'])).toBe('help');
  });

  it('parses -O values as text, hex or uint', () => {
    expect(Buffer.from(parseOptionArg('11,abc').value).toString()).toBe('abc');
    expect(Buffer.from(parseOptionArg('12,50').value).toString('hex')).toBe('32');
    expect(parseOptionArg('5').value.length).toBe(0);
  });
});
