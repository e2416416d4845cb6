/**
 * `-D command property value` (and `-D command user-property key value`): MQTT 5 properties
 * by mosquitto's names, checked as mosquitto_pub/mosquitto_sub check them.
 */
import { isPropertyAllowed, type Properties, type PropertyContext } from '@iotwire/mqtt-packet';
import { UsageError } from './errors.js';
import type { Command } from './options.js';

/** Where a `-D` property goes. */
export type PropertyCommand = 'connect' | 'publish' | 'subscribe' | 'unsubscribe' | 'disconnect' | 'will';

export type PropertySet = Partial<Record<PropertyCommand, Properties>>;

type ValueType = 'byte' | 'int16' | 'int32' | 'varint' | 'string' | 'binary' | 'pair';

/** mosquitto's property names (mosquitto_string_to_property_info), with our key and type. */
const NAMES: Readonly<Record<string, { key: keyof Properties; type: ValueType; repeatable?: boolean }>> = {
  'payload-format-indicator': { key: 'payloadFormatIndicator', type: 'byte' },
  'message-expiry-interval': { key: 'messageExpiryInterval', type: 'int32' },
  'content-type': { key: 'contentType', type: 'string' },
  'response-topic': { key: 'responseTopic', type: 'string' },
  'correlation-data': { key: 'correlationData', type: 'binary' },
  'subscription-identifier': { key: 'subscriptionIdentifier', type: 'varint' },
  'session-expiry-interval': { key: 'sessionExpiryInterval', type: 'int32' },
  'assigned-client-identifier': { key: 'assignedClientIdentifier', type: 'string' },
  'server-keep-alive': { key: 'serverKeepAlive', type: 'int16' },
  'authentication-method': { key: 'authenticationMethod', type: 'string' },
  'authentication-data': { key: 'authenticationData', type: 'binary' },
  'request-problem-information': { key: 'requestProblemInformation', type: 'byte' },
  'will-delay-interval': { key: 'willDelayInterval', type: 'int32' },
  'request-response-information': { key: 'requestResponseInformation', type: 'byte' },
  'response-information': { key: 'responseInformation', type: 'string' },
  'server-reference': { key: 'serverReference', type: 'string' },
  'reason-string': { key: 'reasonString', type: 'string' },
  'receive-maximum': { key: 'receiveMaximum', type: 'int16' },
  'topic-alias-maximum': { key: 'topicAliasMaximum', type: 'int16' },
  'topic-alias': { key: 'topicAlias', type: 'int16' },
  'maximum-qos': { key: 'maximumQoS', type: 'byte' },
  'retain-available': { key: 'retainAvailable', type: 'byte' },
  'user-property': { key: 'userProperties', type: 'pair', repeatable: true },
  'maximum-packet-size': { key: 'maximumPacketSize', type: 'int32' },
  'wildcard-subscription-available': { key: 'wildcardSubscriptionAvailable', type: 'byte' },
  'subscription-identifier-available': { key: 'subscriptionIdentifiersAvailable', type: 'byte' },
  'shared-subscription-available': { key: 'sharedSubscriptionAvailable', type: 'byte' },
};

/** mosquitto's command names (mosquitto_string_to_command). */
const COMMANDS = new Set([
  'auth',
  'connack',
  'connect',
  'disconnect',
  'pingreq',
  'pingresp',
  'puback',
  'pubcomp',
  'publish',
  'pubrec',
  'pubrel',
  'suback',
  'subscribe',
  'unsuback',
  'unsubscribe',
  'will',
]);

const USABLE: ReadonlySet<string> = new Set<PropertyCommand>(['connect', 'publish', 'subscribe', 'unsubscribe', 'disconnect', 'will']);

/** Which property commands each subcommand uses (mosquitto accepts the others silently; we say so). */
const USED_BY: Readonly<Record<Command, ReadonlySet<PropertyCommand>>> = {
  pub: new Set(['connect', 'publish', 'disconnect', 'will']),
  sub: new Set(['connect', 'subscribe', 'unsubscribe', 'disconnect', 'will']),
  bench: new Set(['connect', 'publish', 'subscribe', 'disconnect', 'will']),
};

/** The property names mosquitto knows, for help texts. */
export const PROPERTY_NAMES: readonly string[] = Object.keys(NAMES);

/**
 * A C `strtoll(s, &end, 0)` that must consume the whole string: decimal, `0x` hex, `0` octal,
 * optional sign and leading white space. `undefined` when it is not such a number.
 */
export function parseCInteger(s: string): number | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))$/.exec(s);
  if (!m) return undefined;
  const n = m[2] !== undefined ? Number.parseInt(m[2], 16) : m[3] !== undefined ? Number.parseInt(m[3], 8) : Number(m[4]);
  return m[1] === '-' ? -n : n;
}

function ranged(value: string, name: string, max: number): number {
  const n = parseCInteger(value);
  if (n === undefined) throw new UsageError(`Property value '${value}' not a number.`);
  if (n < 0 || n > max) throw new UsageError(`Property value (${n}) out of range for property ${name}.`);
  return n;
}

/** One `-D` occurrence: `args` starts at the command name. Returns how many arguments it used. */
export function parsePropertyArg(args: readonly string[], into: PropertySet, subcommand: Command): number {
  if (args.length < 3) throw new UsageError('--property argument given but not enough arguments specified.');
  const cmdName = args[0]!;
  const propName = args[1]!;
  const command = cmdName.toLowerCase();
  if (!COMMANDS.has(command)) throw new UsageError(`Invalid command ${cmdName} given in --property argument.`);
  const info = NAMES[propName.toLowerCase()];
  if (!info) throw new UsageError(`Invalid property name ${propName} given in --property argument.`);
  const context = command as PropertyContext;
  const allowed =
    command !== 'pingreq' &&
    command !== 'pingresp' &&
    (info.key === 'subscriptionIdentifier' && command === 'publish' ? true : isPropertyAllowed(context, info.key));
  if (!allowed) throw new UsageError(`${propName} property not allowed for ${cmdName} in --property argument.`);
  let used = 3;
  let key: string | undefined;
  let value = args[2]!;
  if (info.type === 'pair') {
    if (args.length < 4) throw new UsageError('--property argument given but not enough arguments specified.');
    key = args[2]!;
    value = args[3]!;
    used = 4;
  }
  if (!USABLE.has(command) || (command === 'publish' && info.key === 'subscriptionIdentifier')) {
    throw new UsageError(`${propName} property not supported for ${cmdName} in --property argument.`);
  }
  const target = command as PropertyCommand;
  if (!USED_BY[subcommand].has(target)) throw new UsageError(`${cmdName} properties are not used by iotwire-mqtt ${subcommand}.`);
  const props = (into[target] ??= {}) as Record<string, unknown>;
  const name = propName.toLowerCase();
  if (!info.repeatable && props[info.key] !== undefined) {
    throw new UsageError(`Error in ${target.toUpperCase()} properties: Duplicate property ${name} in property list.`);
  }
  switch (info.type) {
    case 'pair': {
      const list = (props.userProperties ??= []) as [string, string][];
      list.push([key!, value]);
      break;
    }
    case 'string':
      props[info.key] = value;
      break;
    case 'binary':
      if (Buffer.byteLength(value) > 65_535) throw new UsageError(`Property value too long for property ${name}.`);
      props[info.key] = Buffer.from(value, 'utf8');
      break;
    case 'byte': {
      const n = ranged(value, name, 255);
      // These bytes are flags on the wire; anything but 0/1 is a protocol error (5.0 §2.2.2.2).
      if (n > 1) throw new UsageError(`Error in ${target.toUpperCase()} properties: ${name} must be 0 or 1.`);
      props[info.key] = info.key === 'payloadFormatIndicator' ? n : n === 1;
      break;
    }
    case 'int16': {
      const n = ranged(value, name, 0xffff);
      if (n === 0 && (info.key === 'receiveMaximum' || info.key === 'topicAlias')) {
        throw new UsageError(`Error in ${target.toUpperCase()} properties: ${name} must not be 0.`);
      }
      props[info.key] = n;
      break;
    }
    case 'int32': {
      const n = ranged(value, name, 0xffffffff);
      if (n === 0 && info.key === 'maximumPacketSize')
        throw new UsageError(`Error in ${target.toUpperCase()} properties: ${name} must not be 0.`);
      props[info.key] = n;
      break;
    }
    case 'varint': {
      const n = ranged(value, name, 0xffffffff);
      if (n < 1 || n > 268_435_455) throw new UsageError(`Error in ${target.toUpperCase()} properties: ${name} must be 1..268435455.`);
      props[info.key] = n;
      break;
    }
  }
  return used;
}
