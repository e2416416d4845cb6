/** `--help` texts, generated from the flag table so they list every flag. */
import { type Command, NOT_OFFERED, type OptionSpec, optionsFor, type Section } from './options.js';

const SECTIONS: readonly [Section, string][] = [
  ['connection', 'Connection'],
  ['message', 'Message'],
  ['subscription', 'Subscription'],
  ['output', 'Output'],
  ['bench', 'Benchmark'],
  ['mqtt5', 'MQTT 5'],
  ['will', 'Will'],
  ['tls', 'TLS'],
  ['misc', 'Other'],
];

const SYNOPSIS: Readonly<Record<Command, string>> = {
  pub: `Usage: iotwire-mqtt pub {[-h host] [-p port] [-u username] [-P password] -t topic | -L URL}
                        {-f file | -l | -n | -s | -m message} [options]

Publishes a message (or each line of stdin) and exits. The flags are mosquitto_pub's.`,
  sub: `Usage: iotwire-mqtt sub {[-h host] [-p port] [-u username] [-P password] -t topic ... | -L URL [-t topic ...]}
                        [-C count] [-W seconds] [-v | -F format] [options]

Subscribes and prints the messages it receives. The flags are mosquitto_sub's.`,
  bench: `Usage: iotwire-mqtt bench [-h host] [-p port] [--publishers n] [--subscribers n]
                          [-C count | --duration seconds] [-q qos] [--size bytes] [--rate msgs/s] [options]

Publishes from --publishers clients to topics every --subscribers client subscribes to, and
prints throughput and end-to-end latency (p50/p95/p99; each payload carries its send time).
Progress goes to stderr (a bar on a terminal, a line per second otherwise), the summary to stdout.`,
};

const MQTT5 = `  -D command name value | -D command user-property key value
     commands and properties (mosquitto's names):
       connect      authentication-data, authentication-method, maximum-packet-size, receive-maximum,
                    request-problem-information, request-response-information,
                    session-expiry-interval, topic-alias-maximum, user-property
       publish      content-type, correlation-data, message-expiry-interval, payload-format-indicator,
                    response-topic, topic-alias, user-property
       subscribe    subscription-identifier, user-property
       unsubscribe  user-property
       disconnect   reason-string, session-expiry-interval, user-property
       will         content-type, correlation-data, message-expiry-interval, payload-format-indicator,
                    response-topic, user-property, will-delay-interval
     e.g. -D publish user-property source sensor-7   -D connect session-expiry-interval 3600`;

const FORMAT = `Format (-F): text with these sequences; a newline follows unless -N.
  %%  a literal %            %t  topic                  %p  payload
  %l  payload length         %q  QoS                    %r  retain flag (0/1)
  %m  message id             %x  payload in hex         %X  payload in upper-case hex
  %I  ISO-8601 time          %U  Unix time with ns      %j  JSON, payload as a string
  %J  JSON, payload as JSON  %A  topic alias (v5)       %C  content type (v5)
  %D  correlation data (v5)  %E  message expiry (v5)    %F  payload format indicator (v5)
  %P  user properties k:v    %R  response topic (v5)    %S  subscription identifier (v5)
  Flags, width and precision as printf: %-10t, %08l, %10.10t (width: A C E F I l m p R S t x X;
  precision: C I R t; '0' pads A E F l m p S x X).
  @X  strftime %X (e.g. @Y-@m-@d @H:@M:@S), @N nanoseconds, @@ a literal @
  \\\\ \\0 \\a \\e \\n \\r \\t \\v  escapes`;

const EXIT: Readonly<Record<Command, string>> = {
  pub: `Exit status: 0 on success; 1 for bad flags, an unreachable broker or a refused publish; the
CONNACK code when the broker refuses the connection (e.g. 5 not authorised, 135 in MQTT 5).`,
  sub: `Exit status: 0 on success (-C reached, -E, --retained-only, SIGINT/SIGTERM); 27 when -W ran
out; 1 for bad flags or an unreachable broker; the CONNACK code when the broker refuses the
connection (e.g. 5 not authorised, 135 in MQTT 5).`,
  bench: `Exit status: 0 when the run completed (lost messages are reported, not failed); 1 for bad
flags or an unreachable broker; the CONNACK code when the broker refuses a connection.`,
};

const EXAMPLES: Readonly<Record<Command, string>> = {
  pub: `Examples:
  iotwire-mqtt pub -h broker -t sensors/1/temp -m 21.5 -q 1
  iotwire-mqtt pub -L mqtts://user:secret@broker:8883/status -m online -r --cafile ca.pem
  tail -f app.log | iotwire-mqtt pub -t logs/app -l
  iotwire-mqtt pub -t a/b -m hi -V 5 -D publish user-property source cli -D publish content-type text/plain`,
  sub: `Examples:
  iotwire-mqtt sub -h broker -t 'sensors/#' -v
  iotwire-mqtt sub -L ws://broker:8080/alerts/+ -C 1 -W 10
  iotwire-mqtt sub -t 'sensors/#' -F '@H:@M:@S %t %p' -V 5`,
  bench: `Examples:
  iotwire-mqtt bench -h broker --publishers 4 --subscribers 2 -C 10000 -q 1
  iotwire-mqtt bench --duration 30 --rate 1000 --size 256 --json`,
};

function optionLine(o: OptionSpec): string {
  const names = o.short ? `-${o.short}, --${o.long}` : `    --${o.long}`;
  const left = `  ${names}${o.value !== undefined && o.long !== 'property' ? ` <${o.value}>` : ''}`;
  return left.length >= 34 ? `${left}\n${' '.repeat(34)}${o.help}` : `${left.padEnd(34)}${o.help}`;
}

/** The complete help of one subcommand. */
export function commandHelp(command: Command): string {
  const specs = optionsFor(command);
  const parts: string[] = [SYNOPSIS[command], ''];
  for (const [section, title] of SECTIONS) {
    const rows = specs.filter((o) => o.section === section);
    if (!rows.length) continue;
    parts.push(`${title}:`);
    if (section === 'mqtt5') parts.push(MQTT5);
    else parts.push(...rows.map(optionLine));
    parts.push('');
  }
  if (command === 'sub') parts.push(FORMAT, '');
  parts.push(`Not offered (mosquitto flags): ${Object.keys(NOT_OFFERED).join(' ')}`, '');
  parts.push(EXIT[command], '', EXAMPLES[command]);
  return parts.join('\n');
}

/** `iotwire-mqtt --help`. */
export const USAGE = `Usage: iotwire-mqtt <command> [options]

Commands:
  pub     publish a message (mosquitto_pub's flags); also installed as iotwire-pub
  sub     subscribe and print messages (mosquitto_sub's flags); also installed as iotwire-sub
  bench   measure throughput and latency against a broker

Run 'iotwire-mqtt <command> --help' for the options of a command.`;
