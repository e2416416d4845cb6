import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import {
  startAedes,
  startLibcoapServer,
  startMosquitto,
  startOpensslDtlsClient,
  startOpensslDtlsServer,
  startRedis,
  tcpOpen,
  udpExchange,
} from '../src/index.js';

/** Publishes one message through an MQTT broker with MQTT.js and resolves with what came back. */
async function roundTrip(url: string): Promise<string> {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0 });
  try {
    const got = new Promise<string>((resolve) => client.on('message', (_t, payload) => resolve(payload.toString())));
    await client.subscribeAsync('kit/test', { qos: 1 });
    await client.publishAsync('kit/test', 'hello from the kit', { qos: 1 });
    return await got;
  } finally {
    await client.endAsync();
  }
}

describe('peer kit', () => {
  it('starts Mosquitto, exchanges a message through it, and stops it by PID', async () => {
    const m = await startMosquitto();
    expect(m.process.pid).toBeGreaterThan(0);
    expect(await roundTrip(`mqtt://127.0.0.1:${m.port}`)).toBe('hello from the kit');
    await m.stop();
    expect(m.process.running).toBe(false);
    expect(await tcpOpen(m.port)).toBe(false);
  });

  it('starts Aedes in its own process and exchanges a message', async () => {
    const a = await startAedes();
    try {
      expect(await roundTrip(`mqtt://127.0.0.1:${a.port}`)).toBe('hello from the kit');
    } finally {
      await a.stop();
    }
    expect(a.process.running).toBe(false);
  });

  it("starts libcoap's server and gets 2.05 for GET / (raw CoAP datagram)", async () => {
    const s = await startLibcoapServer();
    try {
      // CON GET, token 0xAB, no options: RFC 7252 §3 header 01 00 0001 = 0x41, code 0.01.
      const reply = await udpExchange(Uint8Array.from([0x41, 0x01, 0x12, 0x35, 0xab]), s.port, '127.0.0.1', 2000);
      expect(reply).toBeDefined();
      const r = reply as Buffer;
      expect(r[0]).toBe(0x61); // version 1, ACK, token length 1
      expect(r[1]).toBe(0x45); // 2.05 Content
      expect(r.readUInt16BE(2)).toBe(0x1235);
      expect(r[4]).toBe(0xab);
    } finally {
      await s.stop();
    }
    expect(s.process.running).toBe(false);
  });

  it('starts openssl s_server -dtls1_2 and completes a PSK-AES128-CCM8 session with s_client', async () => {
    const psk = ['-psk', '73656372657450534b', '-cipher', 'PSK-AES128-CCM8'];
    const server = await startOpensslDtlsServer({ args: ['-nocert', '-listen', ...psk, '-psk_identity', 'Client_identity'] });
    const client = await startOpensslDtlsClient(server.port, ['-psk_identity', 'Client_identity', ...psk]);
    try {
      await client.waitForOutput(/Cipher is PSK-AES128-CCM8/, 8000);
      client.write('hello dtls\n');
      await server.process.waitForOutput(/hello dtls/, 8000);
    } finally {
      await client.stop();
      await server.stop();
    }
  });

  it('starts redis-server', async () => {
    const r = await startRedis();
    try {
      expect(await tcpOpen(r.port)).toBe(true);
    } finally {
      await r.stop();
    }
  });
});
