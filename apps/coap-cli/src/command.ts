/** Subcommands of iotwire-coap. */
export const COMMANDS = ['get', 'put', 'post', 'delete', 'fetch', 'patch', 'ipatch', 'observe', 'discover', 'ping', 'serve'] as const;
export type Command = (typeof COMMANDS)[number];

export const USAGE = `Usage: iotwire-coap <command> [options]

Client commands:
  get URI                 GET; prints the payload
  put|post URI            PUT/POST with -e TEXT or -f FILE
  delete URI              DELETE
  fetch|patch|ipatch URI  RFC 8132 methods, payload as for post
  observe URI             register (RFC 7641) and print notifications (-s SECONDS)
  discover URI            GET /.well-known/core and list the links
  ping URI                CoAP ping (empty CON, RST expected)

Server:
  serve                   the demo resources of libcoap's coap-server (-A ADDRESS -p PORT -d MAX)

Run 'iotwire-coap <command> --help' for the options of a command.
Exit status: 0 success, 1 error response (4.xx/5.xx), 2 usage error, 3 network failure.`;

/** Splits argv into the subcommand and its arguments; throws a UsageError on an unknown one. */
export function splitCommand(argv: string[]): { command: Command | 'help'; rest: string[] } {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') return { command: 'help', rest };
  if (!(COMMANDS as readonly string[]).includes(first)) throw new UsageError(`unknown command: ${first}`);
  return { command: first as Command, rest };
}

/** A command-line mistake: printed with the usage, exit status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'ERR_USAGE';
}
