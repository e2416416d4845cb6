/**
 * The configuration file's schema: one document for listeners, TLS, authentication and ACL,
 * storage, clustering, limits, logging, `$SYS`, metrics and the dashboard. Every key is optional;
 * the defaults are the zero-configuration broker. Unknown keys are errors (typos must not pass).
 */
import { z } from 'zod';

const port = z.int().min(0).max(65_535);
const seconds = z.int().min(0).max(2_147_483);
const positive = z.int().min(1);
const path = z.string().min(1);
const TLS_VERSIONS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;

const common = {
  /** Bind address; '' or omitted = all IPv4 interfaces, '::' = IPv6 dual stack. */
  host: z.string().default(''),
  /** Port; default 1883 / 8883 / 8080 / 8443 by protocol; 0 = any free port. */
  port: port.optional(),
};

const tlsKeys = {
  /** PEM certificate (chain) file of the server. */
  certFile: path.optional(),
  /** PEM private key file of the server. */
  keyFile: path.optional(),
  /** Passphrase of the key or of the PFX file. */
  passphrase: z.string().optional(),
  /** PKCS#12 file with certificate and key (instead of certFile + keyFile). */
  pfxFile: path.optional(),
  /** PEM file of the CAs client certificates must chain to (needed by requestCert). */
  caFile: path.optional(),
  /** Require a client certificate that verifies against caFile (Mosquitto's require_certificate). */
  requestCert: z.boolean().default(false),
  /** Use the client certificate's identity as user name: 'cn' or the whole 'subject' (use_identity_as_username). */
  certificateIdentity: z.enum(['none', 'cn', 'subject']).default('none'),
  /** Enabled TLS versions. Default TLS 1.2 and 1.3. */
  tlsVersions: z.array(z.enum(TLS_VERSIONS)).min(1).default(['TLSv1.2', 'TLSv1.3']),
  /** Cipher suites (IANA or OpenSSL names separated by ':' or ';'); default OpenSSL's. */
  ciphers: z.string().min(1).optional(),
  /** Append TLS key-log lines (NSS format) here: for debugging with Wireshark only. */
  keyLogFile: path.optional(),
  /** TLS handshake timeout, seconds. */
  handshakeTimeout: z.int().min(1).max(3600).default(30),
};

/** WebSocket request path. */
const wsPath = z
  .string()
  .regex(/^(\/.*|\*)$/, { error: "must start with '/' (or be '*' for any path)" })
  .default('/mqtt');

export const listenerSchema = z.discriminatedUnion(
  'protocol',
  [
    z.strictObject({ protocol: z.literal('tcp'), ...common }),
    z.strictObject({ protocol: z.literal('ws'), ...common, path: wsPath }),
    z.strictObject({ protocol: z.literal('tls'), ...common, ...tlsKeys }),
    z.strictObject({ protocol: z.literal('wss'), ...common, path: wsPath, ...tlsKeys }),
  ],
  { error: 'must be one of tcp, tls, ws, wss' },
);

export type ListenerConfig = z.output<typeof listenerSchema>;
export type TlsListenerConfig = Extract<ListenerConfig, { protocol: 'tls' | 'wss' }>;

/** The zero-configuration listeners: MQTT on 1883 and MQTT over WebSocket on 8080 at /mqtt. */
export const DEFAULT_LISTENERS: readonly ListenerConfig[] = Object.freeze([
  { protocol: 'tcp', host: '', port: 1883 },
  { protocol: 'ws', host: '', port: 8080, path: '/mqtt' },
]);

const limitsSchema = z.strictObject({
  maxConnections: positive.max(1_000_000).optional(),
  maxPacketSize: positive.max(268_435_460).optional(),
  maxInflight: positive.max(65_535).optional(),
  maxQueuedMessages: positive.optional(),
  maxQueuedBytes: positive.optional(),
  /** Milliseconds a new socket may take to send CONNECT. */
  connectTimeout: positive.optional(),
  maxTopicLength: positive.max(65_535).optional(),
  maxTopicLevels: positive.optional(),
  maxSendBuffer: positive.optional(),
});

const mqttSchema = z.strictObject({
  defaultIdleTimeout: seconds.optional(),
  maxKeepAlive: z.int().min(0).max(65_535).optional(),
  maxSessionExpiryInterval: z.int().min(0).max(0xffff_ffff).optional(),
  topicAliasMaximum: z.int().min(0).max(65_535).optional(),
  receiveMaximum: z.int().min(1).max(65_535).optional(),
  maximumQoS: z.union([z.literal(0), z.literal(1), z.literal(2)], { error: 'must be 0, 1 or 2' }).optional(),
  retainAvailable: z.boolean().optional(),
  wildcardSubscriptionAvailable: z.boolean().optional(),
  subscriptionIdentifiersAvailable: z.boolean().optional(),
  sharedSubscriptionAvailable: z.boolean().optional(),
  queueQos0Offline: z.boolean().optional(),
  willOnDisconnect: z.boolean().optional(),
  willOnShutdown: z.boolean().optional(),
  responseInformation: z.string().optional(),
  clientIdPrefix: z.string().optional(),
});

const authSchema = z.strictObject({
  /** Password file (iotwire-passwd format). */
  passwordFile: path.optional(),
  /** Accept clients without a user name. Default: true without a password file, false with one. */
  allowAnonymous: z.boolean().optional(),
  /** ACL file: per user / client id / pattern rules with %u and %c. */
  aclFile: path.optional(),
});

const storageSchema = z.strictObject({
  /** 'durable' (embedded database in `directory`) or 'memory' (nothing survives a restart). */
  type: z.enum(['durable', 'memory']).default('durable'),
  /** Data directory of the durable store. */
  directory: path.default('./iotwire-data'),
  /** What to do when the store is found damaged at start: refuse ('fail'), keep what is readable ('repair'), or move it aside and start empty ('reset'). */
  onCorruption: z.enum(['fail', 'repair', 'reset']).default('fail'),
  /** fsync every batch: no acknowledged QoS 1/2 message is lost on power loss. false is faster and survives process crashes only. */
  sync: z.boolean().default(true),
});

const redisUrl = z.string().regex(/^rediss?:\/\/.+/, { error: 'must be a redis:// or rediss:// URL' });
const clusterSchema = z.strictObject({
  /** Redis URL, or ioredis options ({ host, port, password, db, tls, ... }). */
  redis: z.union([redisUrl, z.record(z.string(), z.unknown())], { error: 'must be a redis:// URL or an object of ioredis options' }),
  /** This node's id in the cluster (A-Z a-z 0-9 . _ -, up to 64); default: random per process. A stable id lets a restarted node take its clients' state back at once. */
  nodeId: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, { error: 'must be 1-64 characters of A-Z a-z 0-9 . _ -' })
    .optional(),
  /** Prefix of every Redis key and channel. Default 'iotwire:'. */
  keyPrefix: z.string().min(1).optional(),
  /** Heartbeat period, ms. Default 1000. */
  heartbeatInterval: z.int().min(50).max(3_600_000).optional(),
  /** A node silent this long (ms) is dead: its clients' Wills are published and its sessions adopted. Default 5000. */
  nodeTimeout: z.int().min(100).max(3_600_000).optional(),
  /** How long a take-over waits for the node holding the client (ms). Default 3000. */
  takeoverTimeout: z.int().min(100).max(3_600_000).optional(),
  /** Forwarded messages kept per node stream while that node lags. Default 100000. */
  streamMaxLength: z.int().min(1).optional(),
});

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

const loggingSchema = z.strictObject({
  level: z.enum(LOG_LEVELS).default('info'),
  /** 'auto': pretty on a terminal, JSON lines otherwise. */
  format: z.enum(['auto', 'json', 'pretty']).default('auto'),
});

const sysSchema = z.strictObject({
  /** Seconds between $SYS/broker/... updates; 0 turns $SYS off. */
  interval: z.int().min(0).max(86_400).default(10),
});

const tokenSchema = z.string().min(16, { error: 'must be at least 16 characters' });

const dashboardSchema = z.strictObject({
  enabled: z.boolean().default(true),
  host: z.string().default('127.0.0.1'),
  port: port.default(18_083),
  /** Bearer token for the page's API and actions (strongly advised when host is not loopback). */
  token: tokenSchema.optional(),
  /** MQTT-over-WebSocket URL the page connects to; default: the first ws/wss listener on the page's host. */
  mqttUrl: z
    .string()
    .regex(/^wss?:\/\/.+/, { error: 'must be a ws:// or wss:// URL' })
    .optional(),
  /** Host header values accepted besides loopback names and the bind address (DNS-rebinding guard). */
  allowedHosts: z.array(z.string().min(1)).default([]),
});

const metricsSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Own HTTP server for /metrics; default: served by the dashboard server (its host and port). */
  host: z.string().optional(),
  port: port.optional(),
  path: z.string().regex(/^\//, { error: "must start with '/'" }).default('/metrics'),
  /** Bearer token a scraper must send. */
  token: tokenSchema.optional(),
  /** Constant labels on every sample (e.g. node: a). */
  labels: z.record(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/), z.string()).default({}),
});

export const configSchema = z.strictObject({
  listeners: z.array(listenerSchema).min(1, { error: 'must list at least one listener (omit the key for the defaults)' }).optional(),
  limits: limitsSchema.default({}),
  mqtt: mqttSchema.default({}),
  auth: authSchema.default({}),
  storage: storageSchema.prefault({}),
  cluster: clusterSchema.optional(),
  logging: loggingSchema.prefault({}),
  sys: sysSchema.prefault({}),
  metrics: metricsSchema.prefault({}),
  dashboard: dashboardSchema.prefault({}),
});

/** A validated configuration, defaults applied. */
export type BrokerConfig = z.output<typeof configSchema>;
/** What a configuration file may contain. */
export type BrokerConfigInput = z.input<typeof configSchema>;
