import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteReader } from '../src/bytes.js';
import { DtlsError } from '../src/errors.js';
import { ext, parseExtensions } from '../src/extensions.js';
import {
  decodeCertificateList,
  decodeCertificateRequest,
  decodeClientHello,
  decodeClientKeyExchange,
  decodeDigitallySigned,
  decodeHelloVerifyRequest,
  decodeRawPublicKey,
  decodeServerHello,
  decodeServerKeyExchange,
  encodeClientHello,
  readHandshakeFragments,
} from '../src/handshake-messages.js';
import { DtlsClient, DtlsServer } from '../src/index.js';
import { next } from './helpers/pair.js';
import { PipeNetwork } from './helpers/pipe.js';
import { hvrCookie, prng, rawClientHello } from './helpers/raw.js';

const decoders: [string, (b: Buffer) => unknown][] = [
  ['fragments', readHandshakeFragments],
  ['ClientHello', decodeClientHello],
  ['ServerHello', decodeServerHello],
  ['HelloVerifyRequest', decodeHelloVerifyRequest],
  ['Certificate', decodeCertificateList],
  ['raw public key', decodeRawPublicKey],
  ['CertificateRequest', decodeCertificateRequest],
  ['ServerKeyExchange ECDHE_ECDSA', (b) => decodeServerKeyExchange('ECDHE_ECDSA', b)],
  ['ServerKeyExchange ECDHE_PSK', (b) => decodeServerKeyExchange('ECDHE_PSK', b)],
  ['ClientKeyExchange ECDHE_PSK', (b) => decodeClientKeyExchange('ECDHE_PSK', b)],
  ['DigitallySigned', decodeDigitallySigned],
  ['extensions', (b) => parseExtensions(new ByteReader(b))],
  ['server_name', (b) => ext.parseServerName(b)],
  ['supported_groups', (b) => ext.parseSupportedGroups(b)],
];

const validHello = encodeClientHello({
  version: 0xfefd,
  random: Buffer.alloc(32, 1),
  sessionId: Buffer.alloc(3, 2),
  cookie: Buffer.alloc(5, 3),
  cipherSuites: [0xc0a8, 0xc0ae],
  compressionMethods: [0],
  extensions: [ext.supportedGroups([23, 29]), ext.serverName('x.example'), ext.extendedMasterSecret()],
});

/** A byte string, or a mutation of a valid hello (bit flips, truncation, insertion). */
const arbInput = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)),
  fc
    .tuple(fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(), fc.boolean())
    .map(([flips, cut, trunc]) => {
      const b = Buffer.from(validHello);
      for (const [at, v] of flips) b[at % b.length] = v;
      return trunc ? b.subarray(0, cut % b.length) : b;
    }),
);

describe('decoders under random and mutated input', () => {
  for (const [name, decode] of decoders) {
    it(`${name}: returns or throws a DtlsError, nothing else`, () => {
      fc.assert(
        fc.property(arbInput, (b) => {
          try {
            decode(b);
          } catch (err) {
            expect(err).toBeInstanceOf(DtlsError);
          }
        }),
        { numRuns: 400 },
      );
    });
  }
});

describe('endpoints under hostile traffic', () => {
  it('a server fed mutated handshake records after a valid cookie exchange stays healthy and bounded', async () => {
    const net = new PipeNetwork();
    const ep = net.endpoint(5684);
    const server = new DtlsServer({ endpoint: ep, psk: { keys: { a: 'b' } }, maxSessions: 50, handshakeTimeoutMs: 2000 });
    await server.bind();
    const rand = prng(1234);
    const errors: DtlsError[] = [];
    server.on('handshakeError', (e) => errors.push(e));
    const replies: Buffer[] = [];
    net.filter = (d) => {
      replies.push(d);
      return [];
    };
    for (let i = 0; i < 120; i++) {
      const me = { address: `10.2.0.${i % 200}`, port: 5000 + i, family: 'IPv4' as const };
      const random = Buffer.alloc(32, i);
      net.inject(rawClientHello({ random }), me, ep.addr);
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      const cookie = hvrCookie(replies.at(-1)!)!;
      const good = rawClientHello({ random, cookie, recordSeq: 1, messageSeq: 1 });
      net.inject(good, me, ep.addr);
      // Then garbage in the same association: mutated copies of handshake records.
      for (let k = 0; k < 5; k++) {
        const m = Buffer.from(good);
        for (let f = 0; f < 4; f++) m[13 + Math.floor(rand() * (m.length - 13))] = Math.floor(rand() * 256);
        m.writeUInt16BE(0, 5);
        m.writeUInt32BE(2 + k, 7);
        m[13 + 4] = 0;
        m[13 + 5] = 2 + k; // message_seq past the hello
        net.inject(m, me, ep.addr);
      }
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(server.sessionCount).toBeLessThanOrEqual(50);
    // Failures are protocol errors with proper alerts, never internal errors (bugs).
    expect(errors.filter((e) => e.alert === 80)).toEqual([]);
    // A legitimate client still gets through.
    net.filter = (d) => [d];
    const client = new DtlsClient({ endpoint: net.endpoint(45000), psk: { identity: 'a', key: 'b' } });
    await client.connect(ep.addr);
    await client.close();
    await server.close();
  });

  it('a client facing a server that answers with garbage fails cleanly', async () => {
    const net = new PipeNetwork();
    const fakeServer = net.endpoint(5684);
    await fakeServer.bind();
    const rand = prng(99);
    fakeServer.on('message', (d, from) => {
      // Echo the hello back with random mutations (a confused or hostile server).
      const m = Buffer.from(d);
      for (let f = 0; f < 6; f++) m[Math.floor(rand() * m.length)] = Math.floor(rand() * 256);
      m[0] = 22;
      void fakeServer.send(m, from);
    });
    const client = new DtlsClient({
      endpoint: net.endpoint(45001),
      psk: { identity: 'a', key: 'b' },
      retransmit: { initialMs: 20, maxRetransmissions: 3 },
      handshakeTimeoutMs: 3000,
    });
    const failed = next<[DtlsError]>(client, 'handshakeError');
    await expect(client.connect(fakeServer.addr)).rejects.toBeInstanceOf(DtlsError);
    expect((await failed)[0].alert).not.toBe(80);
    expect(client.sessionCount).toBe(0);
    await client.close();
  });
});
