/**
 * Live reconfiguration (`broker.updateOptions`): which options can change while clients stay
 * connected, and applying them. Everything is validated first; nothing is applied when any
 * value is invalid.
 */
import type { BrokerCore, BrokerOptions } from './core.js';
import { resolveOptions } from './core.js';
import { BrokerError, BrokerErrorCode } from './errors.js';
import { type BrokerLimits, resolveLimits } from './limits.js';

/** Options applied at once (to existing clients where it makes sense, else to new connections). */
export const LIVE_OPTIONS = [
  'defaultIdleTimeout',
  'logLevel',
  'allowAnonymous',
  'maxKeepAlive',
  'maxSessionExpiryInterval',
  'queueQos0Offline',
  'willOnDisconnect',
  'willOnShutdown',
  'responseInformation',
  'clientIdPrefix',
] as const satisfies readonly (keyof BrokerOptions)[];

/** Limits applied at once. `maxPacketSize` is fixed per listener and connection at start: restart. */
export const LIVE_LIMITS = [
  'maxConnections',
  'maxInflight',
  'maxQueuedMessages',
  'maxQueuedBytes',
  'maxSendBuffer',
  'connectTimeout',
  'maxTopicLength',
  'maxTopicLevels',
] as const satisfies readonly (keyof BrokerLimits)[];

/**
 * Options that need a restart: what was advertised to connected clients in CONNACK (Maximum
 * QoS, Retain/Wildcard/Subscription Identifier/Shared Subscription Available, Topic Alias
 * Maximum, Receive Maximum, Maximum Packet Size), and the storage, cluster and hooks (use
 * `addHook`/`removeHook`, and the `reload()` of password and ACL files).
 */
export const RESTART_OPTIONS = [
  'maximumQoS',
  'retainAvailable',
  'wildcardSubscriptionAvailable',
  'subscriptionIdentifiersAvailable',
  'sharedSubscriptionAvailable',
  'topicAliasMaximum',
  'receiveMaximum',
  'storage',
  'cluster',
  'hooks',
] as const satisfies readonly (keyof BrokerOptions)[];

export interface UpdateOptionsResult {
  /** Options (and `limits.<name>`) now in force. */
  readonly applied: string[];
  /** Options whose new value differs but needs a restart; they were not applied. */
  readonly restartRequired: string[];
}

const DEFAULTS_FOR_COMPARE: Partial<Record<string, unknown>> = {};

export function updateOptions(core: BrokerCore, partial: Partial<BrokerOptions>, current: BrokerOptions): UpdateOptionsResult {
  if (partial === null || typeof partial !== 'object')
    throw new BrokerError(BrokerErrorCode.InvalidArgument, 'updateOptions needs an options object');
  const live = new Set<string>(LIVE_OPTIONS);
  const restart = new Set<string>(RESTART_OPTIONS);
  const applied: string[] = [];
  const restartRequired: string[] = [];
  for (const key of Object.keys(partial)) {
    if (key !== 'limits' && !live.has(key) && !restart.has(key))
      throw new BrokerError(BrokerErrorCode.InvalidArgument, `updateOptions: unknown option ${JSON.stringify(key)}`);
  }
  // Validate everything first (the same rules as the constructor).
  const liveValues: Record<string, unknown> = {};
  for (const k of LIVE_OPTIONS) if (k in partial) liveValues[k] = (partial as Record<string, unknown>)[k];
  const resolved = resolveOptions(liveValues as BrokerOptions);
  let limits: BrokerLimits | undefined;
  if (partial.limits !== undefined) {
    for (const k of Object.keys(partial.limits)) {
      if (!(k in core.limits)) throw new BrokerError(BrokerErrorCode.InvalidArgument, `updateOptions: unknown limit ${JSON.stringify(k)}`);
    }
    try {
      limits = resolveLimits({ ...core.limits, ...partial.limits });
    } catch (err) {
      throw new BrokerError(BrokerErrorCode.InvalidArgument, (err as Error).message, { cause: err });
    }
  }
  for (const k of RESTART_OPTIONS) {
    if (!(k in partial)) continue;
    const now = k in current ? (current as Record<string, unknown>)[k] : DEFAULTS_FOR_COMPARE[k];
    const next = (partial as Record<string, unknown>)[k];
    const same =
      k === 'hooks'
        ? Array.isArray(next) && next.length === core.hooks.length && next.every((h, i) => h === core.hooks[i])
        : k === 'storage' || k === 'cluster'
          ? next === now || (next === undefined && now === undefined)
          : next === (core.options as unknown as Record<string, unknown>)[k];
    if (!same) restartRequired.push(k);
  }
  if (limits !== undefined) {
    const pl = partial.limits as Partial<BrokerLimits>;
    if (pl.maxPacketSize !== undefined && pl.maxPacketSize !== core.limits.maxPacketSize) restartRequired.push('limits.maxPacketSize');
    for (const k of LIVE_LIMITS) {
      if (pl[k] === undefined) continue;
      (core.limits as BrokerLimits)[k] = limits[k];
      applied.push(`limits.${k}`);
    }
  }
  for (const k of LIVE_OPTIONS) {
    if (!(k in partial)) continue;
    (core.options as unknown as Record<string, unknown>)[k] = (resolved as unknown as Record<string, unknown>)[k];
    applied.push(k);
  }
  core.optionsChanged();
  return { applied, restartRequired };
}
