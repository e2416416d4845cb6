import net from 'node:net';
import tls from 'node:tls';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientHelloCollector, parseClientHelloBody, signatureSchemeName, TlsError } from '../src/index.js';

/** Captures the first bytes a real TLS client sends (its ClientHello) on a loopback socket. */
export async function captureClientHello(connect: (port: number) => void | Promise<void>): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  const got = new Promise<Buffer>((resolve) => {
    server.once('connection', (s) => {
      const chunks: Buffer[] = [];
      const collector = new ClientHelloCollector();
      s.on('data', (d: Buffer) => {
        chunks.push(d);
        if (collector.push(d)) {
          resolve(Buffer.concat(chunks));
          s.destroy();
        }
      });
    });
  });
  await connect(port);
  const bytes = await got;
  server.close();
  return bytes;
}

function nodeHello(options: tls.ConnectionOptions): Promise<Buffer> {
  return captureClientHello((port) => {
    const c = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options });
    c.on('error', () => {});
  });
}

describe('ClientHello reader', () => {
  it('reads cipher suites, signature algorithms, SNI, groups and ALPN from Node’s hello', async () => {
    const hello = await nodeHello({
      servername: 'device.example',
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:TLS_AES_128_GCM_SHA256',
      sigalgs: 'ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256',
      ALPNProtocols: ['mqtt'],
      ecdhCurve: 'P-256:X25519',
    });
    const info = new ClientHelloCollector().push(hello)!;
    expect(info.serverName).toBe('device.example');
    expect(info.cipherSuiteNames).toContain('TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256');
    expect(info.cipherSuiteNames).toContain('TLS_AES_128_GCM_SHA256');
    expect(info.signatureAlgorithmNames).toEqual(['ecdsa_secp256r1_sha256', 'rsa_pss_rsae_sha256']);
    expect(info.alpnProtocols).toEqual(['mqtt']);
    expect(info.supportedGroups).toEqual([0x0017, 0x001d]);
    expect(info.supportedVersions).toContain(0x0304);
    expect(info.legacyVersion).toBe(0x0303);
  });

  it('copes with the hello arriving one byte at a time', async () => {
    const hello = await nodeHello({ servername: 'a.b' });
    const c = new ClientHelloCollector();
    let info: ReturnType<ClientHelloCollector['push']>;
    for (let i = 0; i < hello.length; i++) {
      info = c.push(hello.subarray(i, i + 1));
      if (i < hello.length - 1) expect(info).toBeUndefined();
    }
    expect(info!.serverName).toBe('a.b');
    expect(c.bytes.equals(hello)).toBe(true);
  });

  it('reads a hello split over two records', async () => {
    const hello = await nodeHello({});
    const body = hello.subarray(5);
    const cut = 40;
    const rec = (b: Buffer) => Buffer.concat([Buffer.from([22, 3, 1, b.length >> 8, b.length & 0xff]), b]);
    const info = new ClientHelloCollector().push(Buffer.concat([rec(body.subarray(0, cut)), rec(body.subarray(cut))]));
    expect(info?.cipherSuites.length).toBeGreaterThan(0);
  });

  it.each([
    ['plaintext on a TLS port', Buffer.from('GET / HTTP/1.1\r\n\r\n')],
    ['MQTT CONNECT on a TLS port', Buffer.from('101000044d5154540402003c0000', 'hex')],
    ['bad record version', Buffer.from('1609010005010000010303', 'hex')],
    ['zero-length record', Buffer.from('1603010000', 'hex')],
    ['not a ClientHello', Buffer.from('16030100050200000100', 'hex')],
    ['oversized hello', Buffer.from('160301000401ffffff', 'hex')],
  ])('rejects %s with TlsError 276', (_n, bytes) => {
    expect(() => new ClientHelloCollector().push(bytes)).toThrow(expect.objectContaining({ code: 276 }));
  });

  it('rejects a hello truncated inside its body', () => {
    // A record that claims a full hello but whose body is cut short.
    const body = Buffer.from('01000006030300', 'hex'); // length 6 but only 3 bytes of body follow
    expect(() => parseClientHelloBody(body.subarray(4))).toThrow(TlsError);
  });

  it('never throws anything but TlsError on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, asRecord) => {
        const b = Buffer.from(bytes);
        const input = asRecord
          ? Buffer.concat([Buffer.from([22, 3, 3, b.length >> 8, b.length & 0xff, 1, 0, (b.length - 4) >> 8, (b.length - 4) & 0xff]), b])
          : b;
        try {
          new ClientHelloCollector().push(input);
        } catch (e) {
          expect(e).toBeInstanceOf(TlsError);
        }
      }),
    );
  });

  it('names signature schemes', () => {
    expect(signatureSchemeName(0x0807)).toBe('ed25519');
    expect(signatureSchemeName(0x1234)).toBe('0x1234');
  });
});
