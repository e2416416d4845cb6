import { appendFileSync, writeFileSync } from 'node:fs';
import { CoapClient, CoapError, type CoapResponse, CoapServer, type CoapServerOptions } from '@iotwire/coap';
import { CoapMessageError, formatLinks, formatUri, mediaType, optionName, parseUri, toHex } from '@iotwire/coap-message';
import { CLIENT_HELP, type ClientArgs, parseClientArgs, parseServeArgs, SERVE_HELP } from './args.js';
import { type ClientCommand, splitCommand, USAGE, UsageError } from './command.js';
import { installDemoResources } from './demo-server.js';
import { installDirectory } from './directory.js';
import { clientSecurity, hasSecurity, serverSecurity } from './security.js';
import { Site } from './site.js';

/** Where the CLI reads and writes; the bin passes the process streams, tests their own. */
export interface CliIo {
  stdout: { write(chunk: string | Uint8Array): unknown };
  stderr: { write(chunk: string): unknown };
  readStdin(): Buffer;
  /** Resolves when the user asks to stop (Ctrl-C); for `serve` and `observe`. */
  interrupted: Promise<void>;
}

export const EXIT = { ok: 0, errorResponse: 1, usage: 2, network: 3 } as const;

/** Runs one command line; resolves with the exit status. */
export async function run(argv: string[], io: CliIo): Promise<number> {
  try {
    const { command, rest } = splitCommand(argv);
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
      return /DTLS handshake/.test(err.message)
        ? `${err.message} (is a coaps server running there, and are the key or certificates right?)`
        : `no response: ${err.message} (is the server running and reachable?)`;
    case 'ERR_COAP_RESET':
      return `the server refused the request: ${err.message}`;
    case 'ERR_COAP_DNS':
      return `unknown host: ${err.message}`;
    default:
      return err.message;
  }
}

const peerLabel = (p: { address: string; port: number; family: string }) =>
  p.family === 'IPv6' ? `[${p.address}]:${p.port}` : `${p.address}:${p.port}`;

function write(args: ClientArgs, io: CliIo, payload: Buffer, append: boolean): void {
  const data = args.newline ? Buffer.concat([payload, Buffer.from('\n')]) : payload;
  if (args.output === undefined) {
    if (data.length > 0) io.stdout.write(data);
  } else if (append) appendFileSync(args.output, data);
  else writeFileSync(args.output, data);
}

function printResponse(res: CoapResponse, args: ClientArgs, io: CliIo, append: boolean): number {
  if (args.verbosity >= 4) {
    io.stderr.write(`${res.code} ${res.reason} (${res.type}, MID ${res.messageId}, token ${toHex(res.token) || '-'})\n`);
    for (const o of res.options) {
      const v =
        o.number === 12
          ? `${mediaType(res.contentFormat ?? -1) ?? res.contentFormat}`
          : o.number === 4 || o.number === 1 || (o.value.length <= 4 && o.number !== 11 && o.number !== 8)
            ? `0x${toHex(o.value)}`
            : o.value.toString('utf8');
      io.stderr.write(`  ${optionName(o.number)}: ${v}\n`);
    }
  }
  write(args, io, res.payload, append);
  if (!res.ok) {
    io.stderr.write(`iotwire-coap: ${res.code} ${res.reason}\n`);
    return EXIT.errorResponse;
  }
  return EXIT.ok;
}

/** The CoAP client for `args`, with DTLS settings for coaps:// URIs from the security flags. */
function makeClient(args: ClientArgs, io: CliIo): CoapClient {
  const secure = /^coaps:/i.test(args.uri);
  const ipv6 = /^coaps?:\/\/\[/i.test(args.uri);
  const security = secure ? clientSecurity(args.security) : undefined;
  if (!secure && hasSecurity(args.security) && args.verbosity >= 4)
    io.stderr.write('iotwire-coap: DTLS options ignored for a coap:// URI (use coaps://)\n');
  if (security !== undefined && args.verbosity >= 9) security.dtls.logPackets = true;
  const c = new CoapClient({
    timeoutMs: args.timeoutMs,
    bindAddress: args.localAddress ?? (ipv6 ? '::' : undefined),
    port: args.localPort,
    dtls: security?.dtls,
  });
  if (security !== undefined) {
    c.on('sslServerAuthentication', (v) => {
      const what = v.rawPublicKey ? 'raw public key' : 'certificate';
      if (args.verbosity >= 4) io.stderr.write(`iotwire-coap: server ${what} ${v.subject}: ${v.status}\n`);
      if (!security.verifyPeer && !v.accept) {
        // libcoap's rule: without -C/-R (or with -n) the server's credentials are not checked.
        if (args.verbosity >= 4) io.stderr.write(`iotwire-coap: accepting the unverified ${what} (use -C or -R to check it)\n`);
        v.accept = true;
      }
    });
    if (args.verbosity >= 7) c.on('sslStatus', (m, peer) => io.stderr.write(`dtls ${peerLabel(peer)}: ${m}\n`));
  }
  return c;
}

async function client(command: ClientCommand, argv: string[], io: CliIo): Promise<number> {
  const args = parseClientArgs(command, argv, io.readStdin);
  if (args === 'help') {
    const name = command === 'coap-client' ? '' : ` ${command}`;
    io.stdout.write(`Usage: iotwire-coap${name} [options] URI\n\n${CLIENT_HELP}\n`);
    return EXIT.ok;
  }
  const c = makeClient(args, io);
  try {
    const common = {
      confirmable: args.confirmable,
      contentFormat: args.contentFormat,
      accept: args.accept,
      blockSize: args.blockSize,
      options: args.options,
      token: args.token,
    };
    if (command === 'discover') {
      const links = await c.discover(args.uri, common);
      for (const l of links) io.stdout.write(`${formatLinks([l])}\n`);
      return EXIT.ok;
    }
    if (command === 'ping') {
      const rtt = await c.ping(args.uri, { timeoutMs: args.timeoutMs });
      const u = parseUri(args.uri);
      io.stdout.write(`pong from ${formatUri({ ...u, path: [], query: [] })}: ${rtt} ms\n`);
      return EXIT.ok;
    }
    if (args.observe) return await observe(c, args, io, common);
    let status: number = EXIT.ok;
    for (let i = 0; i < args.count; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 1000));
      const res = await c.request({ ...common, method: args.method as 'GET', uri: args.uri, payload: args.payload });
      status = Math.max(status, printResponse(res, args, io, i > 0));
    }
    return status;
  } finally {
    await c.close();
  }
}

async function observe(c: CoapClient, args: ClientArgs, io: CliIo, common: object): Promise<number> {
  let status: number = EXIT.ok;
  let first = true;
  const obs = await c.observe(
    args.uri,
    (n) => {
      if (args.verbosity >= 4) io.stderr.write(`notification ${n.observe ?? '-'}${n.isLatest ? '' : ' (stale)'}: ${n.response.code}\n`);
      // One notification per line (a newline is added unless -w already adds one).
      write({ ...args, newline: true }, io, n.response.payload, !first);
      first = false;
      if (n.final) status = EXIT.errorResponse;
    },
    common,
  );
  if (!obs.accepted) {
    io.stderr.write('iotwire-coap: the server did not accept the observation; its response follows\n');
    return printResponse(obs.response, args, io, false);
  }
  const stop = new Promise<void>((resolve) => {
    if (args.durationMs !== undefined) setTimeout(resolve, args.durationMs).unref();
  });
  const reason = await Promise.race([obs.ended, stop.then(() => 'timer'), io.interrupted.then(() => 'interrupt')]);
  if (obs.active) await obs.cancel().catch(() => obs.stop());
  if (reason === 'error-response') return EXIT.errorResponse;
  if (reason === 'session-closed') {
    io.stderr.write('iotwire-coap: the DTLS session ended; the observation is over\n');
    return EXIT.network;
  }
  return status;
}

/** libcoap coap-server's -v scale to the server's log levels (0 none … 3 one line per request). */
function logLevelFor(verbosity: number): number {
  return verbosity >= 7 ? 3 : verbosity >= 6 ? 2 : verbosity >= 5 ? 1 : 0;
}

async function serve(argv: string[], io: CliIo): Promise<number> {
  const args = parseServeArgs(argv);
  if (args === 'help') {
    io.stdout.write(`Usage: iotwire-coap serve [options] [DIRECTORY]\n\n${SERVE_HELP}\n`);
    return EXIT.ok;
  }
  const security = hasSecurity(args.security) ? serverSecurity(args.security) : undefined;
  const coapsPort = args.port === 0 ? 0 : args.port + 1;
  if (security !== undefined && coapsPort > 65535) throw new UsageError('-p: coaps is served on PORT+1, so PORT must be below 65535');
  const site = new Site();
  const common: CoapServerOptions = {
    host: args.host,
    confirmable: args.confirmable,
    logLevel: logLevelFor(args.verbosity),
    ...(args.directory !== undefined ? { maxBodySize: args.maxSize, maxBlockBytes: Math.max(32 * 1024 * 1024, 2 * args.maxSize) } : {}),
  };
  const servers = [site.add(new CoapServer({ ...common, port: args.port }))];
  if (security !== undefined) {
    const dtls = { ...security.dtls, logPackets: args.verbosity >= 9 };
    const secure = site.add(new CoapServer({ ...common, port: coapsPort, dtls }));
    if (security.acceptAnyPeer) {
      secure.on('sslClientAuthentication', (v) => {
        v.accept = true;
      });
    }
    if (args.verbosity >= 8) secure.on('sslStatus', (m, peer) => io.stderr.write(`dtls ${peerLabel(peer)}: ${m}\n`));
    servers.push(secure);
  }
  for (const s of servers) {
    // -v: one line per request, observer changes, dropped datagrams and DTLS sessions (like coap-server -v).
    if (args.verbosity >= 5) s.on('log', (_level, message) => io.stderr.write(`${message}\n`));
    s.on('error', (err) => io.stderr.write(`iotwire-coap: ${err.message}\n`));
  }
  let stopDemo = () => {};
  const closeAll = async () => {
    stopDemo();
    for (const s of servers) await s.close();
  };
  if (args.directory !== undefined) {
    try {
      await installDirectory(site, args.directory, { writable: args.writable, maxSize: args.maxSize });
    } catch (err) {
      await closeAll();
      throw new UsageError(`cannot serve ${args.directory}: ${(err as Error).message}`);
    }
  } else stopDemo = installDemoResources(site, { dynamic: args.dynamic, echo: args.echo });
  const urls: string[] = [];
  for (const s of servers) {
    try {
      const addr = await s.listen();
      const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      urls.push(`${s === servers[0] ? 'coap' : 'coaps'}://${host}:${addr.port}/`);
    } catch (err) {
      const port = s === servers[0] ? args.port : coapsPort;
      io.stderr.write(`iotwire-coap: cannot serve on ${args.host}:${port}: ${(err as Error).message}\n`);
      await closeAll();
      return EXIT.network;
    }
  }
  const what = args.directory !== undefined ? ` ${args.directory}${args.writable ? ' (writable)' : ''}` : '';
  io.stdout.write(`iotwire-coap: serving${what} on ${urls.join(' and ')} (Ctrl-C to stop)\n`);
  await io.interrupted;
  await closeAll();
  return EXIT.ok;
}
