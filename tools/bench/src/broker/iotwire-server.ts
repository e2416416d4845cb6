// Runs @iotwire/mqtt-broker in its own process for the benchmark: node iotwire-server.js <port>.
import { MqttBroker } from '@iotwire/mqtt-broker';

const port = Number(process.argv[2] ?? 1883);
const broker = new MqttBroker({ logLevel: 0, limits: { maxConnections: 100_000 } });
broker.addBrokerListener({ protocol: 'tcp', host: '127.0.0.1', port });
await broker.startListening();
console.log(`iotwire listening ${port}`);
const stop = () => void broker.close().then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
