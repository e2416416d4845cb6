// The DatagramEndpoint seam with the real @iotwire/dtls endpoints: CoAP runs over DTLS unchanged.
import { DtlsClient, DtlsServer } from '@iotwire/dtls';
import { describe, expect, it } from 'vitest';
import { CoapClient, CoapServer } from '../src/index.js';

describe('CoAP over @iotwire/dtls (PSK)', () => {
  it('GET, block-wise and observe over coaps://, matched per DTLS session', async () => {
    const server = new CoapServer({
      endpoint: new DtlsServer({ host: '127.0.0.1', port: 0, psk: { keys: { me: 'secretPSK' } } }),
      scheme: 'coaps',
      closeEndpoint: true,
    });
    const big = Buffer.alloc(3000, 0x61);
    server.resource('/hello', { get: (req) => ({ payload: `hello over ${req.securityContext === undefined ? 'plaintext' : 'DTLS'}` }) });
    server.resource('/big', { get: () => ({ payload: big }) });
    let n = 0;
    server.resource('/obs', { observable: true, get: () => ({ payload: `n${n}` }) });
    const { port } = await server.listen();
    const client = new CoapClient({
      secureEndpoint: new DtlsClient({ host: '127.0.0.1', psk: { identity: 'me', key: 'secretPSK' } }),
      closeEndpoints: true,
      timeoutMs: 10_000,
    });
    try {
      const base = `coaps://127.0.0.1:${port}`;
      const r = await client.get(`${base}/hello`);
      expect(r.text()).toBe('hello over DTLS');
      expect(r.securityContext).toBeDefined();
      expect((await client.get(`${base}/big`)).payload.equals(big)).toBe(true);
      const seen: string[] = [];
      const obs = await client.observe(`${base}/obs`, (x) => {
        seen.push(x.response.text());
      });
      n++;
      server.notify('/obs');
      await expect.poll(() => seen).toEqual(['n0', 'n1']);
      await obs.cancel();
    } finally {
      await client.close();
      await server.close();
    }
  });
});
