/**
 * The dashboard's HTTP side: the static page (plain HTML/CSS/ES modules and the MQTT client's
 * browser bundle), a small JSON API for lists and actions, and an event stream (SSE) that says
 * when the lists changed. Live figures reach the page over MQTT-over-WebSocket from `$SYS`.
 */
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { BROKER_VERSION, type MqttBroker } from '@iotwire/mqtt-broker';
import type { AccessControl } from '../access.js';
import { DASHBOARD_USER } from '../access.js';
import { assetsDir } from '../assets.js';
import { type Route, sendError, sendJson } from './endpoint.js';
import { actionOk, hostOk, tokenOk } from './guard.js';

export interface DashboardSettings {
  host: string;
  token: string | undefined;
  mqttUrl: string | undefined;
  allowedHosts: readonly string[];
}

export interface DashboardContext {
  readonly broker: MqttBroker;
  readonly access: AccessControl;
  /** When each connection completed CONNECT (ms since epoch). */
  readonly connectedAt: ReadonlyMap<string, number>;
  /** Current `$SYS` interval (seconds; 0 = off). */
  sysInterval(): number;
  /** Topic prefix of the `$SYS` figures (`$SYS/broker`; in a cluster the tree of this node). */
  readonly sysPrefix: string;
  settings(): DashboardSettings;
  /** Started at (ms), for the page's header. */
  readonly startedAt: number;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self' ws: wss:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const LIST_MAX = 1000;

function limitOf(url: URL): number {
  const n = Number(url.searchParams.get('limit') ?? LIST_MAX);
  return Number.isInteger(n) && n > 0 ? Math.min(n, LIST_MAX) : LIST_MAX;
}

/** A payload as text when it is printable UTF-8, else hex; at most 256 bytes of it. */
function preview(payload: Buffer): { text: string; encoding: 'utf8' | 'hex'; truncated: boolean } {
  const part = payload.subarray(0, 256);
  const text = part.toString('utf8');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what makes a payload binary
  const printable = !text.includes('\uFFFD') && !/[\u0000-\u0008\u000E-\u001F\u007F]/.test(text);
  return { text: printable ? text : part.toString('hex'), encoding: printable ? 'utf8' : 'hex', truncated: payload.length > part.length };
}

/** Server-sent "the lists changed" notifications, debounced. */
class ChangeStream {
  readonly #clients = new Set<ServerResponse>();
  #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #ping: NodeJS.Timeout | undefined;

  add(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    this.#clients.add(res);
    res.on('close', () => {
      this.#clients.delete(res);
      if (this.#clients.size === 0 && this.#ping) {
        clearInterval(this.#ping);
        this.#ping = undefined;
      }
    });
    if (!this.#ping) {
      // A comment line keeps proxies from closing an idle stream.
      this.#ping = setInterval(() => {
        for (const c of this.#clients) c.write(': ping\n\n');
      }, 15_000);
      this.#ping.unref();
    }
  }

  changed(what: string): void {
    if (this.#clients.size === 0) return;
    this.#pending.add(what);
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const data = JSON.stringify([...this.#pending]);
      this.#pending = new Set();
      for (const c of this.#clients) c.write(`event: change\ndata: ${data}\n\n`);
    }, 100);
    this.#timer.unref();
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#ping) clearInterval(this.#ping);
    for (const c of this.#clients) c.end();
    this.#clients.clear();
  }
}

export class Dashboard {
  readonly #ctx: DashboardContext;
  readonly #changes = new ChangeStream();
  readonly #detach: (() => void)[] = [];

  constructor(ctx: DashboardContext) {
    this.#ctx = ctx;
    const off = ctx.access.observe((what) =>
      this.#changes.changed(what === 'connect' || what === 'disconnect' ? 'clients' : 'subscriptions'),
    );
    const onSessionRemoved = () => this.#changes.changed('sessions');
    ctx.broker.on('sessionRemoved', onSessionRemoved);
    this.#detach.push(off, () => ctx.broker.off('sessionRemoved', onSessionRemoved));
  }

  /** Ends event streams and stops observing the broker. */
  close(): void {
    this.#changes.close();
    for (const d of this.#detach.splice(0)) d();
  }

  readonly route: Route = async (req, res, url) => {
    const s = this.#ctx.settings();
    const p = url.pathname;
    const isApi = p.startsWith('/api/');
    if (!isApi && p !== '/' && !p.startsWith('/assets/')) return false;
    if (!hostOk(req, s.host, s.allowedHosts)) {
      sendError(res, 403, 'unexpected Host header (add it to dashboard.allowedHosts)');
      return true;
    }
    if (!isApi) {
      await this.#static(res, p === '/' ? 'index.html' : p.slice('/assets/'.length));
      return true;
    }
    if (!tokenOk(req, url, s.token, p === '/api/events')) {
      res.setHeader('www-authenticate', 'Bearer realm="iotwire-broker dashboard"');
      sendError(res, 401, 'a valid dashboard token is required');
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD' && !actionOk(req)) {
      sendError(res, 403, 'actions must come from the dashboard page');
      return true;
    }
    await this.#api(req, res, url, s);
    return true;
  };

  async #static(res: ServerResponse, name: string): Promise<void> {
    const dir = assetsDir();
    const file = normalize(join(dir, name));
    if (!file.startsWith(dir) || name.includes('\0')) return sendError(res, 404, 'not found');
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return sendError(res, 404, `no asset ${name}`);
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-cache',
      'content-security-policy': CSP,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    });
    res.end(body);
  }

  async #api(req: IncomingMessage, res: ServerResponse, url: URL, s: DashboardSettings): Promise<void> {
    const { broker, access } = this.#ctx;
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /api/info') return sendJson(res, 200, this.#info(s));
    if (route === 'GET /api/events') return this.#changes.add(res);
    if (route === 'GET /api/clients') {
      const q = url.searchParams.get('q') ?? '';
      const all = [...broker.connections.values()].filter(
        (c) => !q || c.clientId.includes(q) || c.remoteHost.includes(q) || c.userName.includes(q),
      );
      return sendJson(res, 200, {
        total: all.length,
        items: all.slice(0, limitOf(url)).map((c) => ({
          connectionId: c.connectionId,
          clientId: c.clientId,
          userName: c.userName,
          protocol: c.protocol,
          protocolVersion: c.protocolVersion,
          keepAlive: c.keepAlive,
          remoteHost: c.remoteHost,
          remotePort: c.remotePort,
          localPort: c.localPort,
          connectedAt: this.#ctx.connectedAt.get(c.connectionId) ?? null,
          certificate: c.peerCertificate?.subject ?? null,
          dashboard: access.isDashboard(c.connectionId),
        })),
      });
    }
    if (route === 'GET /api/sessions' || route === 'GET /api/subscriptions') {
      const q = url.searchParams.get('q') ?? '';
      const sessions = [...broker.sessions.values()].filter((x) => !q || x.clientId.includes(q));
      if (route === 'GET /api/sessions') {
        return sendJson(res, 200, {
          total: sessions.length,
          items: sessions.slice(0, limitOf(url)).map((x) => ({
            clientId: x.clientId,
            connected: x.connected,
            expiryInterval: x.expiryInterval,
            subscriptions: x.subscriptions.length,
            outgoing: x.outgoingMessages.length,
            incoming: x.incomingMessages.length,
            dropped: x.dropped,
          })),
        });
      }
      const subs = sessions.flatMap((x) =>
        x.subscriptions.map((sub) => ({ clientId: x.clientId, topicFilter: sub.topicFilter, qos: sub.qos })),
      );
      return sendJson(res, 200, { total: subs.length, items: subs.slice(0, limitOf(url)) });
    }
    if (route === 'GET /api/retained') {
      const q = url.searchParams.get('q') ?? '';
      const all = [...broker.messages.values()].filter((m) => !q || m.topic.includes(q));
      all.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : 0));
      return sendJson(res, 200, {
        total: all.length,
        items: all.slice(0, limitOf(url)).map((m) => ({ topic: m.topic, qos: m.qos, size: m.payload.length, payload: preview(m.payload) })),
      });
    }
    const disconnect = /^POST \/api\/clients\/([^/]+)\/disconnect$/.exec(route);
    if (disconnect) {
      const id = decodeURIComponent(disconnect[1] as string);
      if (!broker.connections.has(id)) return sendError(res, 404, `no connection ${id}`);
      await broker.disconnect(id);
      return sendJson(res, 200, { disconnected: id });
    }
    if (route === 'DELETE /api/retained') {
      const topic = url.searchParams.get('topic');
      if (!topic) return sendError(res, 400, 'topic is required');
      if (!broker.deleteRetained(topic)) return sendError(res, 404, `no retained message on ${topic}`);
      this.#changes.changed('retained');
      return sendJson(res, 200, { deleted: topic });
    }
    return sendError(res, req.method === 'GET' ? 404 : 405, `no ${route}`);
  }

  #info(s: DashboardSettings) {
    const { broker, access } = this.#ctx;
    const listeners = broker.brokerListeners.map((l) => ({ protocol: l.protocol, host: l.host, port: l.port, path: l.path ?? null }));
    const ws = listeners.find((l) => l.protocol === 'ws') ?? listeners.find((l) => l.protocol === 'wss');
    return {
      version: BROKER_VERSION,
      startedAt: this.#ctx.startedAt,
      sysInterval: this.#ctx.sysInterval(),
      sysPrefix: this.#ctx.sysPrefix,
      listeners,
      // The page connects here with the MQTT client's browser bundle to read $SYS.
      mqtt:
        s.mqttUrl || ws
          ? {
              url: s.mqttUrl ?? null,
              protocol: ws?.protocol ?? null,
              host: ws && ws.host !== '' && ws.host !== '0.0.0.0' && ws.host !== '::' ? ws.host : null,
              port: ws?.port ?? null,
              path: ws?.path ?? null,
              username: DASHBOARD_USER,
              password: access.dashboardSecret,
              clientIdPrefix: `${DASHBOARD_USER}-`,
            }
          : null,
    };
  }
}
