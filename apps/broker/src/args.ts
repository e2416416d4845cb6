import { parseArgs } from 'node:util';

export interface BrokerArgs {
  port?: number;
  config?: string;
  verbose: boolean;
  help: boolean;
  version: boolean;
  /** Validate the configuration and exit. */
  testConfig: boolean;
}

/** Exit codes of `iotwire-broker`. */
export const EXIT = Object.freeze({
  ok: 0,
  /** Could not start or failed while running (port in use, storage, …). */
  failure: 1,
  /** Bad command line. */
  usage: 2,
  /** Invalid configuration file (or password / ACL file). */
  config: 3,
});

export const BROKER_USAGE = `Usage: iotwire-broker [-c CONFIG] [-p PORT] [-v]

An MQTT 3.1/3.1.1/5.0 broker. Without options it runs on embedded defaults: MQTT on port
1883 and MQTT over WebSocket on 8080 at /mqtt (all interfaces), sessions and retained
messages in ./iotwire-data, $SYS topics every 10 s, the dashboard and /metrics on
http://127.0.0.1:18083.

Options:
  -c, --config FILE    configuration file (YAML or JSON): listeners, TLS, auth, ACL,
                       storage, cluster, limits, logging, $SYS, metrics, dashboard
  -p, --port PORT      MQTT port: replaces the port of the first TCP listener
  -v, --verbose        debug logging (overrides logging.level)
      --test-config    check the configuration file and exit
      --version        print the version and exit
  -h, --help           show this help

Signals: SIGHUP reloads the configuration file (limits, idle timeout, log level,
password and ACL files, anonymous access, $SYS interval, dashboard, metrics) without
dropping clients; SIGINT/SIGTERM shut down gracefully (sessions saved).

Exit status: 0 ok, 1 failed to start or run (e.g. port in use), 2 bad command line,
3 invalid configuration (or password / ACL file).

Documentation: apps/broker/README.md and docs/operators.md.`;

/** Parses iotwire-broker's command line; throws a TypeError with a clear message on bad flags. */
export function parseBrokerArgs(argv: string[]): BrokerArgs {
  let values: ReturnType<typeof parse>['values'];
  try {
    ({ values } = parse(argv));
  } catch (err) {
    // node:util's messages name the flag ("Unknown option '--nope'").
    throw new TypeError((err as Error).message);
  }
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!/^\d+$/.test(values.port) || port > 65535) throw new TypeError(`invalid port ${JSON.stringify(values.port)}: expected 0..65535`);
  }
  if (values['test-config'] && !values.config) throw new TypeError('--test-config needs -c CONFIG');
  return {
    ...(port !== undefined ? { port } : {}),
    ...(values.config ? { config: values.config } : {}),
    verbose: values.verbose,
    help: values.help,
    version: values.version,
    testConfig: values['test-config'],
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      port: { type: 'string', short: 'p' },
      config: { type: 'string', short: 'c' },
      verbose: { type: 'boolean', short: 'v', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      version: { type: 'boolean', default: false },
      'test-config': { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
}
