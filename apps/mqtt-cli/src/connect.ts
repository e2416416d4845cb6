/**
 * From flags to a connected @iotwire/mqtt-client: client options (TLS files, -D connect and
 * will properties, WebSocket), `-d` packet logging, and connection failures turned into
 * mosquitto's messages and exit codes.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { type ClientTlsOptions, MqttClient, MqttClientError, type MqttClientOptions } from '@iotwire/mqtt-client';
import { CONNACK_RETURN_CODE_NAMES, reasonCodeName } from '@iotwire/mqtt-packet';
import type { ConnectionConfig } from './args.js';
import { CliError, CliErrorCode } from './errors.js';
import type { Output } from './io.js';

/** Whether the flags ask for TLS: CA flags, OS certificates, mqtts:// / wss://, or port 8883 (as mosquitto). */
export function usesTls(c: ConnectionConfig): boolean {
  const t = c.tls;
  return t.fromUrl || t.cafile !== undefined || t.capath !== undefined || t.useOsCerts || c.port === 8883;
}

/** The port to use: the flag's, else 1883/8883, or 80/443 for WebSocket. */
export function effectivePort(c: ConnectionConfig): number {
  if (c.port !== undefined) return c.port;
  const tls = usesTls(c);
  if (c.transport === 'ws') return tls ? 443 : 80;
  return tls ? 8883 : 1883;
}

const TLS_VERSIONS = {
  'tlsv1.3': ['TLSv1.3'],
  'tlsv1.2': ['TLSv1.2', 'TLSv1.3'],
  'tlsv1.1': ['TLSv1.1', 'TLSv1.2', 'TLSv1.3'],
} as const;

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new CliError(`Error: Problem setting TLS options: ${what} file "${path}" not found.`, CliErrorCode.Connect);
  }
}

function tlsOptions(c: ConnectionConfig): ClientTlsOptions {
  const t = c.tls;
  const o: ClientTlsOptions = {};
  if (t.cafile !== undefined) {
    if (!existsSync(t.cafile)) throw new CliError('Error: Problem setting TLS options: File not found.', CliErrorCode.Connect);
    o.caFile = t.cafile;
  }
  if (t.capath !== undefined) {
    if (!existsSync(t.capath) || !statSync(t.capath).isDirectory()) {
      throw new CliError('Error: Problem setting TLS options: File not found.', CliErrorCode.Connect);
    }
    o.caDir = t.capath;
  }
  // mosquitto trusts only the given CAs, plus the system's with --tls-use-os-certs or when no CA was given.
  o.includeSystemRoots = t.useOsCerts || (t.cafile === undefined && t.capath === undefined);
  if (t.cert !== undefined && t.key !== undefined) {
    o.cert = readPem(t.cert, 'certificate');
    o.key = readPem(t.key, 'key');
  }
  if (t.ciphers !== undefined) o.cipherList = t.ciphers;
  o.enabledProtocols = [...TLS_VERSIONS[t.tlsVersion ?? 'tlsv1.2']];
  return o;
}

/** Client options for the flags (`extra` wins). */
export function clientOptions(c: ConnectionConfig, extra: Partial<MqttClientOptions> = {}): MqttClientOptions {
  const port = effectivePort(c);
  const secure = usesTls(c);
  const o: MqttClientOptions = {
    protocolVersion: c.protocolVersion,
    keepAlive: c.keepalive,
    clean: c.clean,
    logLevel: c.debug ? 3 : 0,
    maxInflight: c.maxInflight,
    connectTimeoutMs: 30_000,
  };
  if (c.transport === 'ws') {
    const host = c.host.includes(':') ? `[${c.host}]` : c.host;
    o.url = `${secure ? 'wss' : 'ws'}://${host}:${port}${c.wsPath}`;
  } else {
    o.host = c.host;
    o.port = port;
    o.secure = secure;
  }
  if (secure) o.tls = tlsOptions(c);
  if (c.clientId !== undefined) o.clientId = c.clientId;
  if (c.username !== undefined) o.username = c.username;
  if (c.password !== undefined) o.password = c.password;
  if (c.bindAddress !== undefined) o.localAddress = c.bindAddress;
  if (c.protocolVersion === 5) {
    const p = c.properties.connect ?? {};
    const expiry = c.sessionExpiry ?? p.sessionExpiryInterval;
    if (expiry !== undefined) o.sessionExpiryInterval = expiry;
    if (p.receiveMaximum !== undefined) o.receiveMaximum = p.receiveMaximum;
    if (p.maximumPacketSize !== undefined) o.maximumPacketSize = p.maximumPacketSize;
    if (p.topicAliasMaximum !== undefined) o.topicAliasMaximum = p.topicAliasMaximum;
    if (p.requestResponseInformation !== undefined) o.requestResponseInformation = p.requestResponseInformation;
    if (p.requestProblemInformation !== undefined) o.requestProblemInformation = p.requestProblemInformation;
    if (p.userProperties?.length) o.userProperties = p.userProperties;
    if (p.authenticationMethod !== undefined) {
      const data = p.authenticationData;
      o.auth = {
        method: p.authenticationMethod,
        initialData: () => data,
        respond: () => {
          throw new Error('the broker asked for more authentication data, which iotwire-mqtt cannot provide');
        },
      };
    }
  }
  if (c.will) {
    o.will = { topic: c.will.topic, payload: c.will.payload, qos: c.will.qos, retain: c.will.retain };
    if (c.protocolVersion === 5 && c.properties.will) o.will.properties = c.properties.will;
  }
  return { ...o, ...extra };
}

/** Creates the client with `-d` logging and `--insecure` host-name leniency wired in. */
export function createClient(c: ConnectionConfig, stdout: Output, extra: Partial<MqttClientOptions> = {}): MqttClient {
  const client = new MqttClient(clientOptions(c, extra));
  if (c.debug) {
    client.on('log', (e) => {
      if (e.logType !== 'Packet') return;
      const text = e.message.replace(/^out /, 'sending ').replace(/^in /, 'received ');
      stdout.write(`Client ${client.clientId || '(null)'} ${text}\n`);
    });
  }
  if (c.tls.insecure) {
    // --insecure skips only the host-name check; the chain must still verify (as mosquitto).
    client.on('sslServerAuthentication', (v) => {
      if (v.status === 'ERR_TLS_CERT_ALTNAME_INVALID') v.accept = true;
    });
  }
  // Background errors are reported where they matter (connect, publish); keep them off the process.
  client.on('error', () => {});
  return client;
}

/** mosquitto_connack_string: the 3.1.1 refusal texts mosquitto prints. */
const CONNACK_STRINGS: Readonly<Record<number, string>> = {
  1: 'Connection Refused: unacceptable protocol version.',
  2: 'Connection Refused: identifier rejected.',
  3: 'Connection Refused: broker unavailable.',
  4: 'Connection Refused: bad user name or password.',
  5: 'Connection Refused: not authorised.',
};

function systemCode(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown; message?: unknown } | undefined, n = 0; e && n < 5; e = e.cause as typeof e, n++) {
    if (typeof e.code === 'string' && /^E[A-Z0-9_]+$/.test(e.code) && !e.code.startsWith('ERR_')) return e.code;
    const m =
      typeof e.message === 'string'
        ? /\b(E(?:CONNREFUSED|NOTFOUND|AI_AGAIN|HOSTUNREACH|NETUNREACH|TIMEDOUT|CONNRESET|ADDRNOTAVAIL|ACCES))\b/.exec(e.message)
        : null;
    if (m) return m[1];
  }
  return undefined;
}

/** A connection failure as mosquitto words it, with its exit code (the CONNACK code when refused). */
export function connectFailure(err: unknown, c: ConnectionConfig): CliError {
  const where = `${c.host}:${effectivePort(c)}`;
  if (err instanceof CliError) return err;
  if (err instanceof MqttClientError) {
    if (err.code === 'ERR_CONNECTION_REFUSED') {
      const rc = err.reasonCode ?? 128;
      const text =
        c.protocolVersion === 5
          ? `${reasonCodeName(rc, 'connack', 5) ?? `reason code ${rc}`}${rc === 0x84 ? '. Try connecting to an MQTT v5 broker, or use MQTT v3.x mode.' : ''}`
          : (CONNACK_STRINGS[rc] ?? CONNACK_RETURN_CODE_NAMES[rc] ?? `Connection Refused: unknown reason (${rc}).`);
      return new CliError(`Connection error: ${text}`, CliErrorCode.Refused, rc > 0 && rc < 256 ? rc : 1, { cause: err });
    }
    if (err.code === 'ERR_TIMEOUT')
      return new CliError(`Error: Connection to ${where} timed out.`, CliErrorCode.Connect, 1, { cause: err });
    if (err.code === 'ERR_TLS_CERT_REJECTED' || err.code === 'ERR_TLS_HANDSHAKE') {
      return new CliError(`Error: TLS connection to ${where} failed: ${err.message}`, CliErrorCode.Connect, 1, { cause: err });
    }
  }
  const sys = systemCode(err);
  const message =
    sys === 'ECONNREFUSED'
      ? `Error: Connection refused (${where}).`
      : sys === 'ENOTFOUND' || sys === 'EAI_AGAIN'
        ? `Error: Unable to connect (Lookup error: host '${c.host}' not found).`
        : sys === 'EHOSTUNREACH' || sys === 'ENETUNREACH'
          ? `Error: No route to host (${where}).`
          : sys === 'ETIMEDOUT'
            ? `Error: Connection to ${where} timed out.`
            : `Error: Unable to connect to ${where}: ${(err as Error)?.message ?? String(err)}`;
  return new CliError(message, CliErrorCode.Connect, 1, { cause: err });
}

/** Connects, or throws the {@link CliError} for the failure. */
export async function connectOrFail(client: MqttClient, c: ConnectionConfig): Promise<void> {
  try {
    await client.connect();
  } catch (err) {
    throw connectFailure(err, c);
  }
}
