#!/usr/bin/env node
// Runs Aedes (npm) as a separate process so tests and benchmarks can treat it as a peer:
// node aedes-server.mjs <port> [host]. Prints "aedes listening <port>" when ready.
import net from 'node:net';
import { Aedes } from 'aedes';

const port = Number(process.argv[2] ?? 1883);
const host = process.argv[3] ?? '127.0.0.1';
const aedes = await Aedes.createBroker();
const server = net.createServer(aedes.handle);
server.listen(port, host, () => console.log(`aedes listening ${port}`));
const stop = () => server.close(() => aedes.close(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
