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
import { type ClientCommand, UsageError } from './command.js';
import type { SecurityFlags } from './security.js';

export interface ClientArgs {
  /** GET, PUT, ... (from the command or -m). */
  method: string;
  /** Register an observation (the `observe` command, or -s with GET). */
  observe: boolean;
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
  /** -w: append a newline to received data. */
  newline: boolean;
  /** -G: repeat the request this many times, a second apart. */
  count: number;
  /** -a / -p: local address and port. */
  localAddress: string | undefined;
  localPort: number | undefined;
  /** -v level (libcoap scale): 0–3 quiet, 4+ code and options on stderr, 7+ DTLS progress, 9 DTLS records. */
  verbosity: number;
  security: SecurityFlags;
}

export interface ServeArgs {
  host: string;
  port: number;
  dynamic: number;
  echo: boolean;
  confirmable: boolean;
  /** Serve this directory instead of the demo resources. */
  directory: string | undefined;
  writable: boolean;
  maxSize: number;
  verbosity: number;
  security: SecurityFlags;
}

export const CLIENT_HELP = `Options (libcoap coap-client letters):
  -m, --method METHOD       get|put|post|delete|fetch|patch|ipatch (default: the command, or get)
  -e, --payload TEXT        request payload
  -f, --file FILE           payload from FILE ('-' reads stdin)
  -t, --content-format FMT  Content-Format: a number or a media type (text/plain, application/json...)
  -A, --accept FMT          Accept option
  -N, --non                 send a NON request (default CON)
  -b, --block-size SIZE     block size 16-1024 for Block1 uploads and Block2 negotiation
  -B, --timeout SECONDS     give up after this long (default 90, like libcoap)
  -O, --option NUM,VALUE    add an option (repeatable); VALUE is text, 0x-hex, or a number for uint options
  -T, --token TOKEN         token: text bytes like libcoap, or 0x-hex
  -s, --duration SECONDS    observe for this long (GET; 'observe' without -s runs until Ctrl-C)
  -o, --output FILE         write the payload to FILE instead of stdout ('-' = stdout)
  -w, --newline             append a newline to the received data
  -G, --count N             repeat the request N times (1-255), a second apart
  -a, --local-address ADDR  local address to send from
  -p, --local-port PORT     local port to send from
  -v, --verbose [N]         verbosity (libcoap scale; -v alone = 6): >=4 code and options on stderr,
                            >=7 DTLS handshake progress, 9 every DTLS record
DTLS (coaps://):
  -k, --key KEY             pre-shared key (text)
  -u, --user IDENTITY       PSK identity
      --hint-file FILE      lines 'hint,identity,key' choosing credentials by the server's hint (libcoap -h)
  -c, --cert FILE           certificate PEM (may contain the key)
  -j, --cert-key FILE       private key PEM for -c
  -C, --cafile FILE         CA PEM: trust it and check the server's certificate
  -R, --trust FILE|DIR      trusted root CAs: check the server's certificate
  -n, --no-verify           do not check the server's certificate (the default without -C/-R)
  -M, --rpk FILE            raw public key mode (RFC 7250) with this EC private key
  -h, --help`;

export const SERVE_HELP = `Options (libcoap coap-server letters):
  -A, --address ADDRESS     local address to bind (default ::, all interfaces)
  -p, --port PORT           UDP port (default 5683); with DTLS options coaps is served on PORT+1
  -d, --dynamic MAX         allow up to MAX resources created by PUT/POST (demo resources; default 0)
  -e, --echo                answer a PUT with the data it carried
  -N, --non                 send notifications as NON (every fifth still CON)
  -v, --verbose [N]         log requests, observers, drops (and DTLS sessions) to stderr; -v alone = 7
  DIRECTORY                 serve the files of DIRECTORY instead of the demo resources
  -W, --writable            with DIRECTORY: allow PUT (create/replace files) and DELETE
      --max-size BYTES      with DIRECTORY: largest file served or stored (default 16777216)
DTLS (coaps on PORT+1):
  -k, --key KEY             pre-shared key, for any identity
      --hint HINT           PSK identity hint to send (default CoAP; '' for none) (libcoap -h)
  -i, --identity-file FILE  lines 'hint,identity,key': a different key for these identities
  -c, --cert FILE           server certificate PEM (may contain the key)
  -j, --cert-key FILE       private key PEM for -c
  -C, --cafile FILE         CA PEM: request and check client certificates
  -R, --trust FILE|DIR      trusted root CAs for client certificates
  -n, --no-verify           do not request or check client certificates
  -M, --rpk FILE            raw public key mode (RFC 7250) with this EC private key
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
      return { number, value: fromHex(value.slice(2)) };
    } catch {
      throw new UsageError(`invalid hex in -O ${arg}`);
    }
  }
  if (OPTION_DEFINITIONS.get(number)?.format === 'uint' && /^\d+$/.test(value)) return uintOption(number, Number(value));
  return stringOption(number, value);
}

/** libcoap's -T: the text's bytes (`-T cafe` is 63 61 66 65); `0x…` for hex. */
export function parseToken(arg: string): Uint8Array {
  let token: Uint8Array;
  if (arg.startsWith('0x')) {
    try {
      token = fromHex(arg.slice(2));
    } catch {
      throw new UsageError(`-T: invalid hex in ${JSON.stringify(arg)}`);
    }
  } else token = Buffer.from(arg, 'utf8');
  if (token.length > 8) throw new UsageError('-T: a token is at most 8 bytes');
  return token;
}

function fail(err: unknown): never {
  // parseArgs throws TypeErrors with codes like ERR_PARSE_ARGS_UNKNOWN_OPTION.
  throw new UsageError((err as Error).message);
}

/**
 * libcoap's `-v num` takes a number, ours also works bare: a `-v` not followed by digits is
 * turned into `--verbose=<bare>` before parsing.
 */
function normaliseVerbose(argv: string[], bare: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '-v' || a === '--verbose') {
      const next = argv[i + 1];
      if (next !== undefined && /^\d+$/.test(next)) {
        out.push(`--verbose=${next}`);
        i++;
      } else out.push(`--verbose=${bare}`);
    } else if (a === '--') {
      out.push(...argv.slice(i));
      break;
    } else out.push(a);
  }
  return out;
}

const SECURITY_OPTIONS = {
  key: { type: 'string', short: 'k' },
  cert: { type: 'string', short: 'c' },
  'cert-key': { type: 'string', short: 'j' },
  cafile: { type: 'string', short: 'C' },
  trust: { type: 'string', short: 'R' },
  'no-verify': { type: 'boolean', short: 'n' },
  rpk: { type: 'string', short: 'M' },
} as const;

type Values = Record<string, string | boolean | string[] | undefined>;

function securityFlags(v: Values): SecurityFlags {
  return {
    key: v.key as string | undefined,
    cert: v.cert as string | undefined,
    certKey: v['cert-key'] as string | undefined,
    caFile: v.cafile as string | undefined,
    trust: v.trust as string | undefined,
    noVerify: v['no-verify'] === true,
    rpk: v.rpk as string | undefined,
  };
}

const METHODS: Record<string, string> = {
  get: 'GET',
  put: 'PUT',
  post: 'POST',
  delete: 'DELETE',
  fetch: 'FETCH',
  patch: 'PATCH',
  ipatch: 'iPATCH',
};

/**
 * Parses a client command line. `command` is the subcommand, or `'coap-client'` for the
 * libcoap form (`iotwire-coap -m put -e hi coap://...`) where -m picks the method.
 */
export function parseClientArgs(command: ClientCommand, argv: string[], readStdin: () => Buffer): ClientArgs | 'help' {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: normaliseVerbose(argv, 6),
      allowPositionals: true,
      strict: true,
      options: {
        method: { type: 'string', short: 'm' },
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
        newline: { type: 'boolean', short: 'w' },
        count: { type: 'string', short: 'G' },
        'local-address': { type: 'string', short: 'a' },
        'local-port': { type: 'string', short: 'p' },
        verbose: { type: 'string' },
        user: { type: 'string', short: 'u' },
        'hint-file': { type: 'string' },
        ...SECURITY_OPTIONS,
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    fail(err);
  }
  const v = parsed.values as Values;
  if (v.help) return 'help';
  if (parsed.positionals.length !== 1)
    throw new UsageError(`${command === 'coap-client' ? 'a request' : command} takes exactly one URI, got ${parsed.positionals.length}`);
  const uri = parsed.positionals[0] as string;

  // The method: the command's, or -m (which must agree with a method command).
  let method: string;
  const m = v.method as string | undefined;
  const fromFlag = m === undefined ? undefined : METHODS[m.toLowerCase()];
  if (m !== undefined && fromFlag === undefined)
    throw new UsageError(`-m: unknown method ${JSON.stringify(m)} (get|put|post|delete|fetch|patch|ipatch)`);
  if (command === 'coap-client') method = fromFlag ?? 'GET';
  else if (command === 'observe' || command === 'discover' || command === 'ping') {
    if (fromFlag !== undefined && !(command === 'observe' && fromFlag === 'GET'))
      throw new UsageError(`-m ${m} does not apply to ${command}`);
    method = fromFlag ?? 'GET';
  } else {
    method = METHODS[command] as string;
    if (fromFlag !== undefined && fromFlag !== method) throw new UsageError(`-m ${m} conflicts with the ${command} command`);
  }

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
  const timeout = int('-B', v.timeout as string | undefined, 1, 86_400) ?? 90;
  const duration = int('-s', v.duration as string | undefined, 1, 86_400 * 365);
  if (duration !== undefined && (command === 'discover' || command === 'ping')) throw new UsageError(`-s does not apply to ${command}`);
  const observe = command === 'observe' || duration !== undefined;
  if (observe && method !== 'GET') throw new UsageError(`-s (observe) applies to GET, not ${method}`);
  const security: SecurityFlags = {
    ...securityFlags(v),
    user: v.user as string | undefined,
    matchFile: v['hint-file'] as string | undefined,
  };
  return {
    method,
    observe,
    uri,
    payload,
    contentFormat: format('-t', v['content-format'] as string | undefined),
    accept: format('-A', v.accept as string | undefined),
    confirmable: !v.non,
    blockSize,
    timeoutMs: timeout * 1000,
    options: ((v.option as string[] | undefined) ?? []).map(parseOptionArg),
    token: typeof v.token === 'string' ? parseToken(v.token) : undefined,
    durationMs: duration === undefined ? undefined : duration * 1000,
    output: v.output === '-' ? undefined : (v.output as string | undefined),
    newline: v.newline === true,
    count: int('-G', v.count as string | undefined, 1, 255) ?? 1,
    localAddress: v['local-address'] as string | undefined,
    localPort: int('-p', v['local-port'] as string | undefined, 0, 65535),
    verbosity: int('-v', v.verbose as string | undefined, 0, 9) ?? 3,
    security,
  };
}

export function parseServeArgs(argv: string[]): ServeArgs | 'help' {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: normaliseVerbose(argv, 7),
      allowPositionals: true,
      strict: true,
      options: {
        address: { type: 'string', short: 'A' },
        port: { type: 'string', short: 'p' },
        dynamic: { type: 'string', short: 'd' },
        echo: { type: 'boolean', short: 'e' },
        non: { type: 'boolean', short: 'N' },
        verbose: { type: 'string' },
        writable: { type: 'boolean', short: 'W' },
        'max-size': { type: 'string' },
        hint: { type: 'string' },
        'identity-file': { type: 'string', short: 'i' },
        ...SECURITY_OPTIONS,
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    fail(err);
  }
  const v = parsed.values as Values;
  if (v.help) return 'help';
  if (parsed.positionals.length > 1) throw new UsageError(`serve takes at most one DIRECTORY, got ${parsed.positionals.length}`);
  const directory = parsed.positionals[0];
  if (v.writable && directory === undefined) throw new UsageError('-W (writable) needs a DIRECTORY to serve');
  if (v['max-size'] !== undefined && directory === undefined) throw new UsageError('--max-size needs a DIRECTORY to serve');
  if (v.dynamic !== undefined && directory !== undefined) throw new UsageError('-d applies to the demo resources, not a DIRECTORY');
  return {
    host: (v.address as string | undefined) ?? '::',
    port: int('-p', v.port as string | undefined, 0, 65535) ?? 5683,
    dynamic: int('-d', v.dynamic as string | undefined, 0, 1_000_000) ?? 0,
    echo: v.echo === true,
    confirmable: !v.non,
    directory,
    writable: v.writable === true,
    maxSize: int('--max-size', v['max-size'] as string | undefined, 1, 1024 * 1024 * 1024) ?? 16 * 1024 * 1024,
    verbosity: int('-v', v.verbose as string | undefined, 0, 9) ?? 3,
    security: { ...securityFlags(v), hint: v.hint as string | undefined, matchFile: v['identity-file'] as string | undefined },
  };
}
