/** Subcommands of iotwire-mqtt. */
export const COMMANDS = ['pub', 'sub', 'bench'] as const;
export type Command = (typeof COMMANDS)[number];

export const USAGE = `Usage: iotwire-mqtt <${COMMANDS.join('|')}> [options]

Run 'iotwire-mqtt <command> --help' for the options of a command.`;

/** Splits argv into the subcommand and its arguments; throws a TypeError on an unknown one. */
export function splitCommand(argv: string[]): { command: Command | 'help'; rest: string[] } {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') return { command: 'help', rest };
  if (!(COMMANDS as readonly string[]).includes(first)) throw new TypeError(`unknown command: ${first}`);
  return { command: first as Command, rest };
}
