import { parseArgs } from 'node:util';

export interface BrokerArgs {
  port?: number;
  config?: string;
  verbose: boolean;
  help: boolean;
}

export const BROKER_USAGE = `Usage: iotwire-broker [-p PORT] [-c CONFIG] [-v]

  -p, --port PORT      MQTT port (default 1883)
  -c, --config FILE    configuration file
  -v, --verbose        verbose logging
  -h, --help           show this help`;

/** Parses iotwire-broker's command line; throws a TypeError with a clear message on bad flags. */
export function parseBrokerArgs(argv: string[]): BrokerArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string', short: 'p' },
      config: { type: 'string', short: 'c' },
      verbose: { type: 'boolean', short: 'v', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`invalid port: ${values.port}`);
  }
  return {
    ...(port !== undefined ? { port } : {}),
    ...(values.config ? { config: values.config } : {}),
    verbose: values.verbose,
    help: values.help,
  };
}
