/** Subcommands of iotwire-coap. */
export const COMMANDS = ['get', 'put', 'post', 'delete', 'fetch', 'patch', 'ipatch', 'observe', 'discover', 'ping', 'serve'] as const;
export type Command = (typeof COMMANDS)[number];
/** A client command, or `'coap-client'`: libcoap's form without a command (`-m` picks the method). */
export type ClientCommand = Exclude<Command, 'serve'> | 'coap-client';

export const USAGE = `Usage: iotwire-coap <command> [options] URI
       iotwire-coap [-m METHOD] [options] URI      (libcoap coap-client form)

Client commands (URI: coap://host[:port]/path?query or coaps://, default ports 5683 and 5684):
  get URI                 GET; prints the payload (-s SECONDS observes)
  put|post URI            PUT/POST with -e TEXT or -f FILE
  delete URI              DELETE
  fetch|patch|ipatch URI  RFC 8132 methods, payload as for post
  observe URI             register (RFC 7641) and print notifications (-s SECONDS, else until Ctrl-C)
  discover URI            GET /.well-known/core and list the links
  ping URI                CoAP ping (empty CON, RST expected)
  coaps:// with -k KEY -u IDENTITY (PSK), -c/-j/-C/-R (certificates) or -M FILE (raw public key)

Server:
  serve [DIRECTORY]       libcoap's demo resources, or the files of DIRECTORY (-W: writable);
                          with -k, -c/-j or -M also coaps on port+1

Run 'iotwire-coap <command> --help' for the options of a command.
Exit status: 0 success, 1 error response (4.xx/5.xx), 2 usage error, 3 network or DTLS failure.`;

/**
 * Splits argv into the subcommand and its arguments. Without a command, an option or a URI
 * first means libcoap's coap-client form. Throws a UsageError on an unknown command.
 */
export function splitCommand(argv: string[]): { command: Command | 'coap-client' | 'help'; rest: string[] } {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') return { command: 'help', rest };
  if ((COMMANDS as readonly string[]).includes(first)) return { command: first as Command, rest };
  if (first.startsWith('-') || /^coaps?:\/\//i.test(first)) return { command: 'coap-client', rest: argv };
  throw new UsageError(`unknown command: ${first}`);
}

/** A command-line mistake: printed with the usage, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'ERR_USAGE';
}
