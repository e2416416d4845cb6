// fast-check generators of valid packets, per protocol level, in the canonical shape the
// decoder produces (so `decode(encode(p))` must deep-equal `p`).
import fc from 'fast-check';
import {
  type Packet,
  type Properties,
  type PropertyContext,
  type ProtocolVersion,
  type QoS,
  reasonCodesFor,
  type Subscription,
  VARINT_MAX,
} from '../src/index.js';

const noNul = (s: string) => !s.includes('\0');

/** Any UTF-8 string without U+0000 (ASCII-heavy, with some full-range code points). */
export const str = (maxLength = 12): fc.Arbitrary<string> =>
  fc
    .oneof({ weight: 3, arbitrary: fc.string({ maxLength }) }, { weight: 1, arbitrary: fc.string({ maxLength, unit: 'binary' }) })
    .filter(noNul);

const levelChar = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_$ '.split('')) },
  { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }) },
);
/** One topic level: no `/`, `+`, `#` or U+0000 (may be empty). */
export const level = fc.string({ maxLength: 6, unit: levelChar }).filter((s) => !/[/+#\0]/.test(s));

/** A valid Topic Name (non-empty, no wildcards). */
export const topicName: fc.Arbitrary<string> = fc
  .array(level, { minLength: 1, maxLength: 5 })
  .map((ls) => ls.join('/'))
  .filter((t) => t.length > 0);

/** A valid Topic Filter (optionally shared when `shared`). */
export const topicFilter = (shared: boolean): fc.Arbitrary<string> => {
  const plain = fc
    .tuple(fc.array(fc.oneof(level, fc.constant('+')), { minLength: 1, maxLength: 5 }), fc.boolean())
    .map(([ls, hash]) => (hash ? [...ls, '#'] : ls).join('/'))
    .filter((f) => f.length > 0);
  const onlyHash = fc.constant('#');
  if (!shared) return fc.oneof(plain, onlyHash);
  const shareName = fc.string({ minLength: 1, maxLength: 5, unit: levelChar }).filter((s) => !/[/+#\0]/.test(s));
  return fc.oneof(
    { weight: 4, arbitrary: fc.oneof(plain, onlyHash) },
    { weight: 1, arbitrary: fc.tuple(shareName, fc.oneof(plain, onlyHash)).map(([g, f]) => `$share/${g}/${f}`) },
  );
};

export const bytes = (maxLength = 24): fc.Arbitrary<Buffer> => fc.uint8Array({ maxLength }).map((a) => Buffer.from(a));
const u16 = fc.integer({ min: 0, max: 0xffff });
const u16nz = fc.integer({ min: 1, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const userProperties = fc.array(fc.tuple(str(6), str(6)), { minLength: 1, maxLength: 3 });
export const packetId = u16nz;
export const qos = fc.constantFrom<QoS>(0, 1, 2);

/** Drops undefined keys; an empty record becomes undefined (a zero Property Length decodes to none). */
function compact<T extends object>(o: T): T | undefined {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return Object.keys(out).length > 0 ? (out as T) : undefined;
}

function opt<T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(a, { nil: undefined, freq: 3 });
}

/** Valid MQTT 5 properties for `context`. */
export function properties(context: PropertyContext): fc.Arbitrary<Properties | undefined> {
  const auth = fc.option(fc.tuple(str(8), opt(bytes(8))), { nil: undefined });
  const base = {
    userProperties: opt(userProperties),
    reasonString: opt(str(10)),
  };
  let rec: fc.Arbitrary<Properties>;
  switch (context) {
    case 'connect':
      rec = fc
        .record({
          sessionExpiryInterval: opt(u32),
          receiveMaximum: opt(u16nz),
          maximumPacketSize: opt(fc.integer({ min: 1, max: 0xffffffff })),
          topicAliasMaximum: opt(u16),
          requestResponseInformation: opt(fc.boolean()),
          requestProblemInformation: opt(fc.boolean()),
          userProperties: base.userProperties,
          auth,
        })
        .map(({ auth: a, ...r }) => ({ ...r, authenticationMethod: a?.[0], authenticationData: a?.[1] }));
      break;
    case 'connack':
      rec = fc
        .record({
          sessionExpiryInterval: opt(u32),
          receiveMaximum: opt(u16nz),
          maximumQoS: opt(fc.constantFrom<0 | 1>(0, 1)),
          retainAvailable: opt(fc.boolean()),
          maximumPacketSize: opt(fc.integer({ min: 1, max: 0xffffffff })),
          assignedClientIdentifier: opt(str(10)),
          topicAliasMaximum: opt(u16),
          reasonString: base.reasonString,
          userProperties: base.userProperties,
          wildcardSubscriptionAvailable: opt(fc.boolean()),
          subscriptionIdentifiersAvailable: opt(fc.boolean()),
          sharedSubscriptionAvailable: opt(fc.boolean()),
          serverKeepAlive: opt(u16),
          responseInformation: opt(str(10)),
          serverReference: opt(str(10)),
          auth,
        })
        .map(({ auth: a, ...r }) => ({ ...r, authenticationMethod: a?.[0], authenticationData: a?.[1] }));
      break;
    case 'publish':
    case 'will': {
      const common = {
        payloadFormatIndicator: opt(fc.constantFrom<0 | 1>(0, 1)),
        messageExpiryInterval: opt(u32),
        contentType: opt(str(10)),
        responseTopic: opt(topicName),
        correlationData: opt(bytes(8)),
        userProperties: base.userProperties,
      };
      rec =
        context === 'will'
          ? fc.record({ ...common, willDelayInterval: opt(u32) })
          : fc.record({
              ...common,
              topicAlias: opt(u16nz),
              subscriptionIdentifiers: opt(fc.array(fc.integer({ min: 1, max: VARINT_MAX }), { minLength: 1, maxLength: 3 })),
            });
      break;
    }
    case 'subscribe':
      rec = fc.record({ subscriptionIdentifier: opt(fc.integer({ min: 1, max: VARINT_MAX })), userProperties: base.userProperties });
      break;
    case 'unsubscribe':
      rec = fc.record({ userProperties: base.userProperties });
      break;
    case 'disconnect':
      rec = fc.record({ sessionExpiryInterval: opt(u32), serverReference: opt(str(10)), ...base });
      break;
    case 'auth':
      rec = fc
        .record({ ...base, method: str(8), data: opt(bytes(8)), withAuth: fc.boolean() })
        .map(({ method, data, withAuth, ...r }) => (withAuth ? { ...r, authenticationMethod: method, authenticationData: data } : r));
      break;
    default:
      rec = fc.record(base);
  }
  return rec.map((r) => compact(r));
}

function withProps<T extends object>(version: ProtocolVersion, context: PropertyContext, a: fc.Arbitrary<T>): fc.Arbitrary<T> {
  if (version !== 5) return a;
  return fc.tuple(a, properties(context)).map(([p, props]) => (props === undefined ? p : { ...p, properties: props }));
}

const codes = (type: Parameters<typeof reasonCodesFor>[0], version: ProtocolVersion) => fc.constantFrom(...reasonCodesFor(type, version));

export function connect(version: ProtocolVersion): fc.Arbitrary<Packet> {
  return fc
    .record({
      clean: fc.boolean(),
      keepAlive: u16,
      clientId: str(23),
      will: opt(
        fc.record({
          topic: topicName,
          payload: bytes(16),
          qos,
          retain: fc.boolean(),
          properties: version === 5 ? properties('will') : fc.constant(undefined),
        }),
      ),
      username: opt(str(10)),
      password: opt(bytes(10)),
      properties: version === 5 ? properties('connect') : fc.constant(undefined),
      bridge: fc.option(fc.constant(true), { nil: undefined, freq: 5 }),
    })
    .map((c) => {
      let clientId = c.clientId;
      if (clientId === '' && (version === 3 || (version === 4 && !c.clean))) clientId = 'c';
      const password = version !== 5 && c.username === undefined ? undefined : c.password;
      const will = c.will === undefined ? undefined : compact(c.will);
      return compact({ type: 'connect' as const, protocolVersion: version, ...c, clientId, password, will }) as Packet;
    });
}

export function connack(version: ProtocolVersion): fc.Arbitrary<Packet> {
  return withProps(
    version,
    'connack',
    fc.record({ sessionPresent: fc.boolean(), reasonCode: codes('connack', version) }).map((c) => ({
      type: 'connack' as const,
      sessionPresent: c.sessionPresent && c.reasonCode === 0 && version !== 3,
      reasonCode: c.reasonCode,
    })),
  );
}

export function publish(version: ProtocolVersion): fc.Arbitrary<Packet> {
  return fc
    .record({
      topic: topicName,
      payload: bytes(64),
      qos,
      retain: fc.boolean(),
      dup: fc.boolean(),
      packetId,
      properties: version === 5 ? properties('publish') : fc.constant(undefined),
      emptyTopic: fc.boolean(),
    })
    .map(({ emptyTopic, ...p }) => {
      const topic = version === 5 && emptyTopic && p.properties?.topicAlias !== undefined ? '' : p.topic;
      return compact({
        type: 'publish' as const,
        ...p,
        topic,
        dup: p.qos > 0 && p.dup,
        packetId: p.qos > 0 ? p.packetId : undefined,
      }) as Packet;
    });
}

export function ack(version: ProtocolVersion, type: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp'): fc.Arbitrary<Packet> {
  if (version !== 5) return packetId.map((id) => ({ type, packetId: id }));
  return withProps(
    version,
    type,
    fc.record({ packetId, reasonCode: codes(type, 5) }).map((a) => ({ type, ...a })),
  );
}

export function subscribe(version: ProtocolVersion): fc.Arbitrary<Packet> {
  const sub: fc.Arbitrary<Subscription> = fc
    .record({
      topicFilter: topicFilter(version === 5),
      qos,
      noLocal: fc.boolean(),
      retainAsPublished: fc.boolean(),
      retainHandling: fc.constantFrom<0 | 1 | 2>(0, 1, 2),
    })
    .map((s) =>
      version === 5
        ? { ...s, noLocal: s.noLocal && !s.topicFilter.startsWith('$share/') }
        : { ...s, noLocal: false, retainAsPublished: false, retainHandling: 0 as const },
    );
  return withProps(
    version,
    'subscribe',
    fc
      .record({ packetId, subscriptions: fc.array(sub, { minLength: 1, maxLength: 4 }) })
      .map((s) => ({ type: 'subscribe' as const, ...s })),
  );
}

export function suback(version: ProtocolVersion): fc.Arbitrary<Packet> {
  return withProps(
    version,
    'suback',
    fc
      .record({ packetId, reasonCodes: fc.array(codes('suback', version), { minLength: 1, maxLength: 4 }) })
      .map((s) => ({ type: 'suback' as const, ...s })),
  );
}

export function unsubscribe(version: ProtocolVersion): fc.Arbitrary<Packet> {
  return withProps(
    version,
    'unsubscribe',
    fc
      .record({ packetId, topicFilters: fc.array(topicFilter(version === 5), { minLength: 1, maxLength: 4 }) })
      .map((s) => ({ type: 'unsubscribe' as const, ...s })),
  );
}

export function unsuback(version: ProtocolVersion): fc.Arbitrary<Packet> {
  if (version !== 5) return packetId.map((id) => ({ type: 'unsuback' as const, packetId: id, reasonCodes: [] }));
  return withProps(
    5,
    'unsuback',
    fc
      .record({ packetId, reasonCodes: fc.array(codes('unsuback', 5), { minLength: 1, maxLength: 4 }) })
      .map((s) => ({ type: 'unsuback' as const, ...s })),
  );
}

export function disconnect(version: ProtocolVersion): fc.Arbitrary<Packet> {
  if (version !== 5) return fc.constant({ type: 'disconnect' as const });
  return withProps(
    5,
    'disconnect',
    codes('disconnect', 5).map((reasonCode) => ({ type: 'disconnect' as const, reasonCode })),
  );
}

export function auth(): fc.Arbitrary<Packet> {
  return withProps(
    5,
    'auth',
    codes('auth', 5).map((reasonCode) => ({ type: 'auth' as const, reasonCode })),
  );
}

/** Any valid packet of `version`. */
export function packet(version: ProtocolVersion): fc.Arbitrary<Packet> {
  const all: fc.Arbitrary<Packet>[] = [
    connect(version),
    connack(version),
    publish(version),
    ack(version, 'puback'),
    ack(version, 'pubrec'),
    ack(version, 'pubrel'),
    ack(version, 'pubcomp'),
    subscribe(version),
    suback(version),
    unsubscribe(version),
    unsuback(version),
    fc.constant({ type: 'pingreq' as const }),
    fc.constant({ type: 'pingresp' as const }),
    disconnect(version),
  ];
  if (version === 5) all.push(auth());
  return fc.oneof(...all);
}
