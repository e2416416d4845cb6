/** Subcommands of iotwire-coap. */
export const COMMANDS = ['get', 'put', 'post', 'delete', 'observe', 'discover', 'serve'] as const;
export type Command = (typeof COMMANDS)[number];

export const USAGE = `Usage: iotwire-coap <${COMMANDS.join('|')}> [options]

Run 'iotwire-coap <command> --help' for the options of a command.`;

/** Splits argv into the subcommand and its arguments; throws a TypeError on an unknown one. */
export function splitCommand(argv: string[]): { command: Command | 'help'; rest: string[] } {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') return { command: 'help', rest };
  if (!(COMMANDS as readonly string[]).includes(first)) throw new TypeError(`unknown command: ${first}`);
  return { command: first as Command, rest };
}
