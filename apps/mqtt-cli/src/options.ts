/**
 * The flag table of `iotwire-mqtt pub|sub|bench`: one row per flag, used by the parser, by
 * `--help` and (through the README) by people coming from mosquitto_pub/mosquitto_sub.
 */

export type Command = 'pub' | 'sub' | 'bench';

export type Section = 'connection' | 'message' | 'subscription' | 'output' | 'mqtt5' | 'will' | 'tls' | 'bench' | 'misc';

export interface OptionSpec {
  /** Long name (without `--`); the parser's key. */
  long: string;
  /** One-letter alias (without `-`). */
  short?: string;
  /** Value placeholder for a flag that takes a value (`host`, `file`); absent for a switch. */
  value?: string;
  /** What the "argument given but no … specified" message calls the missing value. */
  noun?: string;
  /** Subcommands that accept the flag. */
  commands: readonly Command[];
  section: Section;
  help: string;
  /** The mosquitto_pub/mosquitto_sub equivalent, or `—` for iotwire additions. */
  mosquitto: string;
}

const PS: readonly Command[] = ['pub', 'sub'];
const ALL: readonly Command[] = ['pub', 'sub', 'bench'];

export const OPTIONS: readonly OptionSpec[] = [
  // connection
  {
    long: 'host',
    short: 'h',
    value: 'host',
    commands: ALL,
    section: 'connection',
    help: 'Broker host. Default localhost.',
    mosquitto: '-h, --host',
  },
  {
    long: 'port',
    short: 'p',
    value: 'port',
    commands: ALL,
    section: 'connection',
    help: 'Broker port. Default 1883, 8883 with TLS (--cafile/--capath/--tls-use-os-certs), 80/443 over WebSocket.',
    mosquitto: '-p, --port',
  },
  {
    long: 'url',
    short: 'L',
    value: 'URL',
    commands: PS,
    section: 'connection',
    help: 'mqtt(s)://[user[:password]@]host[:port]/topic or ws(s)://…: sets host, port, credentials, transport and topic at once.',
    mosquitto: '-L, --url (ws/wss: mosquitto 2.1)',
  },
  {
    long: 'ws',
    commands: ALL,
    section: 'connection',
    help: 'Connect over WebSocket (with TLS: secure WebSocket).',
    mosquitto: '--ws (mosquitto 2.1)',
  },
  { long: 'ws-path', value: 'path', commands: ALL, section: 'connection', help: 'WebSocket path. Default /mqtt.', mosquitto: '—' },
  {
    long: 'bind-address',
    short: 'A',
    value: 'address',
    noun: 'address',
    commands: ALL,
    section: 'connection',
    help: 'Bind the outgoing socket to this local address.',
    mosquitto: '-A',
  },
  { long: 'username', short: 'u', value: 'username', commands: ALL, section: 'connection', help: 'Username.', mosquitto: '-u, --username' },
  { long: 'pw', short: 'P', value: 'password', commands: ALL, section: 'connection', help: 'Password.', mosquitto: '-P, --pw' },
  {
    long: 'id',
    short: 'i',
    value: 'id',
    commands: ALL,
    section: 'connection',
    help: 'Client id. Default: a generated iotwire-… id.',
    mosquitto: '-i, --id',
  },
  {
    long: 'id-prefix',
    short: 'I',
    value: 'prefix',
    noun: 'id prefix',
    commands: ALL,
    section: 'connection',
    help: 'Client id = prefix + process id (for brokers using clientid_prefixes).',
    mosquitto: '-I, --id-prefix',
  },
  {
    long: 'keepalive',
    short: 'k',
    value: 'seconds',
    noun: 'keepalive',
    commands: ALL,
    section: 'connection',
    help: 'Keep-alive interval, 5..65535 s. Default 60.',
    mosquitto: '-k, --keepalive',
  },
  {
    long: 'disable-clean-session',
    short: 'c',
    commands: ALL,
    section: 'connection',
    help: 'Persistent session (clean session / clean start off); needs -i. MQTT 5: session never expires unless -x.',
    mosquitto: '-c, --disable-clean-session',
  },
  {
    long: 'session-expiry',
    short: 'x',
    value: 'seconds',
    noun: 'session expiry interval',
    commands: ALL,
    section: 'connection',
    help: 'MQTT 5 Session Expiry Interval: 0..4294967294, or -1 / 4294967295 / ∞ for never. Default -1 with -c, else 0.',
    mosquitto: '-x',
  },
  {
    long: 'protocol-version',
    short: 'V',
    value: 'version',
    commands: ALL,
    section: 'connection',
    help: 'mqttv5 (5) or mqttv311 (311). Default mqttv311. mqttv31 is refused (not supported by the client).',
    mosquitto: '-V, --protocol-version',
  },
  {
    long: 'max-inflight',
    short: 'M',
    value: 'count',
    noun: 'max_inflight',
    commands: PS,
    section: 'connection',
    help: 'Most QoS 1/2 messages in flight at once. Default 20.',
    mosquitto: '-M',
  },
  {
    long: 'nodelay',
    commands: ALL,
    section: 'connection',
    help: "Disable Nagle's algorithm (iotwire always does; accepted for compatibility).",
    mosquitto: '--nodelay',
  },
  // message (pub)
  {
    long: 'topic',
    short: 't',
    value: 'topic',
    commands: ['pub'],
    section: 'message',
    help: 'Topic to publish to.',
    mosquitto: '-t, --topic',
  },
  {
    long: 'message',
    short: 'm',
    value: 'message',
    commands: ['pub'],
    section: 'message',
    help: 'Message payload.',
    mosquitto: '-m, --message',
  },
  {
    long: 'file',
    short: 'f',
    value: 'file',
    commands: ['pub'],
    section: 'message',
    help: 'Send the contents of a file as the message.',
    mosquitto: '-f, --file',
  },
  {
    long: 'null-message',
    short: 'n',
    commands: ['pub'],
    section: 'message',
    help: 'Send a zero-length message.',
    mosquitto: '-n, --null-message',
  },
  {
    long: 'stdin-file',
    short: 's',
    commands: ['pub'],
    section: 'message',
    help: 'Read stdin to its end and send it as one message.',
    mosquitto: '-s, --stdin-file',
  },
  {
    long: 'stdin-line',
    short: 'l',
    commands: ['pub'],
    section: 'message',
    help: 'Send each line of stdin as a message (without its \\n; empty lines are empty messages).',
    mosquitto: '-l, --stdin-line',
  },
  {
    long: 'qos',
    short: 'q',
    value: 'qos',
    noun: 'QoS',
    commands: ['pub', 'bench'],
    section: 'message',
    help: 'QoS of the messages: 0, 1 or 2. Default 0.',
    mosquitto: '-q, --qos',
  },
  {
    long: 'qos',
    short: 'q',
    value: 'qos',
    noun: 'QoS',
    commands: ['sub'],
    section: 'subscription',
    help: 'QoS of the subscriptions: 0, 1 or 2. Default 0.',
    mosquitto: '-q, --qos',
  },
  { long: 'retain', short: 'r', commands: ['pub', 'bench'], section: 'message', help: 'Retain the message.', mosquitto: '-r, --retain' },
  {
    long: 'repeat',
    value: 'count',
    commands: ['pub'],
    section: 'message',
    help: 'With -m, -f, -n or -s: publish the message this many times.',
    mosquitto: '--repeat',
  },
  {
    long: 'repeat-delay',
    value: 'seconds',
    noun: 'time',
    commands: ['pub'],
    section: 'message',
    help: 'With --repeat: seconds (fractions allowed) between publishes. Default 0.',
    mosquitto: '--repeat-delay',
  },
  // subscription (sub)
  {
    long: 'topic',
    short: 't',
    value: 'topic',
    commands: ['sub'],
    section: 'subscription',
    help: 'Topic filter to subscribe to; repeatable.',
    mosquitto: '-t, --topic',
  },
  {
    long: 'filter-out',
    short: 'T',
    value: 'filter',
    noun: 'topic filter',
    commands: ['sub'],
    section: 'subscription',
    help: 'Do not print messages whose topic matches this filter; repeatable.',
    mosquitto: '-T, --filter-out',
  },
  {
    long: 'unsubscribe',
    short: 'U',
    value: 'topic',
    noun: 'unsubscribe topic',
    commands: ['sub'],
    section: 'subscription',
    help: 'Unsubscribe from this filter (after subscribing); repeatable. Useful with -c.',
    mosquitto: '-U, --unsubscribe',
  },
  {
    long: 'count',
    short: 'C',
    value: 'count',
    commands: ['sub'],
    section: 'subscription',
    help: 'Exit after printing this many messages.',
    mosquitto: '-C',
  },
  {
    long: 'count',
    short: 'C',
    value: 'count',
    commands: ['bench'],
    section: 'bench',
    help: 'Messages per publisher. Default 10000.',
    mosquitto: '—',
  },
  {
    long: 'exit-after-sub',
    short: 'E',
    commands: ['sub'],
    section: 'subscription',
    help: 'Exit once the broker acknowledged the subscriptions (with -c: create a durable session).',
    mosquitto: '-E',
  },
  {
    long: 'timeout',
    short: 'W',
    value: 'seconds',
    commands: ['sub'],
    section: 'subscription',
    help: 'Stop after this many seconds from connecting; exits with 27 ("Timed out") unless -C was satisfied first.',
    mosquitto: '-W',
  },
  {
    long: 'no-retain',
    short: 'R',
    commands: ['sub'],
    section: 'subscription',
    help: 'Do not print stale (retained) messages; MQTT 5 asks the broker not to send them.',
    mosquitto: '-R',
  },
  {
    long: 'retained-only',
    commands: ['sub'],
    section: 'subscription',
    help: 'Print only retained messages; exit at the first non-retained one.',
    mosquitto: '--retained-only',
  },
  {
    long: 'remove-retained',
    commands: ['sub'],
    section: 'subscription',
    help: 'Clear every retained message received (except those filtered out by -T).',
    mosquitto: '--remove-retained',
  },
  {
    long: 'retain-as-published',
    commands: ['sub'],
    section: 'subscription',
    help: 'MQTT 5 subscription option: keep the publisher’s retain flag on forwarded messages.',
    mosquitto: '--retain-as-published',
  },
  {
    long: 'random-filter',
    value: 'percent',
    noun: 'chance',
    commands: ['sub'],
    section: 'output',
    help: 'Print only this percentage (0.1..100) of the messages, at random.',
    mosquitto: '--random-filter',
  },
  // output (sub)
  {
    long: 'verbose',
    short: 'v',
    commands: ['sub'],
    section: 'output',
    help: 'Print "topic payload" instead of the payload.',
    mosquitto: '-v, --verbose',
  },
  {
    long: 'format',
    short: 'F',
    value: 'format',
    commands: ['sub'],
    section: 'output',
    help: 'Output format (overrides -v); see FORMAT below.',
    mosquitto: '-F',
  },
  { long: 'no-eol', short: 'N', commands: ['sub'], section: 'output', help: 'Do not append a newline to each message.', mosquitto: '-N' },
  { long: 'pretty', commands: ['sub'], section: 'output', help: 'Indent the JSON of %j and %J.', mosquitto: '--pretty' },
  // MQTT 5 properties
  {
    long: 'property',
    short: 'D',
    value: 'command property value',
    commands: ALL,
    section: 'mqtt5',
    help: 'MQTT 5 property: -D command name value, or -D command user-property key value. Implies -V mqttv5.',
    mosquitto: '-D, --property',
  },
  // will
  {
    long: 'will-topic',
    value: 'topic',
    noun: 'will topic',
    commands: ALL,
    section: 'will',
    help: 'Topic of the Will.',
    mosquitto: '--will-topic',
  },
  {
    long: 'will-payload',
    value: 'payload',
    noun: 'will payload',
    commands: ALL,
    section: 'will',
    help: 'Payload of the Will (default empty).',
    mosquitto: '--will-payload',
  },
  {
    long: 'will-qos',
    value: 'qos',
    noun: 'will QoS',
    commands: ALL,
    section: 'will',
    help: 'QoS of the Will. Default 0.',
    mosquitto: '--will-qos',
  },
  { long: 'will-retain', commands: ALL, section: 'will', help: 'Retain the Will.', mosquitto: '--will-retain' },
  // TLS
  {
    long: 'cafile',
    value: 'file',
    commands: ALL,
    section: 'tls',
    help: 'PEM file of trusted CA certificates; enables TLS.',
    mosquitto: '--cafile',
  },
  {
    long: 'capath',
    value: 'dir',
    noun: 'directory',
    commands: ALL,
    section: 'tls',
    help: 'Directory of trusted CA certificates (*.pem, *.crt, hashed *.0); enables TLS.',
    mosquitto: '--capath',
  },
  { long: 'cert', value: 'file', commands: ALL, section: 'tls', help: 'Client certificate (PEM); needs --key.', mosquitto: '--cert' },
  { long: 'key', value: 'file', commands: ALL, section: 'tls', help: 'Client private key (PEM); needs --cert.', mosquitto: '--key' },
  {
    long: 'ciphers',
    value: 'ciphers',
    commands: ALL,
    section: 'tls',
    help: 'OpenSSL cipher list (TLS 1.2 and below).',
    mosquitto: '--ciphers',
  },
  {
    long: 'tls-version',
    value: 'version',
    commands: ALL,
    section: 'tls',
    help: 'Lowest TLS version: tlsv1.3, tlsv1.2 (default) or tlsv1.1.',
    mosquitto: '--tls-version',
  },
  {
    long: 'tls-use-os-certs',
    commands: ALL,
    section: 'tls',
    help: 'Trust the system CA certificates too; enables TLS.',
    mosquitto: '--tls-use-os-certs',
  },
  {
    long: 'insecure',
    commands: ALL,
    section: 'tls',
    help: 'Do not check that the certificate matches the host name (the chain is still verified).',
    mosquitto: '--insecure',
  },
  // bench
  {
    long: 'topic',
    short: 't',
    value: 'prefix',
    noun: 'topic',
    commands: ['bench'],
    section: 'bench',
    help: 'Topic prefix; publisher n publishes to <prefix>/n. Default iotwire-bench/<random>.',
    mosquitto: '—',
  },
  { long: 'publishers', value: 'count', commands: ['bench'], section: 'bench', help: 'Publishing clients. Default 1.', mosquitto: '—' },
  {
    long: 'subscribers',
    value: 'count',
    commands: ['bench'],
    section: 'bench',
    help: 'Subscribing clients (each gets every message). Default 1.',
    mosquitto: '—',
  },
  {
    long: 'duration',
    value: 'seconds',
    commands: ['bench'],
    section: 'bench',
    help: 'Publish for this long instead of a message count.',
    mosquitto: '—',
  },
  {
    long: 'size',
    value: 'bytes',
    commands: ['bench'],
    section: 'bench',
    help: 'Payload size, >= 16 (a timestamp is embedded). Default 64.',
    mosquitto: '—',
  },
  {
    long: 'rate',
    value: 'msgs/s',
    noun: 'rate',
    commands: ['bench'],
    section: 'bench',
    help: 'Messages per second per publisher. Default: as fast as possible.',
    mosquitto: '—',
  },
  {
    long: 'inflight',
    value: 'count',
    commands: ['bench'],
    section: 'bench',
    help: 'QoS 1/2 messages in flight per publisher. Default 64.',
    mosquitto: '—',
  },
  {
    long: 'drain',
    value: 'seconds',
    noun: 'drain time',
    commands: ['bench'],
    section: 'bench',
    help: 'How long to wait for the last messages after publishing ends. Default 5.',
    mosquitto: '—',
  },
  { long: 'json', commands: ['bench'], section: 'bench', help: 'Print the summary as JSON.', mosquitto: '—' },
  { long: 'no-progress', commands: ['bench'], section: 'bench', help: 'No progress output.', mosquitto: '—' },
  // misc
  { long: 'debug', short: 'd', commands: ALL, section: 'misc', help: 'Print the packets sent and received.', mosquitto: '-d, --debug' },
  {
    long: 'quiet',
    commands: ALL,
    section: 'misc',
    help: 'Do not print runtime errors (flag errors are still printed).',
    mosquitto: '--quiet',
  },
  { long: 'help', commands: ALL, section: 'misc', help: 'Print this help.', mosquitto: '--help' },
  { long: 'version', commands: ALL, section: 'misc', help: 'Print the version.', mosquitto: '--version' },
];

/**
 * mosquitto flags iotwire-mqtt does not offer, with the reason; they fail with that reason
 * instead of "Unknown option".
 */
export const NOT_OFFERED: Readonly<Record<string, string>> = {
  '--unix': 'Unix domain sockets are not supported by @iotwire/mqtt-client',
  '-S': 'DNS SRV lookups are not supported',
  '--psk': 'TLS-PSK is not supported by @iotwire/mqtt-client',
  '--psk-identity': 'TLS-PSK is not supported by @iotwire/mqtt-client',
  '--proxy': 'SOCKS proxies are not supported by @iotwire/mqtt-client',
  '--tls-alpn': 'ALPN is not configurable in @iotwire/mqtt-client',
  '--tls-engine': 'OpenSSL engines are not reachable from Node.js',
  '--keyform': 'OpenSSL engines are not reachable from Node.js (keys are PEM files)',
  '--tls-engine-kpass-sha1': 'OpenSSL engines are not reachable from Node.js',
};

/** The flags of one subcommand. */
export function optionsFor(command: Command): OptionSpec[] {
  return OPTIONS.filter((o) => o.commands.includes(command));
}

/** How messages name a flag: its short form when it has one. */
export function flagName(o: OptionSpec): string {
  return o.short ? `-${o.short}` : `--${o.long}`;
}
