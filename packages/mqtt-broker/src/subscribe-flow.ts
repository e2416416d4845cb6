/**
 * SUBSCRIBE and UNSUBSCRIBE: per-filter validation, the `subscribe` event and
 * `authorizeSubscribe` hooks (grant, downgrade, refuse), the session's subscriptions and the
 * index, SUBACK/UNSUBACK, and retained messages for new subscriptions.
 */
import { type QoS, type SubscribePacket, topicFilterProblem, type UnsubscribePacket } from '@iotwire/mqtt-packet';
import { ConnState, type MqttConnection } from './connection.js';
import type { BrokerCore } from './core.js';
import { deliver } from './delivery.js';
import type { SubscribeEvent } from './events.js';
import { after, runChain } from './hooks.js';
import { storedSubscription } from './persistence.js';
import type { Session, Subscription } from './session.js';

interface Pending {
  args: SubscribeEvent;
  /** Preset failure (invalid filter, unsupported feature): no event, no hooks. */
  failed: boolean;
  shareName: string | undefined;
  inner: string;
}

function parseFilter(core: BrokerCore, conn: MqttConnection, filter: string): { code: number; shareName?: string; inner: string } {
  const limits = { maxLength: core.limits.maxTopicLength, maxLevels: core.limits.maxTopicLevels, shared: true };
  if (topicFilterProblem(filter, limits) !== undefined) return { code: 0x8f, inner: filter };
  let shareName: string | undefined;
  let inner = filter;
  if (filter.startsWith('$share/')) {
    const slash = filter.indexOf('/', 7);
    shareName = filter.slice(7, slash);
    inner = filter.slice(slash + 1);
    if (!core.options.sharedSubscriptionAvailable) return { code: 0x9e, inner };
  }
  if (!core.options.wildcardSubscriptionAvailable && (inner.includes('+') || inner.includes('#'))) return { code: 0xa2, inner };
  void conn;
  return shareName === undefined ? { code: 0, inner } : { code: 0, shareName, inner };
}

export function handleSubscribe(core: BrokerCore, conn: MqttConnection, p: SubscribePacket): void {
  const session = conn.session;
  if (session === null) return;
  const subId = p.properties?.subscriptionIdentifier;
  if (subId !== undefined && !core.options.subscriptionIdentifiersAvailable) {
    core.protocolViolation(conn, 'Subscription Identifiers are not supported', 0xa1); // 5.0 §3.8.2.1.2
    return;
  }
  const listeners = core.emitter.rawListeners('subscribe') as ((a: SubscribeEvent) => unknown)[];
  const steps = [...listeners, ...(core.subscribeSteps as ((a: SubscribeEvent) => unknown)[])];
  const items: Pending[] = [];
  let chain: Promise<void> | undefined;
  for (const s of p.subscriptions) {
    const parsed = parseFilter(core, conn, s.topicFilter);
    const requested = s.qos;
    const args: SubscribeEvent = {
      connectionId: conn.connectionId,
      clientId: conn.clientId,
      userName: conn.userName,
      topicFilter: s.topicFilter,
      requestedQoS: requested,
      options: s,
      subscriptionIdentifier: subId,
      returnCode: parsed.code !== 0 ? parsed.code : Math.min(requested, core.options.maximumQoS),
    };
    const item: Pending = { args, failed: parsed.code !== 0, shareName: parsed.shareName, inner: parsed.inner };
    items.push(item);
    if (item.failed) {
      core.clientError(conn, `invalid topic filter ${JSON.stringify(s.topicFilter)}`, 601, new Error('invalid topic filter'));
      continue;
    }
    if (steps.length === 0) continue;
    const run = () =>
      runChain(
        steps,
        args,
        (a, r) => {
          if (r === false) a.returnCode = 0x87;
          else if (typeof r === 'number') a.returnCode = r;
        },
        (a, err) => {
          a.returnCode = 0x80;
          core.internalError(undefined, err);
        },
      );
    chain = chain === undefined ? run() || undefined : chain.then(run);
  }
  const finish = () => {
    if (conn.state !== ConnState.Connected) return;
    const mark = core.opsMark();
    const codes: number[] = [];
    const granted: { sub: Subscription; isNew: boolean }[] = [];
    for (const it of items) {
      let rc = it.args.returnCode;
      if (!(rc === 0 || rc === 1 || rc === 2) && !(rc >= 0x80 && rc <= 0xff)) rc = 0x80;
      if (rc <= 2 && rc > core.options.maximumQoS) rc = core.options.maximumQoS;
      codes.push(rc);
      if (rc >= 0x80) continue;
      const o = it.args.options;
      const sub: Subscription = {
        session,
        clientId: session.clientId,
        filter: o.topicFilter,
        topicFilter: it.inner,
        shareName: it.shareName,
        qos: rc as QoS,
        noLocal: o.noLocal ?? false,
        retainAsPublished: o.retainAsPublished ?? false,
        retainHandling: o.retainHandling ?? 0,
        subscriptionId: subId,
      };
      const isNew = !session.subscriptions.has(sub.filter);
      session.subscriptions.set(sub.filter, sub);
      core.index.add(sub);
      if (session.persistent && core.persister)
        core.persister.push({ type: 'putSubscription', clientId: session.clientId, subscription: storedSubscription(sub) });
      granted.push({ sub, isNew });
      for (const h of core.hooks) h.onSubscribed?.(conn, it.args);
    }
    conn.send({ type: 'suback', packetId: p.packetId, reasonCodes: codes });
    core.gateSince(conn, mark);
    for (const { sub, isNew } of granted) sendRetained(core, session, sub, isNew);
  };
  if (chain === undefined) finish();
  else {
    conn.hold();
    after(chain, () => {
      finish();
      conn.release();
    });
  }
}

/**
 * Retained messages for a new or replaced subscription [MQTT-3.3.1-9] [MQTT-3.8.4-3]: RETAIN=1,
 * per Retain Handling (0 always, 1 only if new, 2 never); none for shared subscriptions.
 */
export function sendRetained(core: BrokerCore, session: Session, sub: Subscription, isNew: boolean): void {
  if (sub.shareName !== undefined || sub.retainHandling === 2 || (sub.retainHandling === 1 && !isNew)) return;
  if (core.retained.size === 0) return;
  const ids = sub.subscriptionId === undefined ? undefined : [sub.subscriptionId];
  const check = core.deliverySteps.length > 0;
  // A retained replay is a delivery of its own, never a second copy of a routed message: the
  // cluster's hand-over de-duplication (`session.divert`) does not apply to it.
  const divert = session.divert;
  session.divert = undefined;
  try {
    for (const m of core.retained.match(sub.topicFilter)) {
      if (check && !core.mayDeliver(session, m)) continue;
      deliver(core, session, m, Math.min(m.qos, sub.qos) as QoS, true, ids);
    }
  } finally {
    session.divert = divert;
  }
}

export function handleUnsubscribe(core: BrokerCore, conn: MqttConnection, p: UnsubscribePacket): void {
  const session = conn.session;
  if (session === null) return;
  const codes: number[] = [];
  const mark = core.opsMark();
  for (const filter of p.topicFilters) {
    const sub = session.subscriptions.get(filter);
    if (sub === undefined) {
      codes.push(topicFilterProblem(filter) === undefined ? 0x11 : 0x8f);
    } else {
      session.subscriptions.delete(filter);
      core.index.remove(session.clientId, sub.topicFilter, sub.shareName);
      if (session.persistent && core.persister)
        core.persister.push({ type: 'deleteSubscription', clientId: session.clientId, topicFilter: filter });
      codes.push(0);
    }
    const ev = { connectionId: conn.connectionId, clientId: conn.clientId, topicFilter: filter };
    core.safeEmit('unsubscribe', ev);
    for (const h of core.hooks) h.onUnsubscribed?.(conn, ev);
  }
  // UNSUBACK even when nothing matched [MQTT-3.10.4-5]; 3.1.1 has no payload (the encoder drops it).
  conn.send({ type: 'unsuback', packetId: p.packetId, reasonCodes: codes });
  core.gateSince(conn, mark);
}
