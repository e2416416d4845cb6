/**
 * Structured logs with pino: JSON lines for machines (systemd, Docker, log shippers), or a
 * pretty form on a terminal. The broker's `log` and `error` events are mapped onto pino levels
 * and enriched with the client's id and address.
 */
import type { LogLevel, MqttBroker } from '@iotwire/mqtt-broker';
import { type DestinationStream, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';
import type { LogLevelName } from './config/schema.js';

export type { Logger };

export interface LoggerOptions {
  level: LogLevelName;
  format: 'auto' | 'json' | 'pretty';
  /** Where lines go (tests). Default stdout, written synchronously so nothing is lost at exit. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const usePretty = options.format === 'pretty' || (options.format === 'auto' && process.stdout.isTTY === true);
  const dest =
    options.destination ??
    (usePretty
      ? pretty({
          sync: true,
          colorize: process.stdout.isTTY === true,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname,name',
          singleLine: true,
        })
      : pino.destination({ dest: 1, sync: true }));
  return pino({ name: 'iotwire-broker', level: options.level, base: { pid: process.pid } }, dest);
}

/** The broker's `logLevel` that produces what `level` will print (0 none … 3 packets). */
export function brokerLogLevel(level: LogLevelName): LogLevel {
  switch (level) {
    case 'trace':
      return 3;
    case 'debug':
      return 2;
    case 'info':
      return 1;
    default:
      return 0;
  }
}

/** Protocol errors of a client (600, 601) are the client's problem: warn; anything else is ours: error. */
const CLIENT_ERRORS = new Set([600, 601]);

/** Sends the broker's `log` and `error` events to `log`. Returns a function that detaches them. */
export function attachBrokerLogs(broker: MqttBroker, log: Logger): () => void {
  const context = (connectionId: string) => {
    if (!connectionId) return {};
    const c = broker.connections.get(connectionId);
    if (!c) return { conn: connectionId };
    return {
      conn: connectionId,
      ...(c.clientId ? { clientId: c.clientId } : {}),
      ...(c.userName ? { user: c.userName } : {}),
      remote: `${c.remoteHost}:${c.remotePort}`,
      protocol: c.protocol,
    };
  };
  const onLog = (e: { connectionId: string; logLevel: LogLevel; message: string; logType: string }) => {
    const fields = { ...context(e.connectionId), type: e.logType.toLowerCase() };
    if (e.logLevel <= 1) log.info(fields, e.message);
    else if (e.logLevel === 2) log.debug(fields, e.message);
    else log.trace(fields, e.message);
  };
  const onError = (e: { connectionId: string; errorCode: number; description: string; error: Error }) => {
    const fields = { ...context(e.connectionId), errorCode: e.errorCode, code: (e.error as { code?: string }).code };
    if (CLIENT_ERRORS.has(e.errorCode)) log.warn(fields, e.description);
    else log.error({ ...fields, err: e.error }, e.description);
  };
  broker.on('log', onLog);
  broker.on('error', onError);
  return () => {
    broker.off('log', onLog);
    broker.off('error', onError);
  };
}
