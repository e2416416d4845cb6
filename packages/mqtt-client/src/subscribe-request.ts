import {
  type ConnackProperties,
  parseSharedSubscription,
  type QoS,
  type Subscription,
  topicFilterProblem,
  type UserProperties,
} from '@iotwire/mqtt-packet';
import { clientError } from './errors.js';

/** One filter with its options; a plain string takes the call's options. */
export interface SubscriptionRequest {
  topicFilter: string;
  qos?: QoS;
  noLocal?: boolean;
  retainAsPublished?: boolean;
  retainHandling?: 0 | 1 | 2;
}

export interface SubscribeOptions {
  /** QoS for every filter without its own. Default 0. */
  qos?: QoS;
  /** TopicQOSArray: per-filter QoS; the last element repeats for the remaining filters. */
  qosList?: QoS[];
  noLocal?: boolean | boolean[];
  retainAsPublished?: boolean | boolean[];
  retainHandling?: 0 | 1 | 2 | (0 | 1 | 2)[];
  /** MQTT 5 Subscription Identifier (1..268435455). */
  subscriptionIdentifier?: number;
  userProperties?: UserProperties;
  /** TopicDelimiter for a single string of filters. Default `,` (filters in such a string are trimmed). */
  delimiter?: string;
}

/** Splits a TopicDelimiter-separated list; entries are trimmed (use an array to keep spaces). */
export function splitFilters(s: string, delimiter: string): string[] {
  return s
    .split(delimiter)
    .map((f) => f.trim())
    .filter((f) => f.length > 0);
}

/**
 * The SUBSCRIBE entries for a call: filters validated (503), per-filter options applied
 * (array options repeat their last element, as the toolkit's Topic*Array lists), MQTT 5
 * options only in 5.0, and the server's advertised capabilities (`server`, the CONNACK
 * properties of a live connection) checked.
 */
export function buildSubscriptions(
  filters: string | readonly (string | SubscriptionRequest)[],
  o: SubscribeOptions,
  v5: boolean,
  server: ConnackProperties | undefined,
): Subscription[] {
  const list = typeof filters === 'string' ? splitFilters(filters, o.delimiter ?? ',') : filters;
  if (list.length === 0) throw clientError('ERR_TOPIC_FILTER_INVALID', 'no topic filter given');
  const at = <T>(v: T | T[] | undefined, i: number): T | undefined =>
    Array.isArray(v) ? (v[Math.min(i, v.length - 1)] as T | undefined) : v;
  if (o.subscriptionIdentifier !== undefined) {
    if (!v5) throw clientError('ERR_NOT_SUPPORTED', 'subscription identifiers need MQTT 5');
    if (!Number.isInteger(o.subscriptionIdentifier) || o.subscriptionIdentifier < 1 || o.subscriptionIdentifier > 268_435_455)
      throw clientError('ERR_INVALID_ARGUMENT', 'subscriptionIdentifier must be 1..268435455');
    if (server?.subscriptionIdentifiersAvailable === false)
      throw clientError('ERR_NOT_SUPPORTED', 'the server does not support subscription identifiers', { reasonCode: 0xa1 });
  }
  return list.map((f, i) => {
    const req: SubscriptionRequest = typeof f === 'string' ? { topicFilter: f } : f;
    const qos = req.qos ?? (o.qosList?.length ? at(o.qosList, i) : undefined) ?? o.qos ?? 0;
    if (qos !== 0 && qos !== 1 && qos !== 2) throw clientError('ERR_QOS_INVALID', `invalid QoS ${String(qos)} for ${req.topicFilter}`);
    const problem = topicFilterProblem(req.topicFilter);
    if (problem) throw clientError('ERR_TOPIC_FILTER_INVALID', `invalid topic filter ${JSON.stringify(req.topicFilter)}: ${problem}`);
    const s: Subscription = { topicFilter: req.topicFilter, qos };
    const shared = parseSharedSubscription(req.topicFilter) !== undefined;
    if (shared && server?.sharedSubscriptionAvailable === false)
      throw clientError('ERR_NOT_SUPPORTED', 'the server does not support shared subscriptions', { reasonCode: 0x9e });
    if (server?.wildcardSubscriptionAvailable === false && /[+#]/.test(req.topicFilter))
      throw clientError('ERR_NOT_SUPPORTED', 'the server does not support wildcard subscriptions', { reasonCode: 0xa2 });
    if (v5) {
      const nl = req.noLocal ?? at(o.noLocal, i);
      const rap = req.retainAsPublished ?? at(o.retainAsPublished, i);
      const rh = req.retainHandling ?? at(o.retainHandling, i);
      if (nl) {
        if (shared) throw clientError('ERR_TOPIC_FILTER_INVALID', 'No Local is not allowed on a shared subscription [MQTT-3.8.3-4]');
        s.noLocal = true;
      }
      if (rap) s.retainAsPublished = true;
      if (rh) {
        if (rh !== 1 && rh !== 2) throw clientError('ERR_INVALID_ARGUMENT', 'retainHandling must be 0, 1 or 2');
        s.retainHandling = rh;
      }
    }
    return s;
  });
}
