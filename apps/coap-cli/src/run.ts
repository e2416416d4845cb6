import { writeFileSync } from 'node:fs';
import { CoapClient, CoapError, type CoapResponse } from '@iotwire/coap';
import { CoapMessageError, formatLinks, formatUri, mediaType, optionName, parseUri, toHex } from '@iotwire/coap-message';
import { CLIENT_HELP, type ClientArgs, parseClientArgs, parseServeArgs, SERVE_HELP } from './args.js';
import { type Command, splitCommand, USAGE, UsageError } from './command.js';
import { createDemoServer } from './demo-server.js';

/** Where the CLI reads and writes; the bin passes the process streams, tests their own. */
export interface CliIo {
  stdout: { write(chunk: string | Uint8Array): unknown };
  stderr: { write(chunk: string): unknown };
  readStdin(): Buffer;
  /** Resolves when the user asks to stop (Ctrl-C); for `serve` and `observe`. */
  interrupted: Promise<void>;
}

export const EXIT = { ok: 0, errorResponse: 1, usage: 2, network: 3 } as const;

const METHODS: Record<string, string> = {
  get: 'GET',
  put: 'PUT',
  post: 'POST',
  delete: 'DELETE',
  fetch: 'FETCH',
  patch: 'PATCH',
  ipatch: 'iPATCH',
};

/** Runs one command line; resolves with the exit status. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  let command: Command | 'help';
  let rest: string[];
  try {
    ({ command, rest } = splitCommand(argv));
    if (command === 'help') {
      io.stdout.write(`${USAGE}\n`);
      return EXIT.ok;
    }
    if (command === 'serve') return await serve(rest, io);
    return await client(command, rest, io);
  } catch (err) {
    return report(err, io);
  }
}

function report(err: unknown, io: CliIo): number {
  if (err instanceof UsageError) {
    io.stderr.write(`iotwire-coap: ${err.message}\n\n${USAGE}\n`);
    return EXIT.usage;
  }
  if (err instanceof CoapError && err.code === 'ERR_COAP_URI') {
    io.stderr.write(`iotwire-coap: invalid URI: ${err.message}\n`);
    return EXIT.usage;
  }
  if (err instanceof CoapError || err instanceof CoapMessageError) {
    io.stderr.write(`iotwire-coap: ${describe(err)}\n`);
    return EXIT.network;
  }
  io.stderr.write(`iotwire-coap: ${(err as Error).message}\n`);
  return EXIT.network;
}

function describe(err: CoapError | CoapMessageError): string {
  switch (err.code) {
    case 'ERR_COAP_TIMEOUT':
      return `no response: ${err.message} (is the server running and reachable?)`;
    case 'ERR_COAP_RESET':
      return `the server refused the request: ${err.message}`;
    case 'ERR_COAP_DNS':
      return `unknown host: ${err.message}`;
    default:
      return err.message;
  }
}

function printResponse(res: CoapResponse, args: ClientArgs, io: CliIo): number {
  if (args.verbose) {
    io.stderr.write(`${res.code} ${res.reason} (${res.type}, MID ${res.messageId}, token ${toHex(res.token) || '-'})\n`);
    for (const o of res.options) {
      const v =
        o.number === 12
          ? `${mediaType(res.contentFormat ?? -1) ?? res.contentFormat}`
          : o.value.length <= 4 && o.number !== 11 && o.number !== 8
            ? `0x${toHex(o.value)}`
            : o.value.toString('utf8');
      io.stderr.write(`  ${optionName(o.number)}: ${v}\n`);
    }
  }
  if (args.output !== undefined) writeFileSync(args.output, res.payload);
  else if (res.payload.length > 0) io.stdout.write(res.payload);
  if (!res.ok) {
    io.stderr.write(`iotwire-coap: ${res.code} ${res.reason}\n`);
    return EXIT.errorResponse;
  }
  return EXIT.ok;
}

async function client(command: Exclude<Command, 'serve'>, argv: string[], io: CliIo): Promise<number> {
  const args = parseClientArgs(command, argv, io.readStdin);
  if (args === 'help') {
    io.stdout.write(`Usage: iotwire-coap ${command} [options] URI\n\n${CLIENT_HELP}\n`);
    return EXIT.ok;
  }
  const ipv6 = /^coaps?:\/\/\[/.test(args.uri);
  const c = new CoapClient({ timeoutMs: args.timeoutMs, bindAddress: ipv6 ? '::' : undefined });
  try {
    const common = {
      confirmable: args.confirmable,
      contentFormat: args.contentFormat,
      accept: args.accept,
      blockSize: args.blockSize,
      options: args.options,
      token: args.token,
    };
    switch (command) {
      case 'discover': {
        const links = await c.discover(args.uri, common);
        for (const l of links) io.stdout.write(`${formatLinks([l])}\n`);
        return EXIT.ok;
      }
      case 'ping': {
        const rtt = await c.ping(args.uri, { timeoutMs: args.timeoutMs });
        const u = parseUri(args.uri);
        io.stdout.write(`pong from ${formatUri({ ...u, path: [], query: [] })}: ${rtt} ms\n`);
        return EXIT.ok;
      }
      case 'observe':
        return await observe(c, args, io, common);
      default: {
        const res = await c.request({ ...common, method: METHODS[command] as 'GET', uri: args.uri, payload: args.payload });
        return printResponse(res, args, io);
      }
    }
  } finally {
    await c.close();
  }
}

async function observe(c: CoapClient, args: ClientArgs, io: CliIo, common: object): Promise<number> {
  let status: number = EXIT.ok;
  const obs = await c.observe(
    args.uri,
    (n) => {
      if (args.verbose) io.stderr.write(`notification ${n.observe ?? '-'}${n.isLatest ? '' : ' (stale)'}: ${n.response.code}\n`);
      io.stdout.write(n.response.payload);
      io.stdout.write('\n');
      if (n.final) status = EXIT.errorResponse;
    },
    common,
  );
  if (!obs.accepted) {
    io.stderr.write('iotwire-coap: the server did not accept the observation; its response follows\n');
    return printResponse(obs.response, args, io);
  }
  const stop = new Promise<void>((resolve) => {
    if (args.durationMs !== undefined) setTimeout(resolve, args.durationMs).unref();
  });
  const reason = await Promise.race([obs.ended, stop.then(() => 'timer'), io.interrupted.then(() => 'interrupt')]);
  if (obs.active) await obs.cancel().catch(() => obs.stop());
  if (reason === 'error-response') return EXIT.errorResponse;
  return status;
}

async function serve(argv: string[], io: CliIo): Promise<number> {
  const args = parseServeArgs(argv);
  if (args === 'help') {
    io.stdout.write(`Usage: iotwire-coap serve [options]\n\n${SERVE_HELP}\n`);
    return EXIT.ok;
  }
  const demo = createDemoServer({ host: args.host, port: args.port, dynamic: args.dynamic, logLevel: args.verbose ? 3 : 0 });
  // -v: one line per request, observer changes and dropped datagrams (like coap-server -v).
  if (args.verbose) demo.server.on('log', (_level, message) => io.stderr.write(`${message}\n`));
  demo.server.on('error', (err) => io.stderr.write(`iotwire-coap: ${err.message}\n`));
  let addr: Awaited<ReturnType<typeof demo.server.listen>>;
  try {
    addr = await demo.server.listen();
  } catch (err) {
    io.stderr.write(`iotwire-coap: cannot serve on ${args.host}:${args.port}: ${(err as Error).message}\n`);
    await demo.close();
    return EXIT.network;
  }
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  io.stdout.write(`iotwire-coap: serving coap://${host}:${addr.port}/ (Ctrl-C to stop)\n`);
  await io.interrupted;
  await demo.close();
  return EXIT.ok;
}
