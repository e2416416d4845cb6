import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BenchConfig, Config, PubConfig, SubConfig } from '../src/args.js';
import { type Command, NOT_OFFERED, OPTIONS, parseCommandArgs, splitCommand, UsageError } from '../src/index.js';

const ctx = { pid: 4242, random: () => 0.5 };

function run(command: Command, argv: string[]): Config {
  const r = parseCommandArgs(command, argv, ctx);
  if (r.kind !== 'run') throw new Error(`expected a run, got ${r.kind}`);
  return r.config;
}
const pub = (argv: string[]) => run('pub', argv) as PubConfig;
const sub = (argv: string[]) => run('sub', argv) as SubConfig;
const bench = (argv: string[]) => run('bench', argv) as BenchConfig;

function failure(command: Command, argv: string[]): string {
  try {
    parseCommandArgs(command, argv, ctx);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).code).toBe('ERR_USAGE');
    expect((err as UsageError).exitCode).toBe(1);
    return (err as Error).message;
  }
  throw new Error(`expected ${argv.join(' ')} to fail`);
}

describe('splitCommand', () => {
  it('recognises the subcommands, help and version', () => {
    expect(splitCommand(['pub', '-x']).command).toBe('pub');
    expect(splitCommand(['sub']).command).toBe('sub');
    expect(splitCommand(['bench']).command).toBe('bench');
    expect(splitCommand([]).command).toBe('help');
    expect(splitCommand(['--help']).command).toBe('help');
    expect(splitCommand(['--version']).command).toBe('version');
    expect(() => splitCommand(['frobnicate'])).toThrow("Error: Unknown command 'frobnicate' (use pub, sub or bench).");
  });
});

describe('pub flags', () => {
  it('maps the mosquitto_pub flags', () => {
    const c = pub([
      '-h',
      'broker',
      '-p',
      '1884',
      '-t',
      'a/b',
      '-m',
      'hi',
      '-q',
      '2',
      '-r',
      '-i',
      'me',
      '-u',
      'user',
      '-P',
      'pw',
      '-k',
      '30',
    ]);
    expect(c).toMatchObject({
      command: 'pub',
      host: 'broker',
      port: 1884,
      topic: 'a/b',
      mode: 'message',
      message: 'hi',
      qos: 2,
      retain: true,
      clientId: 'me',
      username: 'user',
      password: 'pw',
      keepalive: 30,
      protocolVersion: 4,
      clean: true,
      transport: 'tcp',
    });
  });

  it('has mosquitto_pub defaults', () => {
    const c = pub(['-t', 't', '-n']);
    expect(c).toMatchObject({
      host: 'localhost',
      port: undefined,
      qos: 0,
      retain: false,
      keepalive: 60,
      maxInflight: 20,
      repeat: 1,
      mode: 'null',
    });
    expect(c.clientId).toBeUndefined();
  });

  it('takes the next argument as the value even when it starts with a dash', () => {
    expect(pub(['-t', 't', '-m', '-5']).message).toBe('-5');
    expect(pub(['-t', 't', '--message', '--help']).message).toBe('--help');
    expect(pub(['-t', 't', '-m', 'x', '-V', '5', '-c', '-i', 'id', '-x', '-1']).sessionExpiry).toBe(0xffffffff);
  });

  it('accepts long forms and --flag=value', () => {
    const c = pub(['--topic=a', '--message', 'b', '--qos=1', '--retain', '--host', 'h', '--port=2000']);
    expect(c).toMatchObject({ topic: 'a', message: 'b', qos: 1, retain: true, host: 'h', port: 2000 });
  });

  it('selects one message source', () => {
    expect(pub(['-t', 't', '-f', 'file.bin']).mode).toBe('file');
    expect(pub(['-t', 't', '-s']).mode).toBe('stdin');
    expect(pub(['-t', 't', '-l']).mode).toBe('lines');
    expect(pub(['-t', 't', '-n']).mode).toBe('null');
  });

  it('applies flags in order: a later -p overrides -L, and the reverse', () => {
    expect(pub(['-L', 'mqtt://h:1884/t', '-p', '1999', '-m', 'x']).port).toBe(1999);
    expect(pub(['-p', '1999', '-L', 'mqtt://h:1884/t', '-m', 'x']).port).toBe(1884);
    expect(pub(['-p', '1999', '-L', 'mqtt://h/t', '-m', 'x']).port).toBeUndefined();
  });

  it('-L sets credentials, host, port, transport and topic', () => {
    const c = pub(['-L', 'mqtts://alice:s3cr:t@broker.example:8884/a/b/c', '-m', 'x']);
    expect(c).toMatchObject({
      username: 'alice',
      password: 's3cr:t',
      host: 'broker.example',
      port: 8884,
      topic: 'a/b/c',
      transport: 'tcp',
    });
    expect(c.tls.fromUrl).toBe(true);
    expect(pub(['-L', 'ws://h:9001/x', '-m', 'x'])).toMatchObject({ transport: 'ws', host: 'h', port: 9001, topic: 'x' });
    expect(pub(['-L', 'WSS://[::1]:9443/x', '-m', 'x'])).toMatchObject({ transport: 'ws', host: '::1', port: 9443 });
    expect(pub(['-L', 'mqtt://u@h/t', '-m', 'x'])).toMatchObject({ username: 'u', host: 'h', topic: 't' });
  });

  it('-I builds the id from the prefix and the process id', () => {
    expect(pub(['-t', 't', '-n', '-I', 'dev-']).clientId).toBe('dev-4242');
  });

  it('-D collects MQTT 5 properties per packet and switches to MQTT 5', () => {
    const c = pub([
      '-t',
      't',
      '-m',
      'x',
      '-D',
      'publish',
      'user-property',
      'k',
      'v',
      '-D',
      'PUBLISH',
      'user-property',
      'k',
      'v2',
      '-D',
      'publish',
      'content-type',
      'text/plain',
      '-D',
      'publish',
      'message-expiry-interval',
      '0x10',
      '-D',
      'publish',
      'correlation-data',
      'abc',
      '-D',
      'publish',
      'payload-format-indicator',
      '1',
      '-D',
      'connect',
      'session-expiry-interval',
      '60',
      '-D',
      'connect',
      'request-problem-information',
      '0',
      '-D',
      'will',
      'will-delay-interval',
      '5',
      '-D',
      'disconnect',
      'reason-string',
      'bye',
    ]);
    expect(c.protocolVersion).toBe(5);
    expect(c.properties.publish).toEqual({
      userProperties: [
        ['k', 'v'],
        ['k', 'v2'],
      ],
      contentType: 'text/plain',
      messageExpiryInterval: 16,
      correlationData: Buffer.from('abc'),
      payloadFormatIndicator: 1,
    });
    expect(c.properties.connect).toEqual({ sessionExpiryInterval: 60, requestProblemInformation: false });
    expect(c.properties.will).toEqual({ willDelayInterval: 5 });
    expect(c.properties.disconnect).toEqual({ reasonString: 'bye' });
  });

  it('-D switches to MQTT 5 where it stands: a later -V wins', () => {
    expect(pub(['-t', 't', '-n', '-D', 'publish', 'content-type', 'x', '-V', '311']).protocolVersion).toBe(4);
    expect(pub(['-t', 't', '-n', '-V', '311', '-D', 'publish', 'content-type', 'x']).protocolVersion).toBe(5);
  });

  it('-V accepts mosquitto spellings', () => {
    expect(pub(['-t', 't', '-n', '-V', 'mqttv5']).protocolVersion).toBe(5);
    expect(pub(['-t', 't', '-n', '-V', '5']).protocolVersion).toBe(5);
    expect(pub(['-t', 't', '-n', '-V', 'mqttv311']).protocolVersion).toBe(4);
    expect(pub(['-t', 't', '-n', '--protocol-version', '311']).protocolVersion).toBe(4);
  });

  it('-c: MQTT 5 sessions never expire unless -x says otherwise', () => {
    expect(pub(['-t', 't', '-n', '-c', '-i', 'me', '-V', '5']).sessionExpiry).toBe(0xffffffff);
    expect(pub(['-t', 't', '-n', '-c', '-i', 'me', '-V', '5', '-x', '60']).sessionExpiry).toBe(60);
    expect(pub(['-t', 't', '-n', '-V', '5', '-x', '∞', '-i', 'me']).sessionExpiry).toBe(0xffffffff);
    expect(pub(['-t', 't', '-n', '-V', '5', '-x', '0']).sessionExpiry).toBeUndefined();
    expect(pub(['-t', 't', '-n', '-c', '-i', 'me']).clean).toBe(false);
  });

  it('parses the Will and TLS flags', () => {
    const c = pub([
      '-t',
      't',
      '-n',
      '--will-topic',
      'bye',
      '--will-payload',
      'gone',
      '--will-qos',
      '1',
      '--will-retain',
      '--cafile',
      'ca.pem',
      '--cert',
      'c.pem',
      '--key',
      'k.pem',
      '--insecure',
      '--tls-version',
      'tlsv1.3',
      '--ciphers',
      'HIGH',
    ]);
    expect(c.will).toEqual({ topic: 'bye', payload: 'gone', qos: 1, retain: true });
    expect(c.tls).toMatchObject({ cafile: 'ca.pem', cert: 'c.pem', key: 'k.pem', insecure: true, tlsVersion: 'tlsv1.3', ciphers: 'HIGH' });
  });

  it('--repeat and --repeat-delay', () => {
    expect(pub(['-t', 't', '-m', 'x', '--repeat', '3', '--repeat-delay', '0.25'])).toMatchObject({ repeat: 3, repeatDelayMs: 250 });
  });
});

describe('sub flags', () => {
  it('maps the mosquitto_sub flags', () => {
    const c = sub([
      '-t',
      'a/#',
      '-t',
      'b/+',
      '-T',
      'a/x',
      '-U',
      'old/#',
      '-C',
      '5',
      '-W',
      '10',
      '-v',
      '-N',
      '-R',
      '-q',
      '1',
      '-F',
      '%t %p',
    ]);
    expect(c).toMatchObject({
      topics: ['a/#', 'b/+'],
      filterOut: ['a/x'],
      unsubscribe: ['old/#'],
      count: 5,
      timeoutSec: 10,
      verbose: true,
      eol: false,
      noRetain: true,
      qos: 1,
      format: '%t %p',
    });
  });

  it('groups short switches as getopt would', () => {
    expect(sub(['-t', 'a', '-vN'])).toMatchObject({ verbose: true, eol: false });
  });

  it('-L adds its topic to the -t list', () => {
    expect(sub(['-L', 'mqtt://h/x/+', '-t', 'y']).topics).toEqual(['x/+', 'y']);
  });

  it('--random-filter, --retained-only, --remove-retained, -E, --pretty, --retain-as-published', () => {
    const c = sub([
      '-t',
      'a',
      '--random-filter',
      '25.5',
      '--retained-only',
      '--remove-retained',
      '-E',
      '--pretty',
      '-V',
      '5',
      '--retain-as-published',
    ]);
    expect(c).toMatchObject({
      randomFilter: 0.255,
      retainedOnly: true,
      removeRetained: true,
      exitAfterSub: true,
      pretty: true,
      retainAsPublished: true,
    });
  });

  it('-U alone is enough', () => {
    expect(sub(['-U', 'a']).topics).toEqual([]);
  });
});

describe('bench flags', () => {
  it('has defaults and takes its own flags', () => {
    const d = bench([]);
    expect(d).toMatchObject({ publishers: 1, subscribers: 1, count: 10_000, size: 64, inflight: 64, qos: 0, json: false, progress: true });
    expect(d.topicPrefix).toMatch(/^iotwire-bench\/[0-9a-f]{8}$/);
    const c = bench([
      '--publishers',
      '4',
      '--subscribers',
      '0',
      '-C',
      '100',
      '--duration',
      '2.5',
      '--size',
      '256',
      '--rate',
      '1000',
      '--inflight',
      '8',
      '--drain',
      '1',
      '-q',
      '1',
      '-t',
      'b',
      '--json',
      '--no-progress',
    ]);
    expect(c).toMatchObject({
      publishers: 4,
      subscribers: 0,
      count: 100,
      durationSec: 2.5,
      size: 256,
      rate: 1000,
      inflight: 8,
      drainSec: 1,
      qos: 1,
      topicPrefix: 'b',
      json: true,
      progress: false,
    });
  });
});

describe('help and version', () => {
  it('--help anywhere wins over other flags and missing requirements', () => {
    expect(parseCommandArgs('pub', ['--help']).kind).toBe('help');
    expect(parseCommandArgs('sub', ['-t', 'a', '--help']).kind).toBe('help');
    expect(parseCommandArgs('bench', ['--version']).kind).toBe('version');
  });
});

// mosquitto 2.0.11's own messages for the same mistakes (checked against mosquitto_pub/mosquitto_sub).
const ERRORS: [Command, string[], string][] = [
  ['sub', ['-t', 'a', '-Z'], "Error: Unknown option '-Z'."],
  ['sub', ['-t', 'a', 'stray'], "Error: Unknown option 'stray'."],
  ['pub', ['-t', 'a', '-m', 'x', '-v'], "Error: Unknown option '-v'."],
  ['sub', ['-t', 'a', '-m', 'x'], "Error: Unknown option '-m'."],
  ['sub', ['-t'], 'Error: -t argument given but no topic specified.'],
  ['pub', ['-t', 'a', '-m'], 'Error: -m argument given but no message specified.'],
  ['pub', ['-t', 'a'], 'Error: Both topic and message must be supplied.'],
  ['pub', ['-m', 'x'], 'Error: Both topic and message must be supplied.'],
  ['sub', ['-p', '1883'], 'Error: You must specify a topic to subscribe to (-t) or unsubscribe from (-U).'],
  ['sub', ['-t', 'a', '-q', '3'], 'Error: Invalid QoS given: 3'],
  ['sub', ['-t', 'a/#/b'], "Error: Invalid subscription topic 'a/#/b', are all '+' and '#' wildcards correct?"],
  ['sub', ['-t', 'a', '-T', 'x/#/y'], "Error: Invalid filter topic 'x/#/y', are all '+' and '#' wildcards correct?"],
  ['sub', ['-U', 'a+'], "Error: Invalid unsubscribe topic 'a+', are all '+' and '#' wildcards correct?"],
  ['pub', ['-t', 'a/+', '-m', 'x'], "Error: Invalid publish topic 'a/+', does it contain '+' or '#'?"],
  ['pub', ['-t', 'a', '-m', 'x', '--will-topic', 'w/#'], "Error: Invalid will topic 'w/#', does it contain '+' or '#'?"],
  ['pub', ['-t', 'a', '-m', 'x', '-n'], 'Error: Only one type of message can be sent at once.'],
  ['pub', ['-t', 'a', '-l', '-s'], 'Error: Only one type of message can be sent at once.'],
  ['sub', ['-t', 'a', '-F', '%Z'], "Error: Invalid format specifier 'Z'."],
  ['sub', ['-t', 'a', '-F', '%'], 'Error: Incomplete format specifier.'],
  ['sub', ['-t', 'a', '-F', '\\q'], "Error: Invalid escape specifier 'q'."],
  ['sub', ['-t', 'a', '-V', '6'], 'Error: Invalid protocol version argument given.'],
  ['sub', ['-t', 'a', '-k', '2'], 'Error: Invalid keepalive given, it must be between 5 and 65535 inclusive.'],
  ['sub', ['-t', 'a', '-p', '99999'], 'Error: Invalid port given: 99999'],
  ['sub', ['-t', 'a', '-p', 'abc'], 'Error: Invalid port given: abc'],
  ['sub', ['-t', 'a', '-C', '0'], 'Error: Invalid message count "0".'],
  ['sub', ['-t', 'a', '-W', '0'], 'Error: Invalid timeout "0".'],
  ['sub', ['-t', 'a', '-R', '--retained-only'], "Error: Combining '-R' and '--retained-only' makes no sense."],
  ['pub', ['-t', 'a', '-m', 'x', '-c'], 'Error: You must provide a client id if you are using the -c option.'],
  [
    'pub',
    ['-t', 'a', '-m', 'x', '-c', '-V', '5'],
    'Error: You must provide a client id if you are using an infinite session expiry interval.',
  ],
  ['pub', ['-t', 'a', '-m', 'x', '-i', 'a', '-I', 'b'], 'Error: -i and -I argument cannot be used together.'],
  ['pub', ['-t', 'a', '-m', 'x', '--will-payload', 'x'], 'Error: Will payload given, but no will topic given.'],
  ['pub', ['-t', 'a', '-m', 'x', '--will-retain'], 'Error: Will retain given, but no will topic given.'],
  ['pub', ['-t', 'a', '-m', 'x', '--will-topic', 'w', '--will-qos', '3'], 'Error: Invalid will QoS 3.'],
  ['pub', ['-t', 'a', '-m', 'x', '--cert', 'x'], 'Error: Both certfile and keyfile must be provided if one of them is set.'],
  ['pub', ['-t', 'a', '-m', 'x', '--key', 'x'], 'Error: Both certfile and keyfile must be provided if one of them is set.'],
  ['pub', ['-L', 'http://h/t', '-m', 'x'], 'Error: Unsupported URL scheme.'],
  ['pub', ['-L', 'mqtt://127.0.0.1:1883', '-m', 'x'], 'Error: Invalid URL for -L argument specified - topic missing.'],
  ['pub', ['-t', 'a', '-m', 'x', '-D', 'publish', 'foo', '1'], 'Error: Invalid property name foo given in --property argument.'],
  ['pub', ['-t', 'a', '-m', 'x', '-D', 'pubx', 'user-property', '1', '2'], 'Error: Invalid command pubx given in --property argument.'],
  [
    'pub',
    ['-t', 'a', '-m', 'x', '-D', 'connect', 'content-type', '1'],
    'Error: content-type property not allowed for connect in --property argument.',
  ],
  [
    'pub',
    ['-t', 'a', '-m', 'x', '-D', 'publish', 'user-property', '1'],
    'Error: --property argument given but not enough arguments specified.',
  ],
  ['pub', ['-t', 'a', '-m', 'x', '-D', 'publish'], 'Error: --property argument given but not enough arguments specified.'],
  [
    'pub',
    ['-t', 'a', '-m', 'x', '-D', 'publish', 'payload-format-indicator', '300'],
    'Error: Property value (300) out of range for property payload-format-indicator.',
  ],
  ['pub', ['-t', 'a', '-m', 'x', '-D', 'publish', 'message-expiry-interval', 'abc'], "Error: Property value 'abc' not a number."],
  [
    'pub',
    ['-t', 'a', '-m', 'x', '-D', 'publish', 'subscription-identifier', '3'],
    'Error: subscription-identifier property not supported for publish in --property argument.',
  ],
  [
    'pub',
    ['-t', 'a', '-m', 'x', '-D', 'puback', 'reason-string', 'r'],
    'Error: reason-string property not supported for puback in --property argument.',
  ],
  [
    'pub',
    ['-t', 'a', '-m', 'x', '-D', 'publish', 'content-type', 'a', '-D', 'publish', 'content-type', 'b'],
    'Error in PUBLISH properties: Duplicate property content-type in property list.',
  ],
  [
    'pub',
    ['-t', 'a', '-m', 'x', '-D', 'publish', 'payload-format-indicator', '2'],
    'Error in PUBLISH properties: payload-format-indicator must be 0 or 1.',
  ],
  ['pub', ['-t', 'a', '-m', 'x', '-D', 'connect', 'receive-maximum', '0'], 'Error in CONNECT properties: receive-maximum must not be 0.'],
  [
    'pub',
    ['-t', 'a', '-m', 'x', '-D', 'subscribe', 'user-property', 'k', 'v'],
    'Error: subscribe properties are not used by iotwire-mqtt pub.',
  ],
  ['sub', ['-t', 'a', '-D', 'publish', 'content-type', 'x'], 'Error: publish properties are not used by iotwire-mqtt sub.'],
  ['pub', ['-t', 'a', '-m', 'x', '-x', 'abc'], 'Error: session-expiry-interval not a number.'],
  ['pub', ['-t', 'a', '-m', 'x', '-x', '-2'], 'Error: session-expiry-interval out of range.'],
  ['pub', ['-t', 'a', '-m', 'x', '--repeat', '0'], 'Error: --repeat argument must be >0.'],
  ['pub', ['-t', 'a', '-m', 'x', '--repeat-delay', '-1'], 'Error: --repeat-delay argument must be >=0.0.'],
  ['pub', ['-t', 'a', '-m', 'x', '-M', '0'], 'Error: Maximum inflight messages must be greater than 0.'],
  ['sub', ['-t', 'a', '--random-filter', '0.01'], 'Error: --random-filter chance must be between 0.1-100.0'],
  ['sub', ['-t', 'a', '--retain-as-published'], 'Error: --retain-as-published needs MQTT v5 (-V mqttv5).'],
  [
    'pub',
    ['-t', 'a', '-m', 'x', '-V', 'mqttv31'],
    'Error: MQTT v3.1 (-V mqttv31) is not supported by iotwire-mqtt; use mqttv311 or mqttv5.',
  ],
  ['pub', ['-t', 'a', '-m', 'x', '--tls-version', 'tlsv1'], "Error: Invalid TLS version 'tlsv1': use tlsv1.3, tlsv1.2 or tlsv1.1."],
  ['pub', ['-t', 'a', '-m', 'x', '--psk', '00'], `Error: --psk is not supported by iotwire-mqtt: ${NOT_OFFERED['--psk']}.`],
  ['bench', ['--size', '8'], 'Error: Invalid payload size "8".'],
  ['bench', ['--publishers', '0'], 'Error: Invalid publisher count "0".'],
  ['bench', ['-m', 'x'], "Error: Unknown option '-m'."],
];

describe('flag errors', () => {
  it.each(ERRORS)('%s %j → %s', (command, argv, message) => {
    expect(failure(command, argv)).toBe(message);
  });
});

describe('option table', () => {
  it('names every flag once per subcommand', () => {
    for (const command of ['pub', 'sub', 'bench'] as const) {
      const specs = OPTIONS.filter((o) => o.commands.includes(command));
      const longs = specs.map((o) => o.long);
      const shorts = specs.flatMap((o) => (o.short ? [o.short] : []));
      expect(new Set(longs).size, command).toBe(longs.length);
      expect(new Set(shorts).size, command).toBe(shorts.length);
    }
  });
});

describe('README', () => {
  it('documents every flag and every flag mosquitto has that is not offered', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const o of OPTIONS) expect(readme, `--${o.long}`).toContain(o.short ? `\`-${o.short}\`, \`--${o.long}\`` : `\`--${o.long}\``);
    for (const flag of Object.keys(NOT_OFFERED)) expect(readme, flag).toContain(`\`${flag}\``);
  });
});
