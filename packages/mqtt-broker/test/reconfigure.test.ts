// Live reconfiguration: updateOptions applies what can change while clients stay connected,
// validates everything first, and says which options need a restart.
import { describe, expect, it } from 'vitest';
import { LIVE_LIMITS, LIVE_OPTIONS, PasswordFile, passwordFileAuth } from '../src/index.js';
import { nextEvent, startBroker } from './helpers/broker.js';
import { RawClient } from './helpers/raw-client.js';

describe('updateOptions', () => {
  it('applies live options and limits without dropping connected clients', async () => {
    const { broker, port } = await startBroker({ logLevel: 1 });
    const { client } = await RawClient.connect(port, { clientId: 'stays' });
    const r = broker.updateOptions({
      logLevel: 2,
      defaultIdleTimeout: 3600,
      maxKeepAlive: 30,
      limits: { maxQueuedMessages: 5, maxConnections: 2 },
    });
    expect(r.restartRequired).toEqual([]);
    expect(r.applied.sort()).toEqual([
      'defaultIdleTimeout',
      'limits.maxConnections',
      'limits.maxQueuedMessages',
      'logLevel',
      'maxKeepAlive',
    ]);
    expect(broker.limits.maxQueuedMessages).toBe(5);
    expect(broker.defaultIdleTimeout).toBe(3600);
    client.send({ type: 'pingreq' });
    await client.next('pingresp');
    // maxKeepAlive applies to new CONNECTs: a 5.0 client asking for 0 is told 30.
    const { connack } = await RawClient.connect(port, { protocolVersion: 5, clientId: 'new', keepAlive: 0 });
    expect(connack.properties?.serverKeepAlive).toBe(30);
    // maxConnections 2 is reached: a third connection is refused at once.
    const third = await RawClient.open(port);
    await third.expectClose();
  });

  it('the queue limit applies to a connected client at once', async () => {
    const { broker, port } = await startBroker();
    const { client: sub } = await RawClient.connect(port, { clientId: 'q', clean: false });
    sub.send({ type: 'subscribe', packetId: 1, subscriptions: [{ topicFilter: 'q/#', qos: 1 }] });
    await sub.next('suback');
    sub.destroy();
    await nextEvent(broker, 'disconnected');
    broker.updateOptions({ limits: { maxQueuedMessages: 3 } });
    for (let i = 0; i < 10; i++) await broker.publish({ topic: 'q/x', payload: String(i), qos: 1 });
    expect(broker.sessions.get('q')?.outgoingMessages).toHaveLength(3);
    expect(broker.sessions.get('q')?.dropped).toBe(7);
  });

  it('allowAnonymous switches for new connections; clients already in stay', async () => {
    const { broker, port } = await startBroker();
    const { client: anon } = await RawClient.connect(port, { clientId: 'anon' });
    broker.updateOptions({ allowAnonymous: false });
    const { connack } = await RawClient.connect(port, { clientId: 'late' });
    expect(connack.reasonCode).toBe(0x05);
    const { connack: named } = await RawClient.connect(port, { clientId: 'named', username: 'u' });
    expect(named.reasonCode).toBe(0);
    anon.send({ type: 'pingreq' });
    await anon.next('pingresp');
    broker.updateOptions({ allowAnonymous: true });
    expect((await RawClient.connect(port, { clientId: 'again' })).connack.reasonCode).toBe(0);
  });

  it("the password hook's allowAnonymous and file can be changed at run time", async () => {
    const hook = passwordFileAuth(PasswordFile.parse(''));
    const { port } = await startBroker({ hooks: [hook] });
    expect((await RawClient.connect(port, { clientId: 'a' })).connack.reasonCode).toBe(0x05);
    hook.allowAnonymous = true;
    expect((await RawClient.connect(port, { clientId: 'b' })).connack.reasonCode).toBe(0);
    const file = PasswordFile.empty();
    await file.set('x', 'y', { ln: 10, r: 8, p: 1 });
    hook.file = file;
    expect((await RawClient.connect(port, { clientId: 'c', username: 'x', password: Buffer.from('y') })).connack.reasonCode).toBe(0);
  });

  it('reports options that need a restart and leaves them as they were', async () => {
    const { broker, port } = await startBroker({ topicAliasMaximum: 10 });
    const r = broker.updateOptions({ topicAliasMaximum: 20, maximumQoS: 2, receiveMaximum: 100, limits: { maxPacketSize: 1000 } });
    expect(r.restartRequired.sort()).toEqual(['limits.maxPacketSize', 'receiveMaximum', 'topicAliasMaximum']);
    expect(r.applied).toEqual([]);
    expect(broker.limits.maxPacketSize).toBe(1024 * 1024);
    const { connack } = await RawClient.connect(port, { protocolVersion: 5, clientId: 'x' });
    expect(connack.properties?.topicAliasMaximum).toBe(10);
  });

  it('validates everything first: one bad value changes nothing; unknown keys are refused', async () => {
    const { broker } = await startBroker();
    expect(() => broker.updateOptions({ logLevel: 2, limits: { maxInflight: 0 } })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
    expect(() => broker.updateOptions({ logLevel: 9 as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    expect(() => broker.updateOptions({ bogus: 1 } as never)).toThrow(/unknown option "bogus"/);
    expect(() => broker.updateOptions({ limits: { bogus: 1 } as never })).toThrow(/unknown limit "bogus"/);
    const log: number[] = [];
    broker.on('log', (e) => log.push(e.logLevel));
    await broker.publish({ topic: 'x' });
    expect(broker.limits.maxInflight).toBe(100);
  });

  it('documents the live sets', () => {
    expect(LIVE_OPTIONS).toContain('allowAnonymous');
    expect(LIVE_LIMITS).not.toContain('maxPacketSize');
  });
});
