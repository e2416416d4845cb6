// The demo resources of libcoap's `coap-server -d N` (libcoap 4.3.1), so the two servers can be
// compared request for request: `/`, observable `/time`, `/async`, `/example_data`, dynamic
// resources created by PUT/POST and removed by DELETE, and `/.well-known/core`.
import { type CoapResponseInit, CoapServer, type CoapServerOptions, type IncomingRequest } from '@iotwire/coap';
import { ContentFormat } from '@iotwire/coap-message';
import { Site } from './site.js';

export const INDEX_TEXT = 'This is a test server made with iotwire (see https://github.com/iotwire/iotwire)\n\n';

/** 1500 bytes of `a123456789b123456789…`, as libcoap 4.3.1 serves at /example_data. */
export function exampleData(length = 1500): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = i % 10 === 0 ? 97 + ((i / 10) % 26) : 48 + (i % 10);
  return out;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** strftime("%b %d %H:%M:%S") in UTC, like libcoap's /time. */
export function formatClock(seconds: number): string {
  const d = new Date(seconds * 1000);
  return `${MONTHS[d.getUTCMonth()]} ${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

export interface DemoResourceOptions {
  /** Allow up to this many resources created by PUT/POST (libcoap `-d max`). Default 0. */
  dynamic?: number;
  /** Answer a PUT with the data it carried (libcoap `-e`). Default false. */
  echo?: boolean;
  /** Notify /time observers every this many ms. Default 1000. */
  tickMs?: number;
  /** Clock source in seconds (tests). Default wall clock. */
  now?: () => number;
}

export interface DemoServerOptions extends CoapServerOptions, DemoResourceOptions {}

export interface DemoServer {
  server: CoapServer;
  /** Stops the ticker and the server. */
  close(): Promise<void>;
}

/**
 * Installs libcoap's demo resources on a {@link Site} (every server of it shares their state).
 * Returns a function that stops the /time ticker.
 */
export function installDemoResources(site: Site, options: DemoResourceOptions = {}): () => void {
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const maxDynamic = options.dynamic ?? 0;
  const echo = options.echo ?? false;
  const dynamic = new Map<string, { value: Buffer; format: number }>();
  // libcoap keeps an offset from the real clock; DELETE "removes" the clock, PUT restores it.
  let clockOffset: number | undefined = 0;
  let exampleValue: Buffer | undefined;
  let clockText = { t: Number.NaN, text: '' };
  const echoed = (req: IncomingRequest, init: CoapResponseInit): CoapResponseInit =>
    echo ? { ...init, payload: req.payload, contentFormat: req.contentFormat } : init;

  site.resource('/', {
    get: () => ({ payload: INDEX_TEXT, contentFormat: ContentFormat.TextPlain, maxAge: 0x2ffff }),
    attributes: { title: 'General Info', ct: 0 },
  });

  site.resource('/time', {
    observable: true,
    attributes: { if: 'clock', rt: 'ticks', title: 'Internal Clock', ct: 0 },
    get: (req) => {
      if (clockOffset === undefined) return { code: '4.04' };
      const t = now() + clockOffset;
      if (req.query.length > 0 && req.query.includes('ticks'))
        return { payload: String(t), contentFormat: ContentFormat.TextPlain, maxAge: 1 };
      // The text changes once a second; format it once per second, not once per request.
      if (t !== clockText.t) clockText = { t, text: formatClock(t) };
      return { payload: clockText.text, contentFormat: ContentFormat.TextPlain, maxAge: 1 };
    },
    put: (req) => {
      const created = clockOffset === undefined;
      const text = req.text();
      if (text === '') clockOffset = 0;
      else if (/^\d+$/.test(text)) clockOffset = Number(text) - now();
      else {
        clockOffset = 0;
        return { code: '4.00', payload: 'Invalid set time value', contentFormat: ContentFormat.TextPlain };
      }
      site.notify('/time');
      return echoed(req, { code: created ? '2.01' : '2.04' });
    },
    delete: () => {
      clockOffset = undefined;
      site.notify('/time');
      return { code: '2.02' };
    },
  });

  site.resource('/async', {
    attributes: { ct: 0 },
    get: (req) => {
      const delay = Number(req.query[0] ?? '5');
      const seconds = Number.isFinite(delay) && delay >= 0 ? Math.min(delay, 60) : 5;
      return new Promise<CoapResponseInit>((resolve) =>
        setTimeout(() => resolve({ payload: 'done', type: 'CON' }), seconds * 1000).unref(),
      );
    },
  });

  site.resource('/example_data', {
    observable: true,
    attributes: { title: 'Example Data', ct: 0 },
    get: () => ({ payload: exampleValue ?? exampleData(), contentFormat: ContentFormat.TextPlain }),
    put: (req) => {
      const created = exampleValue === undefined;
      exampleValue = Buffer.from(req.payload);
      site.notify('/example_data');
      return echoed(req, { code: created ? '2.01' : '2.04' });
    },
  });

  const dynamicHandler = (req: IncomingRequest): CoapResponseInit => {
    const entry = dynamic.get(req.path);
    if (req.code === 1) return entry ? { payload: entry.value, contentFormat: entry.format } : { code: '4.04' };
    if (req.code === 4) {
      dynamic.delete(req.path);
      site.removeResource(req.path);
      return { code: '2.02' };
    }
    if (req.code === 3 || req.code === 2) {
      if (entry === undefined) {
        if (dynamic.size >= maxDynamic) return { code: maxDynamic === 0 ? '4.05' : '4.06' };
        const format = req.contentFormat ?? ContentFormat.TextPlain;
        dynamic.set(req.path, { value: Buffer.from(req.payload), format });
        site.resource(req.path, {
          observable: true,
          attributes: { ct: format, title: 'Dynamic' },
          get: dynamicHandler,
          put: dynamicHandler,
          post: dynamicHandler,
          delete: dynamicHandler,
        });
        return echoed(req, req.code === 2 ? { code: '2.01', locationPath: req.pathSegments } : { code: '2.01' });
      }
      entry.value = Buffer.from(req.payload);
      if (req.contentFormat !== undefined) entry.format = req.contentFormat;
      site.notify(req.path);
      return echoed(req, { code: '2.04' });
    }
    return { code: '4.05' };
  };

  // Unknown paths: PUT/POST create a dynamic resource (if allowed), anything else is 4.04.
  site.handler = (req: IncomingRequest): CoapResponseInit => {
    if (req.code === 2 || req.code === 3) return dynamicHandler(req);
    return { code: '4.04', payload: 'Not Found' };
  };
  const ticker = setInterval(() => {
    if (site.observerCount('/time') > 0) site.notify('/time');
  }, options.tickMs ?? 1000);
  ticker.unref();
  return () => clearInterval(ticker);
}

/** Creates (but does not start) a server with libcoap's demo resources. */
export function createDemoServer(options: DemoServerOptions = {}): DemoServer {
  const server = new CoapServer(options);
  const site = new Site();
  site.add(server);
  const stop = installDemoResources(site, options);
  return {
    server,
    async close() {
      stop();
      await server.close();
    },
  };
}
