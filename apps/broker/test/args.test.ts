import { describe, expect, it } from 'vitest';
import { BROKER_USAGE, parseBrokerArgs } from '../src/index.js';

describe('parseBrokerArgs', () => {
  it('parses -c, -p, -v and the long forms', () => {
    expect(parseBrokerArgs(['-p', '1884', '-c', 'b.yaml', '-v'])).toEqual({
      port: 1884,
      config: 'b.yaml',
      verbose: true,
      help: false,
      version: false,
      testConfig: false,
    });
    expect(parseBrokerArgs(['--port=0', '--config', 'x.json', '--test-config'])).toMatchObject({
      port: 0,
      config: 'x.json',
      testConfig: true,
    });
    expect(parseBrokerArgs([])).toEqual({ verbose: false, help: false, version: false, testConfig: false });
    expect(parseBrokerArgs(['-h']).help).toBe(true);
    expect(parseBrokerArgs(['--version']).version).toBe(true);
  });

  it.each([
    [['-p', 'x'], /invalid port "x": expected 0..65535/],
    [['-p', '65536'], /invalid port "65536"/],
    [['-p', '-1'], /Option '-p' argument is ambiguous/],
    [['-p', '1.5'], /invalid port "1.5"/],
    [['-p'], /argument missing/],
    [['--nope'], /Unknown option '--nope'/],
    [['-x'], /Unknown option '-x'/],
    [['extra'], /Unexpected argument 'extra'/],
    [['--test-config'], /--test-config needs -c CONFIG/],
  ])('rejects %j', (argv, re) => {
    expect(() => parseBrokerArgs(argv)).toThrow(re);
  });

  it('documents every flag, the signals and the exit codes', () => {
    for (const s of [
      '-c, --config',
      '-p, --port',
      '-v, --verbose',
      '--test-config',
      '--version',
      '-h, --help',
      'SIGHUP',
      'SIGTERM',
      'Exit status',
    ]) {
      expect(BROKER_USAGE).toContain(s);
    }
  });
});
