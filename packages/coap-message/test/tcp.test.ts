import { describe, expect, it } from 'vitest';
import {
  CoapMessageError,
  decodeTcpFrame,
  decodeWs,
  encodeTcp,
  encodeUint,
  encodeWs,
  SignalCode,
  SignalOption,
  signalOptionName,
  TcpFrameReader,
} from '../src/index.js';

describe('RFC 8323 framing', () => {
  it('encodes a CSM with Max-Message-Size 1152 (§5.3.1)', () => {
    const csm = {
      code: SignalCode.CSM,
      token: new Uint8Array(0),
      options: [{ number: SignalOption.MaxMessageSize, value: encodeUint(1152) }],
      payload: new Uint8Array(0),
    };
    // Len = 3 (option header + 2 value bytes), TKL 0; code 7.01 = 0xe1; option delta 2 length 2.
    expect(encodeTcp(csm).toString('hex')).toBe('30e1220480');
  });

  it('encodes an empty Ping and a Pong with Custody', () => {
    expect(encodeTcp({ code: SignalCode.Ping, token: new Uint8Array(0), options: [], payload: new Uint8Array(0) }).toString('hex')).toBe(
      '00e2',
    );
    expect(
      encodeTcp({
        code: SignalCode.Pong,
        token: Uint8Array.of(0x42),
        options: [{ number: SignalOption.Custody, value: new Uint8Array(0) }],
        payload: new Uint8Array(0),
      }).toString('hex'),
    ).toBe('11e34220');
  });

  it.each([
    [12, 0, 'c'],
    [13, 1, 'd'],
    [268, 1, 'd'],
    [269, 2, 'e'],
    [65804, 2, 'e'],
    [65805, 4, 'f'],
  ])('uses the right extended length for a body of %i bytes', (bodyLen, ext, nibble) => {
    const payload = new Uint8Array(bodyLen - 1).fill(0x61);
    const b = encodeTcp({ code: 0x45, token: new Uint8Array(0), options: [], payload });
    expect(b.length).toBe(1 + ext + 1 + bodyLen);
    expect(b.toString('hex')[0]).toBe(nibble);
    expect(decodeTcpFrame(b)?.message.payload.length).toBe(bodyLen - 1);
  });

  it('reassembles frames split at every byte and several frames per chunk', () => {
    const a = encodeTcp({
      code: 1,
      token: Uint8Array.of(1, 2),
      options: [{ number: 11, value: Buffer.from('time') }],
      payload: new Uint8Array(0),
    });
    const b = encodeTcp({ code: 0x45, token: Uint8Array.of(1, 2), options: [], payload: Buffer.alloc(300, 7) });
    const stream = Buffer.concat([a, b, a]);
    for (let split = 0; split <= stream.length; split++) {
      const r = new TcpFrameReader(2000);
      const got = [...r.push(stream.subarray(0, split)), ...r.push(stream.subarray(split))];
      expect(got.map((m) => m.code)).toEqual([1, 0x45, 1]);
      expect(r.bufferedBytes).toBe(0);
    }
  });

  it('refuses a frame over the limit before buffering it', () => {
    const big = encodeTcp({ code: 2, token: new Uint8Array(0), options: [], payload: Buffer.alloc(5000) });
    const r = new TcpFrameReader(1152);
    expect(() => r.push(big.subarray(0, 10))).toThrow(expect.objectContaining({ code: 'ERR_COAP_FRAME_TOO_LARGE' }));
  });

  it('rejects a reserved token length', () => {
    expect(() => decodeTcpFrame(Buffer.from('09e2', 'hex'))).toThrow(CoapMessageError);
  });

  it('frames WebSocket messages with a zero length nibble (§4.2)', () => {
    const m = { code: 1, token: Uint8Array.of(0xab), options: [{ number: 11, value: Buffer.from('a') }], payload: Buffer.from('x') };
    expect(encodeWs(m).toString('hex')).toBe('0101abb161ff78');
    expect(decodeWs(encodeWs(m)).options[0]?.number).toBe(11);
    expect(() => decodeWs(Buffer.from('1101ab', 'hex'))).toThrow(expect.objectContaining({ code: 'ERR_COAP_FIELD' }));
  });

  it('names signaling options by their signal', () => {
    expect(signalOptionName(SignalCode.CSM, 2)).toBe('Max-Message-Size');
    expect(signalOptionName(SignalCode.CSM, 4)).toBe('Block-Wise-Transfer');
    expect(signalOptionName(SignalCode.Ping, 2)).toBe('Custody');
    expect(signalOptionName(SignalCode.Release, 2)).toBe('Alternative-Address');
    expect(signalOptionName(SignalCode.Release, 4)).toBe('Hold-Off');
    expect(signalOptionName(SignalCode.Abort, 2)).toBe('Bad-CSM-Option');
  });
});
