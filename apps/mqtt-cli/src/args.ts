/**
 * Flag parsing for pub, sub and bench with mosquitto_pub/mosquitto_sub semantics: flags apply
 * in order (a later `-p` overrides the port of an earlier `-L`), a flag's value is the next
 * argument whatever it looks like (`-m -5`, `-x -1`), `-D` takes three or four arguments, and
 * mistakes produce mosquitto's messages. `node:util` parseArgs does the tokenising.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { topicFilterProblem, topicNameProblem } from '@iotwire/mqtt-packet';
import { UsageError } from './errors.js';
import { checkFormat } from './format.js';
import { parseCliUrl } from './mqtt-url.js';
import { type Command, flagName, NOT_OFFERED, type OptionSpec, optionsFor } from './options.js';
import { type PropertySet, parsePropertyArg } from './properties.js';

export type QoS = 0 | 1 | 2;

export interface TlsConfig {
  cafile?: string;
  capath?: string;
  cert?: string;
  key?: string;
  ciphers?: string;
  /** Lowest version: `tlsv1.3`, `tlsv1.2` or `tlsv1.1`. */
  tlsVersion?: 'tlsv1.3' | 'tlsv1.2' | 'tlsv1.1';
  insecure: boolean;
  useOsCerts: boolean;
  /** `-L mqtts://` or `wss://`. */
  fromUrl: boolean;
}

export interface WillConfig {
  topic: string;
  payload: string;
  qos: QoS;
  retain: boolean;
}

/** Flags every subcommand shares. */
export interface ConnectionConfig {
  host: string;
  /** Undefined: the default of the transport (1883/8883, WebSocket 80/443). */
  port: number | undefined;
  transport: 'tcp' | 'ws';
  wsPath: string;
  bindAddress?: string;
  username?: string;
  password?: string;
  /** `-i`, or `-I` prefix + pid; undefined = generated. */
  clientId?: string;
  keepalive: number;
  clean: boolean;
  /** MQTT 5 Session Expiry Interval to send (undefined: none). */
  sessionExpiry?: number;
  protocolVersion: 4 | 5;
  maxInflight: number;
  qos: QoS;
  will?: WillConfig;
  properties: PropertySet;
  tls: TlsConfig;
  debug: boolean;
  quiet: boolean;
}

export type PubMode = 'message' | 'file' | 'null' | 'stdin' | 'lines';

export interface PubConfig extends ConnectionConfig {
  command: 'pub';
  topic: string;
  mode: PubMode;
  /** `-m` text. */
  message?: string;
  /** `-f` path. */
  file?: string;
  retain: boolean;
  repeat: number;
  repeatDelayMs: number;
}

export interface SubConfig extends ConnectionConfig {
  command: 'sub';
  topics: string[];
  unsubscribe: string[];
  filterOut: string[];
  count?: number;
  timeoutSec?: number;
  format?: string;
  verbose: boolean;
  eol: boolean;
  pretty: boolean;
  noRetain: boolean;
  retainedOnly: boolean;
  removeRetained: boolean;
  retainAsPublished: boolean;
  exitAfterSub: boolean;
  /** Probability (0..1] of printing a message (`--random-filter`). */
  randomFilter: number;
}

export interface BenchConfig extends ConnectionConfig {
  command: 'bench';
  topicPrefix: string;
  publishers: number;
  subscribers: number;
  /** Messages per publisher (when no duration). */
  count: number;
  durationSec?: number;
  size: number;
  /** Messages per second per publisher (undefined: unpaced). */
  rate?: number;
  inflight: number;
  drainSec: number;
  retain: boolean;
  json: boolean;
  progress: boolean;
}

export type Config = PubConfig | SubConfig | BenchConfig;

export type ParseResult = { kind: 'help' } | { kind: 'version' } | { kind: 'run'; config: Config };

/** Environment the parser reads: the process id for `-I`, randomness for the bench topic. */
export interface ParseContext {
  pid: number;
  random: () => number;
}

const defaultContext: ParseContext = { pid: process.pid, random: Math.random };

const MAX_PAYLOAD = 268_435_455;

function intValue(text: string): number | undefined {
  return /^[+-]?\d+$/.test(text.trim()) ? Number(text.trim()) : undefined;
}

function qosValue(text: string, message: (shown: string) => string): QoS {
  const n = intValue(text);
  if (n === undefined || n < 0 || n > 2) throw new UsageError(message(n === undefined ? text : String(n)));
  return n as QoS;
}

/** Base state before flags apply. */
function defaults(command: Command): ConnectionConfig & Record<string, unknown> {
  return {
    host: 'localhost',
    port: undefined,
    transport: 'tcp',
    wsPath: '/mqtt',
    keepalive: 60,
    clean: true,
    protocolVersion: 4,
    maxInflight: 20,
    qos: 0,
    properties: {},
    tls: { insecure: false, useOsCerts: false, fromUrl: false },
    debug: false,
    quiet: false,
    command,
  };
}

/**
 * Rewrites `-x value` / `--long value` into `--long=value` (so values may start with `-`),
 * collects `-D` groups, and reports flags mosquitto has but we do not offer.
 */
function normalise(command: Command, argv: readonly string[], specs: OptionSpec[], properties: PropertySet): string[] {
  const byToken = new Map<string, OptionSpec>();
  for (const o of specs) {
    byToken.set(`--${o.long}`, o);
    if (o.short) byToken.set(`-${o.short}`, o);
  }
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const o = byToken.get(a);
    if (o?.long === 'property') {
      i += parsePropertyArg(argv.slice(i + 1), properties, command);
      // A marker token: -D switches to MQTT 5 at its position, so a later -V still wins.
      args.push('--property=');
      continue;
    }
    if (o?.value !== undefined) {
      if (i === argv.length - 1) {
        throw new UsageError(`${flagName(o)} argument given but no ${o.noun ?? o.value} specified.`);
      }
      args.push(`--${o.long}=${argv[++i]}`);
      continue;
    }
    if (!o && NOT_OFFERED[a] !== undefined) throw new UsageError(`${a} is not supported by iotwire-mqtt: ${NOT_OFFERED[a]}.`);
    args.push(a);
  }
  return args;
}

function unknownOption(err: unknown): UsageError {
  const message = (err as Error).message;
  const m = /(?:Unknown option|Unexpected argument) '([^']+)'/.exec(message);
  if (m) return new UsageError(`Unknown option '${m[1]}'.`);
  const missing = /Option '(?:-(\w), )?--([\w-]+) <value>' argument missing/.exec(message);
  if (missing) return new UsageError(`${missing[1] ? `-${missing[1]}` : `--${missing[2]}`} argument given but no value specified.`);
  return new UsageError(message);
}

/** Parses the arguments of one subcommand. Throws {@link UsageError} with mosquitto's wording. */
export function parseCommandArgs(command: Command, argv: readonly string[], ctx: ParseContext = defaultContext): ParseResult {
  const specs = optionsFor(command);
  const properties: PropertySet = {};
  const args = normalise(command, argv, specs, properties);
  const options: NonNullable<ParseArgsConfig['options']> = {};
  for (const o of specs) {
    options[o.long] = o.value !== undefined ? { type: 'string', multiple: true } : { type: 'boolean', multiple: true };
    if (o.short) options[o.long]!.short = o.short;
  }
  let tokens: NonNullable<ReturnType<typeof parseArgs>['tokens']>;
  try {
    tokens = parseArgs({ args, options, strict: true, allowPositionals: false, tokens: true }).tokens ?? [];
  } catch (err) {
    throw unknownOption(err);
  }

  const c = defaults(command);
  c.properties = properties;
  const pub = c as unknown as PubConfig;
  const sub = c as unknown as SubConfig;
  const bench = c as unknown as BenchConfig;
  if (command === 'pub') Object.assign(c, { topic: '', mode: undefined, retain: false, repeat: 1, repeatDelayMs: 0 });
  if (command === 'sub') {
    Object.assign(c, {
      topics: [],
      unsubscribe: [],
      filterOut: [],
      verbose: false,
      eol: true,
      pretty: false,
      noRetain: false,
      retainedOnly: false,
      removeRetained: false,
      retainAsPublished: false,
      exitAfterSub: false,
      randomFilter: 1,
    });
  }
  if (command === 'bench') {
    Object.assign(c, {
      topicPrefix: `iotwire-bench/${Math.floor(ctx.random() * 0xffffffff)
        .toString(16)
        .padStart(8, '0')}`,
      publishers: 1,
      subscribers: 1,
      count: 10_000,
      size: 64,
      inflight: 64,
      drainSec: 5,
      retain: false,
      json: false,
      progress: true,
    });
  }

  let help = false;
  let version = false;
  let id: string | undefined;
  let idPrefix: string | undefined;
  let sessionExpiry: number | undefined;
  let willTopic: string | undefined;
  let willPayload: string | undefined;
  let willQos: QoS = 0;
  let willRetain = false;
  const setMode = (mode: PubMode) => {
    if (pub.mode !== undefined) throw new UsageError('Only one type of message can be sent at once.');
    pub.mode = mode;
  };
  const count = (name: string, text: string, min: number, message?: (n: string) => string) => {
    const n = intValue(text);
    if (n === undefined || n < min)
      throw new UsageError(message ? message(n === undefined ? text : String(n)) : `Invalid ${name} "${text}".`);
    return n;
  };
  const positive = (name: string, text: string, min: number) => {
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n) || n < min) throw new UsageError(`Invalid ${name} "${text}".`);
    return n;
  };

  for (let t = 0; t < tokens.length; t++) {
    const token = tokens[t]!;
    if (token.kind !== 'option') continue;
    const value = token.value ?? '';
    switch (token.name) {
      case 'host':
        c.host = value;
        break;
      case 'port': {
        const n = intValue(value);
        if (n === undefined || n < 1 || n > 65_535) throw new UsageError(`Invalid port given: ${value}`);
        c.port = n;
        break;
      }
      case 'url': {
        const u = parseCliUrl(value);
        c.transport = u.transport;
        c.tls.fromUrl = u.tls;
        c.host = u.host;
        c.port = u.port;
        if (u.username !== undefined) c.username = u.username;
        if (u.password !== undefined) c.password = u.password;
        if (command === 'pub') pub.topic = checkPubTopic(u.topic, '-L topic');
        else if (command === 'sub') sub.topics.push(checkSubTopic(u.topic, 'subscription'));
        break;
      }
      case 'ws':
        c.transport = 'ws';
        break;
      case 'ws-path':
        c.wsPath = value.startsWith('/') ? value : `/${value}`;
        break;
      case 'bind-address':
        c.bindAddress = value;
        break;
      case 'username':
        c.username = value;
        break;
      case 'pw':
        c.password = value;
        break;
      case 'id':
        if (idPrefix !== undefined) throw new UsageError('-i and -I argument cannot be used together.');
        id = value;
        break;
      case 'id-prefix':
        if (id !== undefined) throw new UsageError('-i and -I argument cannot be used together.');
        idPrefix = value;
        break;
      case 'keepalive': {
        const n = intValue(value);
        if (n === undefined || n < 5 || n > 65_535)
          throw new UsageError('Invalid keepalive given, it must be between 5 and 65535 inclusive.');
        c.keepalive = n;
        break;
      }
      case 'disable-clean-session':
        c.clean = false;
        break;
      case 'session-expiry': {
        if (value === '∞') sessionExpiry = 0xffffffff;
        else {
          const n = intValue(value);
          if (n === undefined) throw new UsageError('session-expiry-interval not a number.');
          if (n < -1 || n > 0xffffffff) throw new UsageError('session-expiry-interval out of range.');
          sessionExpiry = n === -1 ? 0xffffffff : n;
        }
        break;
      }
      case 'protocol-version':
        if (value === 'mqttv5' || value === '5') c.protocolVersion = 5;
        else if (value === 'mqttv311' || value === '311') c.protocolVersion = 4;
        else if (value === 'mqttv31' || value === '31') {
          throw new UsageError('MQTT v3.1 (-V mqttv31) is not supported by iotwire-mqtt; use mqttv311 or mqttv5.');
        } else throw new UsageError('Invalid protocol version argument given.');
        break;
      case 'property':
        c.protocolVersion = 5;
        break;
      case 'max-inflight':
        c.maxInflight = count('max_inflight', value, 1, () => 'Maximum inflight messages must be greater than 0.');
        break;
      case 'nodelay':
        break;
      case 'qos':
        c.qos = qosValue(value, (v) => `Invalid QoS given: ${v}`);
        break;
      case 'topic':
        if (command === 'pub') pub.topic = checkPubTopic(value, '-t');
        else if (command === 'sub') sub.topics.push(checkSubTopic(value, 'subscription'));
        else bench.topicPrefix = checkPubTopic(value, '-t');
        break;
      case 'message':
        setMode('message');
        if (Buffer.byteLength(value) > MAX_PAYLOAD) throw new UsageError(`Message length must be less than ${MAX_PAYLOAD} bytes.`);
        pub.message = value;
        break;
      case 'file':
        setMode('file');
        pub.file = value;
        break;
      case 'null-message':
        setMode('null');
        break;
      case 'stdin-file':
        setMode('stdin');
        break;
      case 'stdin-line':
        setMode('lines');
        break;
      case 'retain':
        (c as { retain?: boolean }).retain = true;
        break;
      case 'repeat':
        pub.repeat = count('repeat', value, 1, () => '--repeat argument must be >0.');
        break;
      case 'repeat-delay': {
        const n = Number(value);
        if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError('--repeat-delay argument must be >=0.0.');
        pub.repeatDelayMs = Math.round(n * 1000);
        break;
      }
      case 'filter-out':
        sub.filterOut.push(checkSubTopic(value, 'filter'));
        break;
      case 'unsubscribe':
        sub.unsubscribe.push(checkSubTopic(value, 'unsubscribe'));
        break;
      case 'count':
        if (command === 'sub') sub.count = count('message count', value, 1);
        else bench.count = count('message count', value, 1);
        break;
      case 'exit-after-sub':
        sub.exitAfterSub = true;
        break;
      case 'timeout':
        sub.timeoutSec = count('timeout', value, 1);
        break;
      case 'no-retain':
        sub.noRetain = true;
        break;
      case 'retained-only':
        sub.retainedOnly = true;
        break;
      case 'remove-retained':
        sub.removeRetained = true;
        break;
      case 'retain-as-published':
        sub.retainAsPublished = true;
        break;
      case 'random-filter': {
        const n = Number(value);
        if (!Number.isFinite(n) || Math.trunc(n * 10) < 1 || Math.trunc(n * 10) > 1000) {
          throw new UsageError('--random-filter chance must be between 0.1-100.0');
        }
        sub.randomFilter = Math.trunc(n * 10) / 1000;
        break;
      }
      case 'verbose':
        sub.verbose = true;
        break;
      case 'format':
        sub.format = value;
        break;
      case 'no-eol':
        sub.eol = false;
        break;
      case 'pretty':
        sub.pretty = true;
        break;
      case 'will-topic':
        willTopic = checkPubTopic(value, '--will-topic', 'will');
        break;
      case 'will-payload':
        willPayload = value;
        break;
      case 'will-qos':
        willQos = qosValue(value, (v) => `Invalid will QoS ${v}.`);
        break;
      case 'will-retain':
        willRetain = true;
        break;
      case 'cafile':
        c.tls.cafile = value;
        break;
      case 'capath':
        c.tls.capath = value;
        break;
      case 'cert':
        c.tls.cert = value;
        break;
      case 'key':
        c.tls.key = value;
        break;
      case 'ciphers':
        c.tls.ciphers = value;
        break;
      case 'tls-version':
        if (value !== 'tlsv1.3' && value !== 'tlsv1.2' && value !== 'tlsv1.1') {
          throw new UsageError(`Invalid TLS version '${value}': use tlsv1.3, tlsv1.2 or tlsv1.1.`);
        }
        c.tls.tlsVersion = value;
        break;
      case 'tls-use-os-certs':
        c.tls.useOsCerts = true;
        break;
      case 'insecure':
        c.tls.insecure = true;
        break;
      case 'publishers':
        bench.publishers = count('publisher count', value, 1);
        break;
      case 'subscribers':
        bench.subscribers = count('subscriber count', value, 0);
        break;
      case 'duration':
        bench.durationSec = positive('duration', value, 0.001);
        break;
      case 'size':
        bench.size = count('payload size', value, 16);
        if (bench.size > MAX_PAYLOAD) throw new UsageError(`Invalid payload size "${value}".`);
        break;
      case 'rate':
        bench.rate = positive('rate', value, 0.001);
        break;
      case 'inflight':
        bench.inflight = count('inflight count', value, 1);
        break;
      case 'drain':
        bench.drainSec = positive('drain time', value, 0);
        break;
      case 'json':
        bench.json = true;
        break;
      case 'no-progress':
        bench.progress = false;
        break;
      case 'debug':
        c.debug = true;
        break;
      case 'quiet':
        c.quiet = true;
        break;
      case 'help':
        help = true;
        break;
      case 'version':
        version = true;
        break;
    }
  }
  if (help) return { kind: 'help' };
  if (version) return { kind: 'version' };

  // Cross-flag rules, in mosquitto's order.
  if (willPayload !== undefined && willTopic === undefined) throw new UsageError('Will payload given, but no will topic given.');
  if (willRetain && willTopic === undefined) throw new UsageError('Will retain given, but no will topic given.');
  if ((c.tls.cert === undefined) !== (c.tls.key === undefined)) {
    throw new UsageError('Both certfile and keyfile must be provided if one of them is set.');
  }
  if (willTopic !== undefined) c.will = { topic: willTopic, payload: willPayload ?? '', qos: willQos, retain: willRetain };
  if (c.protocolVersion === 5) {
    if (!c.clean && sessionExpiry === undefined) sessionExpiry = 0xffffffff;
    if (sessionExpiry !== undefined && sessionExpiry > 0) {
      if (sessionExpiry === 0xffffffff && id === undefined) {
        throw new UsageError('You must provide a client id if you are using an infinite session expiry interval.');
      }
      c.sessionExpiry = sessionExpiry;
    }
  } else if (!c.clean && id === undefined) {
    throw new UsageError('You must provide a client id if you are using the -c option.');
  }
  if (id !== undefined) c.clientId = id;
  else if (idPrefix !== undefined) c.clientId = `${idPrefix}${ctx.pid}`;

  if (command === 'pub') {
    if (!pub.topic || pub.mode === undefined) throw new UsageError('Both topic and message must be supplied.');
  } else if (command === 'sub') {
    if (sub.topics.length === 0 && sub.unsubscribe.length === 0) {
      throw new UsageError('You must specify a topic to subscribe to (-t) or unsubscribe from (-U).');
    }
    if (sub.noRetain && sub.retainedOnly) throw new UsageError("Combining '-R' and '--retained-only' makes no sense.");
    if (sub.retainAsPublished && c.protocolVersion !== 5) throw new UsageError('--retain-as-published needs MQTT v5 (-V mqttv5).');
    // A bad format is a flag error (exit 1 before connecting), as in mosquitto.
    if (sub.format !== undefined) checkFormat(sub.format);
  } else if (bench.subscribers === 0 && bench.publishers === 0) {
    throw new UsageError('Nothing to do: --publishers and --subscribers are both 0.');
  }
  return { kind: 'run', config: c as unknown as Config };
}

function checkPubTopic(topic: string, flag: string, kind: 'publish' | 'will' = 'publish'): string {
  const problem = topicNameProblem(topic);
  if (problem === undefined) return topic;
  if (/[+#]/.test(topic)) throw new UsageError(`Invalid ${kind} topic '${topic}', does it contain '+' or '#'?`);
  throw new UsageError(`Invalid ${kind} topic '${topic}' in ${flag}: ${problem}.`);
}

function checkSubTopic(filter: string, kind: 'subscription' | 'filter' | 'unsubscribe'): string {
  const problem = topicFilterProblem(filter);
  if (problem === undefined) return filter;
  if (/[+#]/.test(filter)) throw new UsageError(`Invalid ${kind} topic '${filter}', are all '+' and '#' wildcards correct?`);
  throw new UsageError(`Invalid ${kind} topic '${filter}': ${problem}.`);
}
