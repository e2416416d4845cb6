/** `iotwire-mqtt pub`: mosquitto_pub. */
import { readFileSync } from 'node:fs';
import type { MqttClient, PublishOptions } from '@iotwire/mqtt-client';
import { MqttClientError } from '@iotwire/mqtt-client';
import { reasonCodeName } from '@iotwire/mqtt-packet';
import type { PubConfig } from './args.js';
import { connectOrFail, createClient } from './connect.js';
import { CliError, CliErrorCode } from './errors.js';
import { type Io, readAll, readLines } from './io.js';

const MAX_PAYLOAD = 268_435_455;

/** Waits until the client can take more QoS 0 messages (transport drained), or fails if the link is lost. */
export function waitReady(client: MqttClient): Promise<void> {
  if (client.readyToSend) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const ready = () => {
      client.off('disconnected', lost);
      resolve();
    };
    const lost = () => {
      client.off('readyToSend', ready);
      reject(new CliError('Error: The connection was lost.', CliErrorCode.ConnectionLost));
    };
    client.once('readyToSend', ready);
    client.once('disconnected', lost);
  });
}

/** A publish failure in mosquitto's words ("Publish 3 failed: Not authorized."). */
export function publishFailure(err: unknown, n: number): CliError {
  if (err instanceof MqttClientError && err.code === 'ERR_PUBLISH_FAILED' && err.reasonCode !== undefined) {
    const name = reasonCodeName(err.reasonCode, 'puback', 5) ?? `reason code ${err.reasonCode}`;
    return new CliError(`Error: Publish ${n} failed: ${name}.`, CliErrorCode.Publish, 1, { cause: err });
  }
  if (err instanceof CliError) return err;
  return new CliError(`Error: Publish ${n} failed: ${(err as Error)?.message ?? String(err)}`, CliErrorCode.Publish, 1, { cause: err });
}

async function loadPayload(c: PubConfig, io: Io): Promise<Buffer> {
  switch (c.mode) {
    case 'message':
      return Buffer.from(c.message ?? '', 'utf8');
    case 'null':
      return Buffer.alloc(0);
    case 'file': {
      let data: Buffer;
      try {
        data = readFileSync(c.file!);
      } catch {
        throw new CliError(`Error: Unable to open file "${c.file}".`, CliErrorCode.Input);
      }
      if (data.length > MAX_PAYLOAD) throw new CliError(`Error: File must be less than ${MAX_PAYLOAD} bytes.`, CliErrorCode.Input);
      return data;
    }
    case 'stdin': {
      const data = await readAll(io.stdin);
      if (data.length > MAX_PAYLOAD)
        throw new CliError(`Error: Message length must be less than ${MAX_PAYLOAD} bytes.`, CliErrorCode.Input);
      return data;
    }
    default:
      return Buffer.alloc(0);
  }
}

/**
 * Keeps at most `limit` QoS 1/2 publishes in flight (-M) and remembers the first failure;
 * QoS 0 publishes wait for the transport to drain instead.
 */
class Publisher {
  readonly #pending = new Set<Promise<void>>();
  #sent = 0;
  failure: CliError | undefined;

  constructor(
    private readonly client: MqttClient,
    private readonly topic: string,
    private readonly options: PublishOptions,
    private readonly limit: number,
  ) {}

  async send(payload: Uint8Array): Promise<void> {
    const n = ++this.#sent;
    const result = this.client.publish(this.topic, payload, this.options);
    if ((this.options.qos ?? 0) === 0) {
      await result.catch((err: unknown) => {
        this.failure ??= publishFailure(err, n);
      });
      await waitReady(this.client);
      return;
    }
    const tracked: Promise<void> = result.then(
      () => {
        this.#pending.delete(tracked);
      },
      (err: unknown) => {
        this.#pending.delete(tracked);
        this.failure ??= publishFailure(err, n);
      },
    );
    this.#pending.add(tracked);
    if (this.#pending.size >= this.limit) await Promise.race(this.#pending);
  }

  async flush(): Promise<void> {
    await Promise.all(this.#pending);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Runs `pub`; resolves with the exit code or throws a {@link CliError}. */
export async function runPub(c: PubConfig, io: Io): Promise<number> {
  // mosquitto_pub reads -f and -s input before connecting; -l streams after.
  const payload = c.mode === 'lines' ? undefined : await loadPayload(c, io);
  const client = createClient(c, io.stdout);
  await connectOrFail(client, c);
  const options: PublishOptions = { qos: c.qos, retain: c.retain };
  if (c.protocolVersion === 5 && c.properties.publish) options.properties = c.properties.publish;
  const publisher = new Publisher(client, c.topic, options, c.maxInflight);
  try {
    if (payload === undefined) {
      for await (const line of readLines(io.stdin)) {
        await publisher.send(line);
        if (publisher.failure) break;
      }
    } else {
      for (let i = 0; i < c.repeat && !publisher.failure; i++) {
        await publisher.send(payload);
        if (c.repeat > 1) {
          // --repeat publishes the next copy once the previous one completed, as mosquitto_pub.
          await publisher.flush();
          if (c.repeatDelayMs > 0 && i < c.repeat - 1) await sleep(c.repeatDelayMs);
        }
      }
    }
    await publisher.flush();
  } catch (err) {
    publisher.failure ??= err instanceof CliError ? err : publishFailure(err, 0);
  }
  if (client.connected) {
    const props = c.protocolVersion === 5 ? c.properties.disconnect : undefined;
    await client.disconnect(props ? { properties: props } : {}).catch(() => {});
  } else {
    client.interrupt();
  }
  if (publisher.failure) throw publisher.failure;
  return 0;
}
