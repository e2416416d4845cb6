/** `iotwire-mqtt sub`: mosquitto_sub. */
import type { MqttMessage, SubscriptionRequest } from '@iotwire/mqtt-client';
import { reasonCodeName, topicMatches } from '@iotwire/mqtt-packet';
import type { SubConfig } from './args.js';
import { connectFailure, connectOrFail, createClient } from './connect.js';
import { CliError, CliErrorCode, EXIT_TIMED_OUT } from './errors.js';
import { OutputFormatter } from './format.js';
import type { Io } from './io.js';

export interface SubRuntime {
  /** Aborting ends the command as SIGINT/SIGTERM do (clean disconnect, exit 0). */
  signal?: AbortSignal;
  /** Randomness for --random-filter (tests). */
  random?: () => number;
}

/** Runs `sub`; resolves with the exit code or throws a {@link CliError}. */
export async function runSub(c: SubConfig, io: Io, rt: SubRuntime = {}): Promise<number> {
  const report = (line: string) => {
    if (!c.quiet) io.stderr.write(`${line}\n`);
  };
  const formatter = new OutputFormatter({ format: c.format, verbose: c.verbose, eol: c.eol, pretty: c.pretty, onError: report });
  const random = rt.random ?? Math.random;
  // As mosquitto_sub: a small -C also caps the broker's in-flight deliveries (MQTT 5 Receive Maximum).
  const extra =
    c.protocolVersion === 5 && c.count !== undefined && c.count < 20 && c.properties.connect?.receiveMaximum === undefined
      ? { receiveMaximum: c.count }
      : {};
  const client = createClient(c, io.stdout, { ...extra, reconnect: true });

  let finishing = false;
  let resolveDone!: (code: number) => void;
  let rejectDone!: (err: CliError) => void;
  const done = new Promise<number>((resolve, reject) => {
    resolveDone = resolve;
    rejectDone = reject;
  });
  let timer: NodeJS.Timeout | undefined;
  const removals = new Set<Promise<unknown>>();
  const finish = (code: number | CliError) => {
    if (finishing) return;
    finishing = true;
    if (timer) clearTimeout(timer);
    rt.signal?.removeEventListener('abort', onAbort);
    void (async () => {
      await Promise.allSettled([...removals]);
      if (client.connected) {
        const props = c.protocolVersion === 5 ? c.properties.disconnect : undefined;
        await client.disconnect(props ? { properties: props } : {}).catch(() => {});
      } else {
        client.interrupt();
      }
      if (typeof code === 'number') resolveDone(code);
      else rejectDone(code);
    })();
  };
  const onAbort = () => finish(0);
  if (rt.signal?.aborted) return 0;
  rt.signal?.addEventListener('abort', onAbort, { once: true });

  let received = 0;
  client.on('messageIn', (m: MqttMessage) => {
    if (finishing) return;
    if (c.retainedOnly && !m.retain) {
      finish(0);
      return;
    }
    if (m.retain && c.noRetain) return;
    for (const f of c.filterOut) if (topicMatches(f, m.topic)) return;
    if (c.removeRetained && m.retain) {
      const p = client.publish(m.topic, new Uint8Array(0), { qos: 1, retain: true }).catch(() => {});
      removals.add(p);
      void p.then(() => removals.delete(p));
    }
    if (c.randomFilter >= 1 || random() < c.randomFilter) {
      const out = formatter.render({
        topic: m.topic,
        payload: m.payload,
        qos: m.qos,
        retain: m.retain,
        mid: m.packetId,
        properties: m.properties,
      });
      if (out) io.stdout.write(out);
    }
    if (c.count !== undefined && ++received >= c.count) finish(0);
  });
  client.on('disconnected', (e) => {
    if (!finishing && !e.willReconnect) finish(new CliError('Error: The connection was lost.', CliErrorCode.ConnectionLost));
  });

  try {
    await connectOrFail(client, c);
  } catch (err) {
    rt.signal?.removeEventListener('abort', onAbort);
    throw err;
  }
  if (finishing) return done;
  if (c.timeoutSec !== undefined) {
    timer = setTimeout(() => {
      report('Timed out');
      finish(EXIT_TIMED_OUT);
    }, c.timeoutSec * 1000);
  }

  try {
    if (c.topics.length) {
      const v5 = c.protocolVersion === 5;
      const requests: SubscriptionRequest[] = c.topics.map((topicFilter) =>
        v5
          ? { topicFilter, qos: c.qos, retainAsPublished: c.retainAsPublished, retainHandling: c.noRetain ? 2 : 0 }
          : { topicFilter, qos: c.qos },
      );
      const sp = v5 ? c.properties.subscribe : undefined;
      const results = await client.subscribe(requests, {
        ...(sp?.subscriptionIdentifier !== undefined ? { subscriptionIdentifier: sp.subscriptionIdentifier } : {}),
        ...(sp?.userProperties?.length ? { userProperties: sp.userProperties } : {}),
      });
      if (c.debug) io.stdout.write(`Subscribed: ${results.map((r) => r.reasonCode).join(', ')}\n`);
      for (const r of results) {
        if (r.reasonCode >= 0x80) {
          report(
            `Warning: Subscription to '${r.topicFilter}' denied: ${reasonCodeName(r.reasonCode, 'suback', c.protocolVersion) ?? r.reasonCode}.`,
          );
        }
      }
    }
    if (c.unsubscribe.length) {
      const up = c.protocolVersion === 5 ? c.properties.unsubscribe?.userProperties : undefined;
      await client.unsubscribe(c.unsubscribe, up?.length ? { userProperties: up } : {});
    }
  } catch (err) {
    const e =
      (err as { code?: string }).code === 'ERR_SUBSCRIBE_FAILED'
        ? new CliError('Error: All subscription requests were denied.', CliErrorCode.Subscribe)
        : err instanceof CliError
          ? err
          : connectFailure(err, c);
    finish(e);
    return done;
  }
  if (c.exitAfterSub) finish(0);
  return done;
}
