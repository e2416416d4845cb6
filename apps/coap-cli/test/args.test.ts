import { describe, expect, it } from 'vitest';
import { COMMANDS, parseClientArgs, parseOptionArg, parseServeArgs, parseToken, splitCommand, UsageError } from '../src/index.js';

const noStdin = () => Buffer.from('from stdin');

describe('command line parsing', () => {
  it('recognises every command and help', () => {
    for (const c of COMMANDS) expect(splitCommand([c, '-x']).command).toBe(c);
    expect(splitCommand([]).command).toBe('help');
    expect(splitCommand(['--help']).command).toBe('help');
    expect(() => splitCommand(['frobnicate'])).toThrow(UsageError);
    // libcoap's coap-client form: options or a URI first.
    expect(splitCommand(['-m', 'put', 'coap://h/'])).toEqual({ command: 'coap-client', rest: ['-m', 'put', 'coap://h/'] });
    expect(splitCommand(['coaps://h/']).command).toBe('coap-client');
  });

  it('takes the method from the command or -m, like coap-client', () => {
    const m = (cmd: Parameters<typeof parseClientArgs>[0], ...argv: string[]) => {
      const a = parseClientArgs(cmd, [...argv, 'coap://h/'], noStdin);
      return a === 'help' ? 'help' : [a.method, a.observe];
    };
    expect(m('coap-client')).toEqual(['GET', false]);
    expect(m('coap-client', '-m', 'ipatch')).toEqual(['iPATCH', false]);
    expect(m('coap-client', '-s', '3')).toEqual(['GET', true]);
    expect(m('put', '-m', 'put')).toEqual(['PUT', false]);
    expect(m('get', '-s', '2')).toEqual(['GET', true]);
    expect(m('observe')).toEqual(['GET', true]);
    expect(() => m('put', '-m', 'get')).toThrow(/conflicts with the put command/);
    expect(() => m('coap-client', '-m', 'brew')).toThrow(/unknown method/);
    expect(() => m('coap-client', '-m', 'put', '-s', '2')).toThrow(/-s \(observe\) applies to GET/);
    expect(() => m('ping', '-m', 'put')).toThrow(/does not apply to ping/);
  });

  it('reads libcoap -v with or without a level, and the DTLS flags', () => {
    const a = parseClientArgs(
      'get',
      ['-v', '-k', 'secretPSK', '-u', 'me', '-c', 'c.pem', '-j', 'k.pem', '-C', 'ca.pem', '-n', 'coaps://h/'],
      noStdin,
    );
    const b = parseClientArgs('get', ['-v', '9', '-M', 'rpk.pem', '-R', '/etc/ssl/certs', '--hint-file', 'hints', 'coaps://h/'], noStdin);
    if (a === 'help' || b === 'help') throw new Error('unexpected');
    expect(a.verbosity).toBe(6);
    expect(a.security).toMatchObject({ key: 'secretPSK', user: 'me', cert: 'c.pem', certKey: 'k.pem', caFile: 'ca.pem', noVerify: true });
    expect(b.verbosity).toBe(9);
    expect(b.security).toMatchObject({ rpk: 'rpk.pem', trust: '/etc/ssl/certs', matchFile: 'hints', noVerify: false });
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
        '0xcafe',
        '-o',
        '/tmp/x',
        '-w',
        '-G',
        '3',
        '-a',
        '127.0.0.1',
        '-p',
        '40000',
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
      durationMs: undefined,
      output: '/tmp/x',
      newline: true,
      count: 3,
      localAddress: '127.0.0.1',
      localPort: 40000,
      verbosity: 6,
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
    [['coap://h/', '-T', '0xzz'], /-T: invalid hex/],
    [['coap://h/', '-T', 'ninebytes'], /at most 8 bytes/],
    [['coap://h/', '-G', '0'], /-G must be/],
    [['coap://h/', '-v', '10'], /-v must be/],
    [['coap://h/', '-O', 'nope,1'], /invalid option number/],
    [['coap://h/', '--bogus'], /Unknown option/],
    [[], /exactly one URI/],
    [['coap://a/', 'coap://b/'], /exactly one URI/],
    [['-f', '/no/such/file', 'coap://h/'], /cannot read/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseClientArgs('get', argv as string[], noStdin)).toThrow(message as RegExp);
  });

  it('parses serve options with libcoap’s defaults', () => {
    expect(parseServeArgs([])).toMatchObject({
      host: '::',
      port: 5683,
      dynamic: 0,
      echo: false,
      confirmable: true,
      directory: undefined,
      verbosity: 3,
    });
    expect(parseServeArgs(['-A', '127.0.0.1', '-p', '0', '-d', '10', '-e', '-N', '-v'])).toMatchObject({
      host: '127.0.0.1',
      port: 0,
      dynamic: 10,
      echo: true,
      confirmable: false,
      verbosity: 7,
    });
    expect(parseServeArgs(['-W', '--max-size', '1000', '/srv/coap'])).toMatchObject({
      directory: '/srv/coap',
      writable: true,
      maxSize: 1000,
    });
    expect(parseServeArgs(['-k', 'k', '--hint', '', '-i', 'ids', '-c', 'c', '-j', 'j', '-C', 'ca', '-M', 'r'])).toMatchObject({
      security: { key: 'k', hint: '', matchFile: 'ids', cert: 'c', certKey: 'j', caFile: 'ca', rpk: 'r' },
    });
    expect(() => parseServeArgs(['-p', '70000'])).toThrow(UsageError);
    expect(() => parseServeArgs(['a', 'b'])).toThrow(/at most one DIRECTORY/);
    expect(() => parseServeArgs(['-W'])).toThrow(/needs a DIRECTORY/);
    expect(() => parseServeArgs(['-d', '3', '/srv'])).toThrow(/demo resources/);
    expect(parseServeArgs(['-h'])).toBe('help');
  });

  it('reads tokens as libcoap does (text bytes) or as 0x-hex', () => {
    expect(Buffer.from(parseToken('cafe')).toString('hex')).toBe('63616665');
    expect(Buffer.from(parseToken('0xcafe')).toString('hex')).toBe('cafe');
  });

  it('parses -O values as text, hex or uint', () => {
    expect(Buffer.from(parseOptionArg('11,abc').value).toString()).toBe('abc');
    expect(Buffer.from(parseOptionArg('12,50').value).toString('hex')).toBe('32');
    expect(parseOptionArg('5').value.length).toBe(0);
  });
});
