import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type CoapOption,
  contentFormatOf,
  fromHex,
  OPTION_DEFINITIONS,
  optionNumberByName,
  stringOption,
  uintOption,
} from '@iotwire/coap-message';
import { type Command, UsageError } from './command.js';

export interface ClientArgs {
  uri: string;
  payload: Buffer | undefined;
  contentFormat: number | undefined;
  accept: number | undefined;
  confirmable: boolean;
  blockSize: number | undefined;
  timeoutMs: number;
  options: CoapOption[];
  token: Uint8Array | undefined;
  durationMs: number | undefined;
  output: string | undefined;
  verbose: boolean;
}

export interface ServeArgs {
  host: string;
  port: number;
  dynamic: number;
  verbose: boolean;
}

export const CLIENT_HELP = `Options:
  -e, --payload TEXT        request payload
  -f, --file FILE           payload from FILE ('-' reads stdin)
  -t, --content-format FMT  Content-Format: a number or a media type (text/plain, application/json...)
  -A, --accept FMT          Accept option
  -N, --non                 send a NON request (default CON)
  -b, --block-size SIZE     block size 16-1024 for Block1 uploads and Block2 negotiation
  -B, --timeout SECONDS     give up after this long (default 30)
  -O, --option NUM,VALUE    add an option (repeatable); VALUE is text, 0x-hex, or a number for uint options
  -T, --token HEX           token to use
  -s, --duration SECONDS    observe: stop after this long (default: until Ctrl-C)
  -o, --output FILE         write the payload to FILE instead of stdout
  -v, --verbose             print the response code and options to stderr
  -h, --help`;

export const SERVE_HELP = `Options:
  -A, --address ADDRESS     local address to bind (default ::, all interfaces)
  -p, --port PORT           UDP port (default 5683)
  -d, --dynamic MAX         allow up to MAX resources created by PUT/POST (default 0, like libcoap)
  -v, --verbose             log each request, observer change and dropped datagram to stderr
  -h, --help`;

function int(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new UsageError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return Number(v);
}

function format(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d+$/.test(v)) return int(name, v, 0, 65535);
  const f = contentFormatOf(v);
  if (f === undefined) throw new UsageError(`unknown media type for ${name}: ${v}`);
  return f;
}

/** Parses `NUM,VALUE` (or `NAME,VALUE`) into an option, like libcoap's -O. */
export function parseOptionArg(arg: string): CoapOption {
  const comma = arg.indexOf(',');
  const key = comma < 0 ? arg : arg.slice(0, comma);
  const value = comma < 0 ? '' : arg.slice(comma + 1);
  const number = /^\d+$/.test(key) ? Number(key) : optionNumberByName(key);
  if (number === undefined || number < 1 || number > 65535) throw new UsageError(`invalid option number in -O ${arg}`);
  if (value.startsWith('0x')) {
    try {
      return { number, value: fromHex(value) };
    } catch {
      throw new UsageError(`invalid hex in -O ${arg}`);
    }
  }
  if (OPTION_DEFINITIONS.get(number)?.format === 'uint' && /^\d+$/.test(value)) return uintOption(number, Number(value));
  return stringOption(number, value);
}

function fail(err: unknown): never {
  // parseArgs throws TypeErrors with codes like ERR_PARSE_ARGS_UNKNOWN_OPTION.
  throw new UsageError((err as Error).message);
}

export function parseClientArgs(command: Command, argv: string[], readStdin: () => Buffer): ClientArgs | 'help' {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        payload: { type: 'string', short: 'e' },
        file: { type: 'string', short: 'f' },
        'content-format': { type: 'string', short: 't' },
        accept: { type: 'string', short: 'A' },
        non: { type: 'boolean', short: 'N' },
        'block-size': { type: 'string', short: 'b' },
        timeout: { type: 'string', short: 'B' },
        option: { type: 'string', short: 'O', multiple: true },
        token: { type: 'string', short: 'T' },
        duration: { type: 'string', short: 's' },
        output: { type: 'string', short: 'o' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    fail(err);
  }
  const v = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (v.help) return 'help';
  if (parsed.positionals.length !== 1) throw new UsageError(`${command} takes exactly one URI, got ${parsed.positionals.length}`);
  const uri = parsed.positionals[0] as string;
  if (v.payload !== undefined && v.file !== undefined) throw new UsageError('use -e or -f, not both');
  let payload: Buffer | undefined;
  if (typeof v.payload === 'string') payload = Buffer.from(v.payload, 'utf8');
  else if (typeof v.file === 'string') {
    try {
      payload = v.file === '-' ? readStdin() : readFileSync(v.file);
    } catch (err) {
      throw new UsageError(`cannot read ${v.file}: ${(err as Error).message}`);
    }
  }
  const blockSize = int('-b', v['block-size'] as string | undefined, 16, 1024);
  if (blockSize !== undefined && (blockSize & (blockSize - 1)) !== 0) throw new UsageError('-b must be a power of two from 16 to 1024');
  const timeout = int('-B', v.timeout as string | undefined, 1, 86_400) ?? 30;
  const duration = int('-s', v.duration as string | undefined, 1, 86_400 * 365);
  let token: Uint8Array | undefined;
  if (typeof v.token === 'string') {
    try {
      token = fromHex(v.token);
    } catch {
      throw new UsageError(`-T needs hex, got ${JSON.stringify(v.token)}`);
    }
    if (token.length > 8) throw new UsageError('-T: a token is at most 8 bytes');
  }
  return {
    uri,
    payload,
    contentFormat: format('-t', v['content-format'] as string | undefined),
    accept: format('-A', v.accept as string | undefined),
    confirmable: !v.non,
    blockSize,
    timeoutMs: timeout * 1000,
    options: ((v.option as string[] | undefined) ?? []).map(parseOptionArg),
    token,
    durationMs: duration === undefined ? undefined : duration * 1000,
    output: v.output as string | undefined,
    verbose: v.verbose === true,
  };
}

export function parseServeArgs(argv: string[]): ServeArgs | 'help' {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: false,
      strict: true,
      options: {
        address: { type: 'string', short: 'A' },
        port: { type: 'string', short: 'p' },
        dynamic: { type: 'string', short: 'd' },
        verbose: { type: 'boolean', short: 'v' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    fail(err);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  if (v.help) return 'help';
  return {
    host: (v.address as string | undefined) ?? '::',
    port: int('-p', v.port as string | undefined, 0, 65535) ?? 5683,
    dynamic: int('-d', v.dynamic as string | undefined, 0, 1_000_000) ?? 0,
    verbose: v.verbose === true,
  };
}
