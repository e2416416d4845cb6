// node-coap (npm `coap`) serving the same /time resource as `iotwire-coap serve` and libcoap's
// coap-server, for the CoAP benchmark. `node node-coap-server.js <port>`; prints "ready".
import { createRequire } from 'node:module';
import { formatClock } from '@iotwire/coap-cli';

interface NodeCoapResponse {
  setOption(name: string, value: unknown): void;
  end(body?: string): void;
  code: string;
}
const coap = createRequire(import.meta.url)('coap') as {
  createServer(opts: object): {
    on(e: 'request', cb: (req: { url: string }, res: NodeCoapResponse) => void): void;
    listen(port: number, host: string, cb: () => void): void;
  };
};

const server = coap.createServer({ type: 'udp4' });
server.on('request', (req, res) => {
  if (req.url === '/time') {
    res.setOption('Max-Age', 1);
    res.end(formatClock(Math.floor(Date.now() / 1000)));
  } else {
    res.code = '4.04';
    res.end();
  }
});
server.listen(Number(process.argv[2]), '127.0.0.1', () => process.stdout.write('ready\n'));
