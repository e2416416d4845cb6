import { describe, expect, it } from 'vitest';
import {
  CONNACK_RETURN_CODE_NAMES,
  ConnackReturnCode,
  connackReturnCodeFor,
  isValidReasonCode,
  REASON_CODE_NAMES,
  ReasonCode,
  reasonCodeName,
  reasonCodesFor,
  SUBACK_RETURN_CODE_NAMES,
  SubackReturnCode,
  subackReturnCodeFor,
} from '../src/index.js';

describe('reason codes', () => {
  it('names every MQTT 5.0 reason code (5.0 §2.4 Table 2-6)', () => {
    const values = [...new Set(Object.values(ReasonCode))].sort((a, b) => a - b);
    expect(values).toEqual([
      0x00, 0x01, 0x02, 0x04, 0x10, 0x11, 0x18, 0x19, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d,
      0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
    ]);
    for (const v of values) expect(REASON_CODE_NAMES[v], `0x${v.toString(16)}`).toBeTypeOf('string');
    expect(REASON_CODE_NAMES[0x95]).toBe('Packet too large');
  });

  it('names the 3.1.1 CONNACK and SUBACK return codes', () => {
    expect(Object.values(ConnackReturnCode)).toEqual([0, 1, 2, 3, 4, 5]);
    for (const v of Object.values(ConnackReturnCode)) expect(CONNACK_RETURN_CODE_NAMES[v]).toMatch(/^Connection/);
    expect(Object.values(SubackReturnCode)).toEqual([0, 1, 2, 0x80]);
    expect(SUBACK_RETURN_CODE_NAMES[0x80]).toBe('Failure');
  });

  it('gives the per-packet name of shared values', () => {
    expect(reasonCodeName(0x00, 'disconnect')).toBe('Normal disconnection');
    expect(reasonCodeName(0x00, 'suback')).toBe('Granted QoS 0');
    expect(reasonCodeName(0x00, 'puback')).toBe('Success');
    expect(reasonCodeName(0x02, 'connack', 4)).toBe('Connection Refused, identifier rejected');
    expect(reasonCodeName(0x80, 'suback', 4)).toBe('Failure');
    expect(reasonCodeName(0x03)).toBeUndefined();
  });

  // The "Reason Code values" tables of 5.0 §3.2.2.2, §3.4.2.1, §3.5.2.1, §3.6.2.1, §3.7.2.1,
  // §3.9.3, §3.11.3, §3.14.2.1 and §3.15.2.1.
  it.each([
    [
      'connack',
      [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90, 0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f],
    ],
    ['puback', [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]],
    ['pubrec', [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]],
    ['pubrel', [0x00, 0x92]],
    ['pubcomp', [0x00, 0x92]],
    ['suback', [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2]],
    ['unsuback', [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91]],
    [
      'disconnect',
      [
        0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b,
        0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2,
      ],
    ],
    ['auth', [0x00, 0x18, 0x19]],
  ] as const)('%s accepts exactly its 5.0 codes', (type, codes) => {
    expect(reasonCodesFor(type, 5)).toEqual(codes);
  });

  it('3.1/3.1.1 codes', () => {
    expect(reasonCodesFor('connack', 4)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(reasonCodesFor('suback', 4)).toEqual([0, 1, 2, 0x80]);
    expect(isValidReasonCode('puback', 0, 4)).toBe(false);
  });

  it('maps 5.0 codes to 3.1.1 return codes', () => {
    expect(connackReturnCodeFor(ReasonCode.UnsupportedProtocolVersion)).toBe(ConnackReturnCode.UnacceptableProtocolVersion);
    expect(connackReturnCodeFor(ReasonCode.ClientIdentifierNotValid)).toBe(ConnackReturnCode.IdentifierRejected);
    expect(connackReturnCodeFor(ReasonCode.BadUserNameOrPassword)).toBe(ConnackReturnCode.BadUserNameOrPassword);
    expect(connackReturnCodeFor(ReasonCode.NotAuthorized)).toBe(ConnackReturnCode.NotAuthorized);
    expect(connackReturnCodeFor(ReasonCode.ServerBusy)).toBe(ConnackReturnCode.ServerUnavailable);
    expect(connackReturnCodeFor(4)).toBe(4);
    expect(subackReturnCodeFor(ReasonCode.QuotaExceeded)).toBe(0x80);
    expect(subackReturnCodeFor(ReasonCode.GrantedQoS2)).toBe(2);
  });
});
