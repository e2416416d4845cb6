import { UsageError } from './errors.js';

/** Subcommands of iotwire-mqtt. */
export const COMMANDS = ['pub', 'sub', 'bench'] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Splits argv into the subcommand and its arguments; throws a UsageError on an unknown one. */
export function splitCommand(argv: readonly string[]): { command: CommandName | 'help' | 'version'; rest: string[] } {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === 'help') return { command: 'help', rest };
  if (first === '--version') return { command: 'version', rest };
  if (!(COMMANDS as readonly string[]).includes(first)) throw new UsageError(`Unknown command '${first}' (use pub, sub or bench).`);
  return { command: first as CommandName, rest };
}
