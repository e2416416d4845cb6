// The toolkit's Config("NAME=VALUE") / Config("NAME") shim, table-driven.
import { describe, expect, it } from 'vitest';
import { MqttClient as BrowserClient } from '../src/browser.js';
import { CONFIG_SETTING_NAMES, parseBool } from '../src/config-shim.js';
import { MqttClient, type MqttClientError, type MqttClientOptions } from '../src/index.js';
import { FakeServer } from './helpers/fake-server.js';

type Row = [label: string, steps: string[], reads: Record<string, string>, options?: Partial<MqttClientOptions>];

// Each row: config() calls in order, then the values read back, then the typed options they produced.
const ROWS: Row[] = [
  ['AutoReconnect (Yes/No, any case)', ['autoreconnect=YES'], { AutoReconnect: 'True' }, { reconnect: true }],
  ['AutoReconnect off', ['AutoReconnect=true', 'AutoReconnect=0'], { AutoReconnect: 'False' }, { reconnect: undefined }],
  ['ClientTopicAliasMax', ['ClientTopicAliasMax=12'], { ClientTopicAliasMax: '12' }, { topicAliasMaximum: 12 }],
  ['ConnectionTimeout (seconds)', ['ConnectionTimeout=7'], { ConnectionTimeout: '7' }, { connectTimeoutMs: 7000 }],
  ['LogLevel', ['LOGLEVEL=3'], { LogLevel: '3' }, { logLevel: 3 }],
  [
    'OutgoingUserProp* (indexed)',
    [
      'OutgoingUserPropCount=2',
      'OutgoingUserPropName[0]=a',
      'OutgoingUserPropValue[0]=1',
      'OutgoingUserPropName[1]=b',
      'OutgoingUserPropValue[1]=2',
    ],
    { OutgoingUserPropCount: '2', 'OutgoingUserPropName[1]': 'b', 'outgoinguserpropvalue[0]': '1' },
    {
      defaultPublishProperties: {
        userProperties: [
          ['a', '1'],
          ['b', '2'],
        ],
      },
    },
  ],
  [
    'OutgoingUserPropCount shrinks and clears',
    ['OutgoingUserPropCount=2', 'OutgoingUserPropName[1]=b', 'OutgoingUserPropCount=1', 'OutgoingUserPropCount=0'],
    { OutgoingUserPropCount: '0' },
    { defaultPublishProperties: undefined },
  ],
  [
    'ResponseTopic (sticky default)',
    ['ResponseTopic=r/1'],
    { ResponseTopic: 'r/1' },
    { defaultPublishProperties: { responseTopic: 'r/1' } },
  ],
  ['RepublishInterval', ['RepublishInterval=30'], { RepublishInterval: '30' }, { republishInterval: 30 }],
  ['SessionExpInterval', ['SessionExpInterval=4294967295'], { SessionExpInterval: '4294967295' }, { sessionExpiryInterval: 0xffff_ffff }],
  [
    'WillQOS / WillRetain',
    ['WillQOS=2', 'WillRetain=True'],
    { WillQOS: '2', WillRetain: 'True' },
    { will: { topic: '', qos: 2, retain: true } },
  ],
  [
    'FirewallType sets the default port',
    ['FirewallType=3', 'FirewallHost=proxy.local'],
    { FirewallType: '3', FirewallPort: '1080' },
    {
      proxy: { type: 'socks5', host: 'proxy.local' },
    },
  ],
  [
    'Firewall fields staged before the type',
    ['FirewallHost=p', 'FirewallUser=u', 'FirewallPassword=pw', 'FirewallPort=3128', 'FirewallType=1'],
    { FirewallType: '1', FirewallHost: 'p', FirewallUser: 'u', FirewallPassword: 'pw', FirewallPort: '3128' },
    { proxy: { type: 'http', host: 'p', user: 'u', password: 'pw', port: 3128 } },
  ],
  [
    'FirewallType 10 = SOCKS4A, 0 = none',
    ['FirewallHost=p', 'FirewallType=10', 'FirewallType=0'],
    { FirewallType: '0', FirewallHost: 'p' },
    {
      proxy: undefined,
    },
  ],
  [
    'FirewallData = CONNECT headers',
    ['FirewallType=1', 'FirewallHost=p', 'FirewallData=X-A: 1\r\nX-B: two'],
    { FirewallData: 'X-A: 1\r\nX-B: two' },
    {
      proxy: { type: 'http', host: 'p', headers: { 'X-A': '1', 'X-B': 'two' } },
    },
  ],
  ['FirewallAutoDetect', ['FirewallAutoDetect=1'], { FirewallAutoDetect: 'True', FirewallType: '0' }, { proxy: 'auto' }],
  [
    'ProxyExceptionsList',
    ['ProxyExceptionsList=a.local;b.local'],
    { ProxyExceptionsList: 'a.local;b.local' },
    { proxyExceptions: 'a.local;b.local' },
  ],
  ['MaxTransferRate', ['MaxTransferRate=5000'], { MaxTransferRate: '5000' }, { maxTransferRate: 5000 }],
  [
    'MaxTransferRate 0 = unlimited',
    ['MaxTransferRate=5000', 'MaxTransferRate=0'],
    { MaxTransferRate: '0' },
    { maxTransferRate: undefined },
  ],
  [
    'TCP socket settings',
    ['TcpNoDelay=False', 'KeepAliveTime=5000', 'LocalHost=127.0.0.1', 'LocalPort=0', 'UseIPv6=1'],
    {
      TcpNoDelay: 'False',
      TCPKeepAlive: 'True',
      KeepAliveTime: '5000',
      LocalHost: '127.0.0.1',
      UseIPv6: '1',
    },
    { noDelay: false, tcpKeepAliveMs: 5000, localAddress: '127.0.0.1', localPort: 0, family: 6 },
  ],
  ['TCPKeepAlive off', ['KeepAliveTime=5000', 'TCPKeepAlive=No'], { TCPKeepAlive: 'False' }, { tcpKeepAliveMs: undefined }],
  [
    'TLS settings',
    [
      'SSLAcceptAnyServerCert=True',
      'ReuseSSLSession=False',
      'SSLEnabledProtocols=12288',
      'OpenSSLCAFile=/x/ca.pem',
      'SSLEnabledCipherSuites=*',
    ],
    {
      SSLAcceptAnyServerCert: 'True',
      ReuseSSLSession: 'False',
      SSLEnabledProtocols: '12288',
      OpenSSLCAFile: '/x/ca.pem',
    },
    { tls: { rejectUnauthorized: false, reuseSession: false, enabledProtocols: 12288, caFile: '/x/ca.pem', cipherSuites: '*' } },
  ],
  [
    'defaults read back',
    [],
    {
      AutoReconnect: 'False',
      ConnectionTimeout: '30',
      LogLevel: '1',
      OutgoingUserPropCount: '0',
      FirewallType: '0',
      FirewallPort: '0',
      MaxTransferRate: '0',
      TcpNoDelay: 'True',
      UseIPv6: '2',
      ReuseSSLSession: 'True',
      SSLEnabledProtocols: '15360',
      SessionPresent: 'False',
      OutgoingPacketId: '0',
      ServerTopicAliasMax: '0',
      ConnAckProperties: '{}',
      MaskSensitiveData: 'True',
      SSLNegotiatedVersion: '',
    },
  ],
];

describe('config() maps settings onto the typed options', () => {
  it.each(ROWS)('%s', (_label, steps, reads, options) => {
    const c = new MqttClient({ url: 'mqtt://127.0.0.1:1' });
    for (const s of steps) expect(c.config(s)).toBe('');
    for (const [name, value] of Object.entries(reads)) expect(c.config(name), name).toBe(value);
    for (const [k, v] of Object.entries(options ?? {})) expect(c.options[k as keyof MqttClientOptions], k).toEqual(v);
  });
});

const ERRORS: [string, string, RegExp?][] = [
  ['NoSuchSetting=1', 'ERR_UNKNOWN_SETTING'],
  ['NoSuchSetting', 'ERR_UNKNOWN_SETTING'],
  ['=1', 'ERR_UNKNOWN_SETTING'],
  ['LogLevel[0]=1', 'ERR_UNKNOWN_SETTING', /no index/],
  ['Log Level=1', 'ERR_UNKNOWN_SETTING'],
  ['SessionPresent=True', 'ERR_SETTING_READ_ONLY'],
  ['ConnAckProperties={}', 'ERR_SETTING_READ_ONLY'],
  ['OutgoingPacketId=3', 'ERR_SETTING_READ_ONLY'],
  ['AutoReconnect=maybe', 'ERR_INVALID_ARGUMENT', /True\/False/],
  ['LogLevel=4', 'ERR_INVALID_ARGUMENT', /0\.\.3/],
  ['WillQOS=x', 'ERR_INVALID_ARGUMENT', /integer/],
  ['FirewallType=4', 'ERR_INVALID_ARGUMENT', /0, 1, 2, 3 or 10/],
  ['FirewallData=no colon', 'ERR_INVALID_ARGUMENT'],
  ['OutgoingUserPropName[0]=a', 'ERR_INVALID_ARGUMENT', /out of range/],
  ['OutgoingUserPropName=a', 'ERR_INVALID_ARGUMENT', /out of range/],
  ['SendCustomPacket=zz', 'ERR_INVALID_ARGUMENT', /hex/],
  ['Retain=True', 'ERR_NOT_SUPPORTED', /publish\(…, \{ retain \}\)/],
  ['TopicQOSArray=1,2', 'ERR_NOT_SUPPORTED', /qosList/],
  ['IncomingUserPropCount', 'ERR_NOT_SUPPORTED', /per message/],
  ['CodePage=65001', 'ERR_NOT_SUPPORTED', /UTF-8/],
  ['KeepAliveInterval=1000', 'ERR_NOT_SUPPORTED'],
  ['SendCustomPacket', 'ERR_NOT_SUPPORTED', /write-only/],
];

describe('config() errors are typed', () => {
  it.each(ERRORS)('%s → %s', (input, code, message) => {
    const c = new MqttClient({ url: 'mqtt://127.0.0.1:1' });
    let err: MqttClientError | undefined;
    try {
      c.config(input);
    } catch (e) {
      err = e as MqttClientError;
    }
    expect(err?.code).toBe(code);
    if (message) expect(err?.message).toMatch(message);
  });

  it('SendCustomPacket needs a connection', () => {
    const c = new MqttClient({ url: 'mqtt://127.0.0.1:1' });
    expect(() => c.config('SendCustomPacket=C000')).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }));
  });

  it('the browser client refuses the Node-only settings and accepts the rest', () => {
    const c = new BrowserClient({ url: 'ws://127.0.0.1:1' });
    expect(() => c.config('FirewallHost=p')).toThrow(expect.objectContaining({ code: 'ERR_NOT_SUPPORTED' }));
    expect(() => c.config('SSLAcceptAnyServerCert=True')).toThrow(expect.objectContaining({ code: 'ERR_NOT_SUPPORTED' }));
    c.config('LogLevel=2');
    expect(c.options.logLevel).toBe(2);
  });
});

describe('config() while connected', () => {
  it('refuses connect-time settings, applies live ones, sends custom packets', async () => {
    const server = await FakeServer.start();
    const c = new MqttClient({ url: server.url, protocolVersion: 5 });
    try {
      const p = c.connect();
      const conn = await server.connection();
      await conn.accept({ properties: { topicAliasMaximum: 4 } });
      await p;
      for (const s of ['ClientTopicAliasMax=3', 'FirewallHost=p', 'MaxTransferRate=10', 'AutoReconnect=True', 'SSLAcceptAnyServerCert=1']) {
        expect(() => c.config(s), s).toThrow(expect.objectContaining({ code: 'ERR_SETTING_READ_ONLY' }));
      }
      expect(c.config('ServerTopicAliasMax')).toBe('4');
      expect(JSON.parse(c.config('ConnAckProperties'))).toEqual({ topicAliasMaximum: 4 });
      // Live: the next publish carries the user properties.
      c.config('OutgoingUserPropCount=1');
      c.config('OutgoingUserPropName[0]=k');
      c.config('OutgoingUserPropValue[0]=v');
      c.config('LogLevel=0');
      await c.publish('t', 'x');
      const pub = await conn.next('publish');
      expect(pub.properties?.userProperties).toEqual([['k', 'v']]);
      c.config('SendCustomPacket=C0 00'); // PINGREQ
      await conn.next('pingreq');
    } finally {
      c.interrupt();
      await server.close();
    }
  });
});

describe('parseBool', () => {
  it.each([
    ['True', true],
    ['FALSE', false],
    ['1', true],
    ['0', false],
    ['yes', true],
    [' No ', false],
  ] as const)('%s → %s', (v, expected) => {
    expect(parseBool('X', v)).toBe(expected);
  });
  it('knows every documented firewall / TCP / MQTT setting name', () => {
    for (const n of [
      'FirewallAutoDetect',
      'FirewallHost',
      'FirewallPassword',
      'FirewallPort',
      'FirewallType',
      'FirewallUser',
      'ProxyExceptionsList',
      'MaxTransferRate',
    ]) {
      expect(CONFIG_SETTING_NAMES).toContain(n);
    }
  });
});
