import { afterEach } from 'vitest';
import { type BrokerListenerOptions, type BrokerOptions, MqttBroker } from '../../src/index.js';

const running: MqttBroker[] = [];

afterEach(async () => {
  for (const b of running.splice(0)) await b.close();
});

/** A broker on 127.0.0.1 with one TCP listener on a free port (closed after the test). */
export async function startBroker(
  options: BrokerOptions = {},
  listeners: BrokerListenerOptions[] = [{ protocol: 'tcp', host: '127.0.0.1', port: 0 }],
): Promise<{ broker: MqttBroker; port: number; ports: number[] }> {
  const broker = new MqttBroker(options);
  for (const l of listeners) broker.addBrokerListener(l);
  await broker.startListening();
  running.push(broker);
  const ports = broker.brokerListeners.map((l) => l.port);
  return { broker, port: ports[0] as number, ports };
}

/** Resolves with the next event of `name` that passes `filter`. */
export function nextEvent<T>(emitter: MqttBroker, name: string, filter: (e: T) => boolean = () => true, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(name as never, on as never);
      reject(new Error(`no ${name} within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (e: T) => {
      if (!filter(e)) return;
      clearTimeout(timer);
      emitter.off(name as never, on as never);
      resolve(e);
    };
    emitter.on(name as never, on as never);
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
