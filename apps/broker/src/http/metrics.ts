import { METRICS_CONTENT_TYPE, type MqttBroker, renderMetrics } from '@iotwire/mqtt-broker';
import { type Route, sendError } from './endpoint.js';
import { tokenOk } from './guard.js';

export interface MetricsSettings {
  path: string;
  token: string | undefined;
  labels: Readonly<Record<string, string>>;
}

/** `GET <path>`: the Prometheus exposition of the broker (bearer token when configured). */
export function metricsRoute(broker: MqttBroker, settings: () => MetricsSettings): Route {
  return (req, res, url) => {
    const s = settings();
    if (url.pathname !== s.path) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      sendError(res, 405, 'use GET');
      return true;
    }
    if (!tokenOk(req, url, s.token, false)) {
      res.setHeader('www-authenticate', 'Bearer realm="iotwire-broker metrics"');
      sendError(res, 401, 'a valid metrics token is required');
      return true;
    }
    const body = renderMetrics(broker, { labels: s.labels });
    res.writeHead(200, { 'content-type': METRICS_CONTENT_TYPE, 'cache-control': 'no-store', 'content-length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
    return true;
  };
}
