// MQTT 5.0 §3.15 AUTH and §4.12 enhanced authentication.

import { describe, expect, it } from 'vitest';
import type { BrokerHook } from '../../../src/index.js';
import { cid, connect, RawClient, recordBytes, sendConnect, startBroker } from '../helpers.js';

const METHOD = 'TEST-CHALLENGE';
const AUTH_CODES = [0x00, 0x18, 0x19];

/** Challenge "nonce", expects "good" back; re-authentication likewise. */
const hook: BrokerHook = {
  authMethods: [METHOD],
  enhancedAuth(a) {
    if (a.step === 0) return { status: 'continue', data: Buffer.from('nonce') };
    return a.data?.toString() === 'good' ? { status: 'success', data: Buffer.from('final') } : { status: 'fail', reasonCode: 0x87 };
  },
};

/** Starts a CONNECT with the test's Authentication Method. */
function begin(port: number, maximumPacketSize?: number) {
  return sendConnect(port, 5, {
    clientId: cid('au'),
    properties: { authenticationMethod: METHOD, ...(maximumPacketSize ? { maximumPacketSize } : {}) },
  });
}

/** Answers the server's AUTH challenge with `data` (the hook accepts "good"). */
function answer(c: RawClient, data: string) {
  c.send({ type: 'auth', reasonCode: 0x18, properties: { authenticationMethod: METHOD, authenticationData: Buffer.from(data) } });
}

/** Asks for re-authentication (AUTH 0x19). */
function reauthenticate(c: RawClient) {
  c.send({ type: 'auth', reasonCode: 0x19, properties: { authenticationMethod: METHOD } });
}

describe('5.0 enhanced authentication', () => {
  it("[MQTT-4.12.0-2] [MQTT-4.12.0-5] [MQTT-3.15.2-1] the server's AUTH is 0x18 with the method; the successful CONNACK carries the method too", async () => {
    const { port } = await startBroker({ hooks: [hook] });
    const c = await begin(port);
    const challenge = await c.next('auth');
    expect(challenge.reasonCode).toBe(0x18);
    expect(challenge.properties?.authenticationMethod).toBe(METHOD);
    expect(Buffer.from(challenge.properties?.authenticationData ?? []).toString()).toBe('nonce');
    answer(c, 'good');
    const ack = await c.next('connack');
    expect(ack.reasonCode).toBe(0);
    expect(ack.properties?.authenticationMethod).toBe(METHOD);
    expect(Buffer.from(ack.properties?.authenticationData ?? []).toString()).toBe('final');
  });

  it('[MQTT-4.12.0-4] [MQTT-4.13.2-1] a rejected authentication: CONNACK 0x87 and a close', async () => {
    const { port } = await startBroker({ hooks: [hook] });
    const c = await begin(port);
    await c.next('auth');
    answer(c, 'bad');
    expect((await c.next('connack')).reasonCode).toBe(0x87);
    await c.expectClose();
  });

  it('[MQTT-4.12.0-1] an unsupported Authentication Method: CONNACK 0x8C and a close', async () => {
    const { port } = await startBroker({ hooks: [hook] });
    const c = await sendConnect(port, 5, { properties: { authenticationMethod: 'NOPE' } });
    expect((await c.next('connack')).reasonCode).toBe(0x8c);
    await c.expectClose();
  });

  it('[MQTT-4.12.0-6] without an Authentication Method in CONNECT: no AUTH from the server and none in CONNACK', async () => {
    const { port } = await startBroker({ hooks: [hook] });
    const c = await RawClient.open(port, 5);
    const rec = recordBytes(c);
    c.send({ type: 'connect', protocolVersion: 5, clean: true, keepAlive: 0, clientId: cid() });
    const ack = await c.next('connack');
    expect(ack.properties?.authenticationMethod).toBeUndefined();
    expect(rec.bytes()[0]).toBe(0x20);
    // An AUTH from such a client is a Protocol Error.
    c.send({ type: 'auth', reasonCode: 0x19, properties: { authenticationMethod: METHOD } });
    expect((await c.next('disconnect')).reasonCode).toBe(0x82);
    expect(await c.none('auth', 100)).toBe(true);
  });

  it('[MQTT-4.12.1-2] a failed re-authentication: DISCONNECT and a close; a successful one: AUTH 0x00 with the method', async () => {
    const { port } = await startBroker({ hooks: [hook] });
    const c = await begin(port);
    await c.next('auth');
    answer(c, 'good');
    await c.next('connack');
    reauthenticate(c);
    expect((await c.next('auth')).reasonCode).toBe(0x18);
    answer(c, 'good');
    const ok = await c.next('auth');
    expect([ok.reasonCode, ok.properties?.authenticationMethod]).toEqual([0, METHOD]);
    reauthenticate(c);
    await c.next('auth');
    answer(c, 'bad');
    expect((await c.next('disconnect')).reasonCode).toBeGreaterThanOrEqual(0x80);
    await c.expectClose();
  });

  it("[MQTT-3.15.2-2] [MQTT-3.15.2-3] AUTH packets fit the client's Maximum Packet Size and use Authenticate Reason Codes", async () => {
    const { port } = await startBroker({ hooks: [hook] });
    const c = await begin(port, 40);
    const rec = recordBytes(c);
    const a = await c.next('auth');
    expect(AUTH_CODES).toContain(a.reasonCode);
    expect(a.properties?.reasonString).toBeUndefined();
    expect(a.properties?.userProperties).toBeUndefined();
    expect(rec.bytes().length).toBeLessThanOrEqual(40);
    const { connack } = await connect(port, 5);
    expect(connack.reasonCode).toBe(0);
  });
});
