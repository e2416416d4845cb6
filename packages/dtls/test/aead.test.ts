import { createDecipheriv } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RecordCipher } from '../src/aead.js';
import { CIPHER_SUITES, cipherSuiteByName } from '../src/cipher-suites.js';
import { parseRecords, recordSize, type WriteState, writeRecord } from '../src/record-codec.js';
import { ContentType, DTLS_1_2 } from '../src/record-header.js';

const ccm8 = cipherSuiteByName('TLS_PSK_WITH_AES_128_CCM_8')!;

describe('AEAD record protection', () => {
  it('CCM-8 record: explicit nonce = epoch‖seq, 16 bytes of expansion, decryptable per RFC 6655 by hand', () => {
    const key = Buffer.alloc(16, 0x11);
    const salt = Buffer.from([1, 2, 3, 4]);
    const state: WriteState = { epoch: 1, seq: 0x0102_0304_0506, cipher: new RecordCipher(ccm8, key, salt) };
    const pt = Buffer.from('hello');
    const out = Buffer.alloc(recordSize(state, pt.length));
    expect(out.length).toBe(13 + 5 + 16);
    writeRecord(out, 0, state, ContentType.ApplicationData, pt);
    expect([...out.subarray(0, 13)]).toEqual([23, 0xfe, 0xfd, 0, 1, 1, 2, 3, 4, 5, 6, 0, 21]);
    expect([...out.subarray(13, 21)]).toEqual([0, 1, 1, 2, 3, 4, 5, 6]);
    // Independent decryption: nonce = salt ‖ explicit, AAD = seq64 ‖ type ‖ version ‖ plaintext length.
    const nonce = Buffer.concat([salt, out.subarray(13, 21)]);
    const aad = Buffer.from([0, 1, 1, 2, 3, 4, 5, 6, 23, 0xfe, 0xfd, 0, 5]);
    const d = createDecipheriv('aes-128-ccm', key, nonce, { authTagLength: 8 });
    d.setAuthTag(out.subarray(26));
    d.setAAD(aad, { plaintextLength: 5 });
    const got = d.update(out.subarray(21, 26));
    d.final();
    expect(got.toString()).toBe('hello');
    expect(state.seq).toBe(0x0102_0304_0507);
  });

  it('ChaCha20-Poly1305 carries no explicit nonce and XORs the sequence into the IV (RFC 7905)', () => {
    const s = cipherSuiteByName('TLS_PSK_WITH_CHACHA20_POLY1305_SHA256')!;
    const c = new RecordCipher(s, Buffer.alloc(32, 3), Buffer.alloc(12, 0xf0));
    expect(c.overhead).toBe(16);
    const key = Buffer.alloc(32, 3);
    const out = Buffer.alloc(4 + 16);
    c.sealInto(1, 7, 23, DTLS_1_2, Buffer.from('data'), out, 0);
    const nonce = Buffer.alloc(12, 0xf0);
    nonce[5]! ^= 1; // epoch 1 in the high bytes of seq64
    nonce[11]! ^= 7;
    const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: 16 });
    d.setAAD(Buffer.from([0, 1, 0, 0, 0, 0, 0, 7, 23, 0xfe, 0xfd, 0, 4]), { plaintextLength: 4 });
    d.setAuthTag(out.subarray(4));
    expect(Buffer.concat([d.update(out.subarray(0, 4)), d.final()]).toString()).toBe('data');
  });

  for (const suite of CIPHER_SUITES) {
    it(`${suite.name}: round-trips and rejects any tampering`, () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 300 }),
          fc.integer({ min: 0, max: 0xffff }),
          fc.integer({ min: 0, max: 2 ** 48 - 1 }),
          fc.nat(),
          (pt, epoch, seq, flip) => {
            const key = Buffer.alloc(suite.keyLength, 9);
            const iv = Buffer.alloc(suite.fixedIvLength, 4);
            const tx = new RecordCipher(suite, key, iv);
            const rx = new RecordCipher(suite, key, iv);
            const out = Buffer.alloc(pt.length + tx.overhead);
            expect(tx.sealInto(epoch, seq, 23, DTLS_1_2, pt, out, 0)).toBe(out.length);
            expect(rx.open(epoch, seq, 23, DTLS_1_2, out)).toEqual(Buffer.from(pt));
            const bad = Buffer.from(out);
            bad[flip % bad.length]! ^= 0x01;
            expect(rx.open(epoch, seq, 23, DTLS_1_2, bad)).toBeUndefined();
            // Header fields are authenticated too (AAD): wrong seq, epoch or type fails.
            expect(rx.open(epoch, (seq + 1) % 2 ** 48, 23, DTLS_1_2, out)).toBeUndefined();
            expect(rx.open(epoch ^ 1, seq, 23, DTLS_1_2, out)).toBeUndefined();
            expect(rx.open(epoch, seq, 22, DTLS_1_2, out)).toBeUndefined();
            expect(rx.open(epoch, seq, 23, DTLS_1_2, out.subarray(0, tx.overhead - 1))).toBeUndefined();
          },
        ),
        { numRuns: 40 },
      );
    });
  }
});

describe('record framing', () => {
  const frame = (type: number, version: number, epoch: number, seq: number, body: number[]) =>
    Buffer.from([type, version >> 8, version & 0xff, epoch >> 8, epoch & 0xff, 0, 0, 0, 0, 0, seq, 0, body.length, ...body]);

  it('splits several records in one datagram', () => {
    const d = Buffer.concat([frame(22, DTLS_1_2, 0, 1, [1, 2]), frame(20, DTLS_1_2, 0, 2, [1])]);
    const got: number[] = [];
    expect(
      parseRecords(
        d,
        (r) => got.push(r.type, r.sequence, r.fragment.length),
        () => {},
      ),
    ).toBe('ok');
    expect(got).toEqual([22, 1, 2, 20, 2, 1]);
  });

  const table: [string, Buffer, 'ok' | 'truncated', number][] = [
    ['short header', Buffer.from([22, 0xfe, 0xfd, 0]), 'truncated', 0],
    ['length past the end', frame(22, DTLS_1_2, 0, 1, [1, 2, 3]).subarray(0, 15), 'truncated', 0],
    ['unknown content type', frame(99, DTLS_1_2, 0, 1, [1]), 'ok', 1],
    ['TLS version', frame(22, 0x0303, 0, 1, [1]), 'ok', 1],
    ['DTLS 1.0 version after epoch 0', frame(23, 0xfeff, 1, 1, [1]), 'ok', 1],
  ];
  for (const [name, d, outcome, invalid] of table) {
    it(`drops ${name}`, () => {
      let bad = 0;
      let good = 0;
      expect(
        parseRecords(
          d,
          () => good++,
          () => bad++,
        ),
      ).toBe(outcome);
      expect(bad).toBe(invalid);
      expect(good).toBe(0);
    });
  }

  it('a bad record does not hide the next one', () => {
    const d = Buffer.concat([frame(99, DTLS_1_2, 0, 1, [1]), frame(21, DTLS_1_2, 0, 2, [1, 0])]);
    const types: number[] = [];
    parseRecords(
      d,
      (r) => types.push(r.type),
      () => {},
    );
    expect(types).toEqual([21]);
  });
});
