// The configuration file: defaults, every section, relative paths, and errors that name the
// key path and the line:column in the file, all problems at once.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_LISTENERS,
  defaultConfig,
  formatPath,
  listenerOptions,
  loadConfigFile,
  parseConfigText,
  withPort,
} from '../src/index.js';

function errorOf(text: string, file = 'broker.yaml', dir?: string): ConfigError {
  try {
    parseConfigText(text, file, dir);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('ERR_BROKER_CONFIG');
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('defaults', () => {
  it('MQTT on 1883 and WebSocket on 8080 at /mqtt; durable store in ./iotwire-data; dashboard 127.0.0.1:18083; $SYS 10 s', () => {
    const { config, warnings, file } = defaultConfig();
    expect(file).toBeUndefined();
    expect(warnings).toEqual([]);
    expect(config.listeners).toEqual(DEFAULT_LISTENERS);
    expect(DEFAULT_LISTENERS).toEqual([
      { protocol: 'tcp', host: '', port: 1883 },
      { protocol: 'ws', host: '', port: 8080, path: '/mqtt' },
    ]);
    expect(config.storage).toEqual({ type: 'durable', directory: join(process.cwd(), 'iotwire-data'), onCorruption: 'fail', sync: true });
    expect(config.dashboard).toMatchObject({ enabled: true, host: '127.0.0.1', port: 18083 });
    expect(config.metrics).toMatchObject({ enabled: true, path: '/metrics' });
    expect(config.metrics.port).toBeUndefined();
    expect(config.sys.interval).toBe(10);
    expect(config.logging).toEqual({ level: 'info', format: 'auto' });
  });

  it('an empty file is the defaults', () => {
    expect(parseConfigText('', 'empty.yaml').config).toEqual({ ...defaultConfig().config });
    expect(parseConfigText('# only a comment\n').config.listeners).toEqual(DEFAULT_LISTENERS);
  });

  it('-p replaces the first TCP listener port, or adds one', () => {
    const { config } = defaultConfig();
    expect(withPort(config, 1999).listeners?.map((l) => [l.protocol, l.port])).toEqual([
      ['tcp', 1999],
      ['ws', 8080],
    ]);
    const wsOnly = parseConfigText('listeners: [{ protocol: ws, port: 9001 }]').config;
    expect(withPort(wsOnly, 1884).listeners?.map((l) => [l.protocol, l.port])).toEqual([
      ['tcp', 1884],
      ['ws', 9001],
    ]);
    expect(withPort(config, undefined)).toBe(config);
  });
});

describe('a full file', () => {
  it('reads every section (YAML), resolving relative paths against the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotwire-conf-'));
    for (const f of ['server.crt', 'server.key', 'ca.crt', 'passwd', 'acl']) writeFileSync(join(dir, f), 'x');
    const file = join(dir, 'broker.yaml');
    writeFileSync(
      file,
      `# iotwire-broker
listeners:
  - protocol: tcp
    host: 127.0.0.1
    port: 1883
  - protocol: tls
    port: 8883
    certFile: server.crt
    keyFile: server.key
    caFile: ca.crt
    requestCert: true
    certificateIdentity: cn
    tlsVersions: [TLSv1.3]
  - protocol: wss
    port: 8443
    path: /ws
    certFile: /abs/server.crt
    keyFile: server.key
limits:
  maxConnections: 5000
  maxPacketSize: 65536
mqtt:
  defaultIdleTimeout: 600
  maxKeepAlive: 120
auth:
  passwordFile: passwd
  aclFile: acl
storage:
  directory: data
  onCorruption: repair
logging:
  level: debug
  format: json
sys:
  interval: 5
metrics:
  labels: { node: a }
dashboard:
  port: 18084
  token: 0123456789abcdef0123
`,
    );
    writeFileSync(join(dir, 'server.crt'), 'x');
    let err: unknown;
    try {
      loadConfigFile(file);
    } catch (e) {
      err = e;
    }
    // /abs/server.crt does not exist: reported with its path and line.
    expect((err as ConfigError).issues).toEqual([
      { path: ['listeners', 2, 'certFile'], message: 'cannot read /abs/server.crt (ENOENT)', line: 17, column: 5 },
    ]);
    writeFileSync(file, readFile(file).replace('/abs/server.crt', 'server.crt'));
    const { config, file: abs } = loadConfigFile(file);
    expect(abs).toBe(file);
    expect(config.listeners?.[1]).toMatchObject({
      protocol: 'tls',
      certFile: join(dir, 'server.crt'),
      keyFile: join(dir, 'server.key'),
      caFile: join(dir, 'ca.crt'),
      requestCert: true,
      certificateIdentity: 'cn',
      tlsVersions: ['TLSv1.3'],
      handshakeTimeout: 30,
      host: '',
    });
    expect(config.listeners?.[2]).toMatchObject({ protocol: 'wss', path: '/ws' });
    expect(config.limits).toEqual({ maxConnections: 5000, maxPacketSize: 65536 });
    expect(config.mqtt).toEqual({ defaultIdleTimeout: 600, maxKeepAlive: 120 });
    expect(config.auth).toEqual({ passwordFile: join(dir, 'passwd'), aclFile: join(dir, 'acl') });
    expect(config.storage).toEqual({ type: 'durable', directory: join(dir, 'data'), onCorruption: 'repair', sync: true });
    expect(config.cluster).toBeUndefined();
    expect(config.logging).toEqual({ level: 'debug', format: 'json' });
    expect(config.sys.interval).toBe(5);
    expect(config.metrics.labels).toEqual({ node: 'a' });
    expect(config.dashboard).toMatchObject({ port: 18084, token: '0123456789abcdef0123' });
  });

  it('cluster: Redis URL or ioredis options, node id and timings; not together with storage', () => {
    const { config } = parseConfigText(
      'cluster:\n  redis: { host: 127.0.0.1, port: 6380, db: 2 }\n  nodeId: node-a\n  nodeTimeout: 3000\n',
    );
    expect(config.cluster).toEqual({ redis: { host: '127.0.0.1', port: 6380, db: 2 }, nodeId: 'node-a', nodeTimeout: 3000 });
    expect(parseConfigText('cluster: { redis: "rediss://u:p@redis.lan:6379/0" }').config.cluster?.redis).toBe(
      'rediss://u:p@redis.lan:6379/0',
    );
    const both = errorOf('cluster: { redis: "redis://x" }\nstorage: { directory: d }\n');
    expect(both.issues).toEqual([
      { path: ['storage'], message: expect.stringContaining('does not apply with cluster'), line: 2, column: 1 },
    ]);
    expect(errorOf('cluster: { redis: "redis://x", nodeId: "a b" }').issues[0]?.message).toMatch(/1-64 characters/);
    expect(errorOf('cluster: { redis: "redis://x", heartbeatInterval: 3000 }').issues[0]).toMatchObject({
      path: ['cluster', 'nodeTimeout'],
    });
  });

  it('JSON files work too (YAML 1.2 is a superset)', () => {
    const { config } = parseConfigText(JSON.stringify({ listeners: [{ protocol: 'tcp', port: 1 }], sys: { interval: 0 } }), 'b.json');
    expect(config.listeners).toEqual([{ protocol: 'tcp', host: '', port: 1 }]);
    expect(config.sys.interval).toBe(0);
  });

  it('listener options carry the TLS settings and read the PEM files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iotwire-conf-'));
    writeFileSync(join(dir, 'c.pem'), 'CERT');
    writeFileSync(join(dir, 'k.pem'), 'KEY');
    writeFileSync(join(dir, 'ca.pem'), 'CA');
    const { config } = parseConfigText(
      'listeners:\n  - { protocol: tls, port: 0, certFile: c.pem, keyFile: k.pem, caFile: ca.pem, requestCert: true, ciphers: "TLS_AES_128_GCM_SHA256" }\n',
      'b.yaml',
      dir,
    );
    const o = listenerOptions(config.listeners?.[0] as never);
    expect(o).toMatchObject({ protocol: 'tls', port: 0, requestCert: true, handshakeTimeout: 30 });
    expect(o.tls).toEqual({ enabledProtocols: ['TLSv1.2', 'TLSv1.3'], trustedCaCerts: 'CA', cipherSuites: 'TLS_AES_128_GCM_SHA256' });
    expect(String((o.certificate as { cert: Buffer }).cert)).toBe('CERT');
  });

  it('warns about an exposed dashboard without a token', () => {
    expect(parseConfigText('dashboard: { host: 0.0.0.0 }').warnings).toEqual([
      'dashboard.host is 0.0.0.0 and no dashboard.token is set: anyone who can reach it can disconnect clients',
    ]);
  });
});

function readFile(f: string): string {
  return readFileSync(f, 'utf8');
}

describe('errors', () => {
  it('point at the key path and line:column, listing every problem', () => {
    const e = errorOf(`listeners:
  - protocol: tcp
    port: 70000
  - protocol: udp
limits:
  maxConections: 10
sys:
  interval: "often"
`);
    expect(e.issues).toEqual([
      { path: ['listeners', 0, 'port'], message: 'must be <= 65535, got 70000', line: 3, column: 5 },
      { path: ['listeners', 1, 'protocol'], message: 'must be one of tcp, tls, ws, wss, got "udp"', line: 4, column: 5 },
      {
        path: ['limits', 'maxConections'],
        message: expect.stringMatching(/^unknown key \(did you mean "maxConnections"\?\); allowed here: maxConnections, /),
        line: 6,
        column: 3,
      },
      { path: ['sys', 'interval'], message: 'must be a number, got "often"', line: 8, column: 3 },
    ]);
    expect(e.message).toMatch(
      /^invalid configuration \(4 problems\):\n {2}broker\.yaml:3:5: listeners\[0\]\.port: must be <= 65535, got 70000\n/,
    );
    expect(e.message).toContain('broker.yaml:6:3: limits.maxConections: unknown key (did you mean "maxConnections"?)');
  });

  it.each([
    ['nope: 1', ['nope'], /^unknown key; allowed here: listeners, limits, mqtt, auth, storage, cluster, logging, sys, metrics, dashboard$/],
    ['listeners: []', ['listeners'], /at least one listener/],
    ['listeners: [{ port: 1 }]', ['listeners', 0, 'protocol'], /is required \(tcp, tls, ws or wss\)/],
    ['listeners: [{ protocol: tcp, path: /x }]', ['listeners', 0, 'path'], /unknown key; allowed here: protocol, host, port$/],
    ['listeners: [{ protocol: ws, path: mqtt }]', ['listeners', 0, 'path'], /must start with '\/'/],
    ['listeners: [{ protocol: tls, port: 8883 }]', ['listeners', 0], /a tls listener needs certFile and keyFile \(or pfxFile\)/],
    [
      'listeners: [{ protocol: tcp, port: 1883 }, { protocol: ws, port: 1883 }]',
      ['listeners', 1, 'port'],
      /already used by listeners\[0\]/,
    ],
    ['listeners: [{ protocol: tcp, port: 18083 }]', ['listeners', 0, 'port'], /also the dashboard's/],
    ['limits: { maxPacketSize: 0 }', ['limits', 'maxPacketSize'], /must be >= 1, got 0/],
    ['mqtt: { maximumQoS: 3 }', ['mqtt', 'maximumQoS'], /must be 0, 1 or 2/],
    ['storage: { type: sqlite }', ['storage', 'type'], /must be one of durable, memory, got "sqlite"/],
    ['cluster: { redis: "http://x" }', ['cluster', 'redis'], /must be a redis:\/\/ or rediss:\/\/ URL, got "http:\/\/x"/],
    ['cluster: { nodeId: a }', ['cluster', 'redis'], /is required/],
    ['logging: { level: loud }', ['logging', 'level'], /fatal, error, warn, info, debug, trace, silent/],
    ['dashboard: { token: short }', ['dashboard', 'token'], /at least 16 characters/],
    ['dashboard: { enabled: false }', ['metrics', 'port'], /required when the dashboard is disabled/],
    ['metrics: { host: 0.0.0.0 }', ['metrics', 'host'], /needs metrics.port/],
    ['auth: { allowAnonymous: false }', ['auth', 'allowAnonymous'], /no client could ever connect/],
    ['auth: { passwordFile: /nonexistent/passwd }', ['auth', 'passwordFile'], /cannot read \/nonexistent\/passwd \(ENOENT\)/],
    ['limits: 5', ['limits'], /must be a mapping, got 5/],
    ['- a\n- b', [], /must be a mapping, got a list/],
  ])('%s', (text, path, re) => {
    const e = errorOf(text);
    const issue = e.issues.find((i) => JSON.stringify(i.path) === JSON.stringify(path));
    expect(issue, JSON.stringify(e.issues)).toBeDefined();
    expect(issue?.message).toMatch(re);
  });

  it('reports YAML syntax errors with their position', () => {
    const e = errorOf('listeners:\n  - protocol: tcp\n   port: 1\n');
    expect(e.issues[0]?.message).toMatch(/^not valid YAML: /);
    expect(e.issues[0]?.line).toBe(3);
    const dup = errorOf('sys: { interval: 1 }\nsys: { interval: 2 }\n');
    expect(dup.issues[0]?.message).toMatch(/not valid YAML: Map keys must be unique/);
  });

  it('a missing file is a ConfigError naming it', () => {
    expect(() => loadConfigFile('/nonexistent/broker.yaml')).toThrow(
      /\/nonexistent\/broker.yaml: \(top level\): cannot read the file: ENOENT/,
    );
  });

  it('formatPath', () => {
    expect(formatPath(['listeners', 2, 'tls', 0])).toBe('listeners[2].tls[0]');
    expect(formatPath([])).toBe('(top level)');
  });
});
