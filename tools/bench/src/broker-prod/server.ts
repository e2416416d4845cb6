// One broker process of the broker-prod suite:
//   node server.js <port> memory | durable <dir> | none | cluster <redis url> <node id>
import { createDurableStorage, MemoryStorage, MqttBroker } from '@iotwire/mqtt-broker';

const [port, mode, arg, nodeId] = process.argv.slice(2);
const storage =
  mode === 'memory' ? new MemoryStorage() : mode === 'durable' ? await createDurableStorage({ directory: arg as string }) : undefined;
const broker = new MqttBroker({
  logLevel: 0,
  ...(storage ? { storage } : {}),
  ...(mode === 'cluster' ? { cluster: { redis: arg as string, ...(nodeId ? { nodeId } : {}) } } : {}),
});
broker.on('error', (e) => process.stderr.write(`broker error: ${e.description}\n`));
broker.addBrokerListener({ protocol: 'tcp', host: '127.0.0.1', port: Number(port) });
await broker.startListening();
console.log(`ready ${port}`);
const stop = () => void broker.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
