/**
 * What a SIGHUP reload can apply to a running broker without dropping a client, and what
 * needs a restart. A pure comparison of two validated configurations.
 */
import { DEFAULT_LIMITS, LIVE_LIMITS, LIVE_OPTIONS } from '@iotwire/mqtt-broker';
import type { BrokerConfig } from './config/schema.js';

export interface ReloadPlan {
  /** Broker limits that changed (applied with updateOptions). */
  limits: Partial<BrokerConfig['limits']> | undefined;
  /** MQTT options that changed and can be applied live. */
  mqtt: Partial<BrokerConfig['mqtt']> | undefined;
  logLevel: BrokerConfig['logging']['level'] | undefined;
  /** Authentication / ACL settings changed (files are re-read on every reload anyway). */
  auth: boolean;
  sysInterval: number | undefined;
  /** Dashboard or metrics settings changed: their HTTP servers are restarted (MQTT clients unaffected). */
  http: boolean;
  /** Keys whose change needs a restart, as paths (`listeners`, `storage.directory`, …). */
  restart: string[];
}

/** MQTT options a running broker takes through `updateOptions` (the library's `LIVE_OPTIONS`). */
export const LIVE_MQTT_OPTIONS: ReadonlySet<string> = new Set<string>(LIVE_OPTIONS);
/** Limits a running broker takes through `updateOptions` (the library's `LIVE_LIMITS`). */
export const LIVE_LIMIT_NAMES: ReadonlySet<string> = new Set<string>(LIVE_LIMITS);

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function changedKeys<T extends object>(a: T, b: T): (keyof T)[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof T)[]);
  return [...keys].filter((k) => !same(a[k], b[k]));
}

export function planReload(
  old: BrokerConfig,
  next: BrokerConfig,
  liveMqtt: ReadonlySet<string> = LIVE_MQTT_OPTIONS,
  liveLimits: ReadonlySet<string> = LIVE_LIMIT_NAMES,
): ReloadPlan {
  const restart: string[] = [];
  if (!same(old.listeners, next.listeners)) restart.push('listeners');
  for (const k of changedKeys(old.storage, next.storage)) restart.push(`storage.${k}`);
  if (!same(old.cluster, next.cluster)) restart.push('cluster');
  if (old.logging.format !== next.logging.format) restart.push('logging.format');

  const limits: Partial<BrokerConfig['limits']> = {};
  let anyLimit = false;
  for (const k of changedKeys(old.limits, next.limits)) {
    if (next.limits[k] === undefined) {
      // Back to the default: the library resolves it (limits are merged over its defaults).
      (limits as Record<string, unknown>)[k] = DEFAULT_LIMITS[k];
      anyLimit = true;
    } else if (liveLimits.has(k)) {
      (limits as Record<string, unknown>)[k] = next.limits[k];
      anyLimit = true;
    } else restart.push(`limits.${k}`);
  }

  const mqtt: Partial<BrokerConfig['mqtt']> = {};
  let anyMqtt = false;
  for (const k of changedKeys(old.mqtt, next.mqtt)) {
    if (liveMqtt.has(k)) {
      (mqtt as Record<string, unknown>)[k] = next.mqtt[k];
      anyMqtt = true;
    } else restart.push(`mqtt.${k}`);
  }

  return {
    limits: anyLimit ? limits : undefined,
    mqtt: anyMqtt ? mqtt : undefined,
    logLevel: old.logging.level !== next.logging.level ? next.logging.level : undefined,
    auth: !same(old.auth, next.auth),
    sysInterval: old.sys.interval !== next.sys.interval ? next.sys.interval : undefined,
    http: !same(old.dashboard, next.dashboard) || !same(old.metrics, next.metrics),
    restart,
  };
}
