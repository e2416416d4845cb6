import { describe, expect, it } from 'vitest';
import { cipherSuiteByName } from '../src/cipher-suites.js';
import { deriveKeyBlock, deriveMasterSecret, finishedVerifyData, keyLogLine, pskPremaster } from '../src/key-schedule.js';
import { prf } from '../src/prf.js';

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('TLS 1.2 PRF (P_SHA256, RFC 5246 §5)', () => {
  it('matches the published TLS 1.2 PRF-SHA256 test vector (also what `openssl kdf TLS1-PRF` prints)', () => {
    const out = prf(hex('9bbe436ba940f017b17652849a71db35'), 'test label', hex('a0ba9f936cda311827a6f796ffd5198c'), 100);
    expect(out.toString('hex')).toBe(
      'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66',
    );
  });

  it('is a prefix-stable stream (shorter output = prefix of longer)', () => {
    const a = prf(Buffer.from('k'), 'l', Buffer.from('s'), 17);
    const b = prf(Buffer.from('k'), 'l', Buffer.from('s'), 80);
    expect(b.subarray(0, 17)).toEqual(a);
  });

  it('master secret = PRF(premaster, "master secret", client_random ‖ server_random)[0..48]', () => {
    // Cross-checked with: openssl kdf -keylen 48 -kdfopt digest:SHA256 -kdfopt hexsecret:000400000000000473656372
    //   -kdfopt seed:"master secret" -kdfopt hexseed:0102 TLS1-PRF
    const ms = deriveMasterSecret(hex('000400000000000473656372'), hex('01'), hex('02'));
    expect(ms.toString('hex')).toBe('de48e9c2b2547f7b008ee30edce8176d4820e0bc96fdfe0cdbc530210231acdcc937d703e6709b83fe7fb561cdf2ecb5');
  });

  it('extended master secret uses the session hash and its own label (RFC 7627 §4)', () => {
    const pm = Buffer.alloc(32, 7);
    const hash = Buffer.alloc(32, 9);
    expect(deriveMasterSecret(pm, Buffer.alloc(32), Buffer.alloc(32), hash)).toEqual(prf(pm, 'extended master secret', hash, 48));
  });

  it('PSK premaster is uint16(N) ‖ 0^N ‖ uint16(N) ‖ psk (RFC 4279 §2), ECDHE_PSK puts the ECDH secret first (RFC 5489)', () => {
    expect(pskPremaster(Buffer.from('abc')).toString('hex')).toBe('0003000000' + '0003616263');
    expect(pskPremaster(Buffer.from('k'), Buffer.from([9, 9])).toString('hex')).toBe('00020909' + '00016b');
  });

  it('splits the AEAD key block without MAC keys (CCM-8: 2x16 key + 2x4 IV; ChaCha20: 2x32 + 2x12)', () => {
    const ms = Buffer.alloc(48, 1);
    const cr = Buffer.alloc(32, 2);
    const sr = Buffer.alloc(32, 3);
    const kb = deriveKeyBlock(cipherSuiteByName('TLS_PSK_WITH_AES_128_CCM_8')!, ms, cr, sr);
    const block = prf(ms, 'key expansion', Buffer.concat([sr, cr]), 40);
    expect(Buffer.concat([kb.clientWriteKey, kb.serverWriteKey, kb.clientWriteIv, kb.serverWriteIv])).toEqual(block);
    const kc = deriveKeyBlock(cipherSuiteByName('TLS_PSK_WITH_CHACHA20_POLY1305_SHA256')!, ms, cr, sr);
    expect([kc.clientWriteKey.length, kc.serverWriteKey.length, kc.clientWriteIv.length, kc.serverWriteIv.length]).toEqual([
      32, 32, 12, 12,
    ]);
  });

  it('Finished verify_data is 12 bytes with role labels', () => {
    const ms = Buffer.alloc(48, 5);
    const h = Buffer.alloc(32, 6);
    expect(finishedVerifyData(ms, 'client', h)).toEqual(prf(ms, 'client finished', h, 12));
    expect(finishedVerifyData(ms, 'server', h)).toEqual(prf(ms, 'server finished', h, 12));
  });

  it('key log lines use the NSS CLIENT_RANDOM format', () => {
    expect(keyLogLine(Buffer.alloc(32, 0xab), Buffer.alloc(48, 0x01))).toBe(`CLIENT_RANDOM ${'ab'.repeat(32)} ${'01'.repeat(48)}\n`);
  });
});
