/**
 * @iotwire/mqtt-cli: `iotwire-mqtt pub|sub|bench` (also `iotwire-pub`, `iotwire-sub`), the
 * mosquitto_pub / mosquitto_sub command-line clients on @iotwire/mqtt-client. The modules are
 * exported for embedding and testing: the flag parser, the `-F` formatter and `main`.
 */
export {
  type BenchConfig,
  type Config,
  type ConnectionConfig,
  type ParseResult,
  type PubConfig,
  parseCommandArgs,
  type SubConfig,
} from './args.js';
export { LatencyHistogram } from './bench/histogram.js';
export { type BenchResult, summaryTable } from './bench/run.js';
export { COMMANDS, type CommandName, splitCommand } from './command.js';
export { CliError, CliErrorCode, type CliErrorCodeValue, EXIT_TIMED_OUT, UsageError } from './errors.js';
export { checkFormat, type FormatMessage, OutputFormatter, type OutputOptions, type Timestamp } from './format.js';
export { commandHelp, USAGE } from './help.js';
export type { Io, Output } from './io.js';
export { type MainOptions, main } from './main.js';
export { type Command, NOT_OFFERED, OPTIONS, type OptionSpec } from './options.js';
export { type PropertySet, parsePropertyArg } from './properties.js';
