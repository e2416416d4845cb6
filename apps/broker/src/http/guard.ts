/**
 * Request checks for the dashboard and metrics: bearer token (constant-time), Host header
 * against DNS rebinding when bound to loopback, and for actions a same-origin check plus a
 * custom header (a cross-site form or fetch cannot send it without a CORS preflight we refuse).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]', '::1'];
const LOOPBACK_BINDS = new Set(['127.0.0.1', '::1', 'localhost']);

/** Header a dashboard action must carry. */
export const ACTION_HEADER = 'x-iotwire-dashboard';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** True when `token` is unset, or the request carries it (Authorization: Bearer, or `?token=`). */
export function tokenOk(req: IncomingMessage, url: URL, token: string | undefined, allowQuery: boolean): boolean {
  if (!token) return true;
  const auth = req.headers.authorization;
  let given: string | undefined;
  if (auth?.startsWith('Bearer ')) given = auth.slice(7).trim();
  else if (allowQuery) given = url.searchParams.get('token') ?? undefined;
  if (given === undefined) return false;
  return timingSafeEqual(digest(given), digest(token));
}

/**
 * Host header check. Bound to loopback: only loopback names (and `allowed`) — a DNS-rebinding
 * page gets its own host name here. Bound elsewhere: `allowed` when given, else any.
 */
export function hostOk(req: IncomingMessage, bindHost: string, allowed: readonly string[]): boolean {
  const raw = req.headers.host;
  if (!raw) return false;
  const name = raw.startsWith('[') ? raw.slice(0, raw.indexOf(']') + 1) : (raw.split(':')[0] as string);
  const lower = name.toLowerCase();
  if (allowed.some((a) => a.toLowerCase() === lower || a.toLowerCase() === raw.toLowerCase())) return true;
  if (LOOPBACK_BINDS.has(bindHost)) return LOOPBACK_HOSTS.includes(lower);
  return allowed.length === 0;
}

/** An action (POST/DELETE) must come from our own page: the custom header, and a matching Origin if sent. */
export function actionOk(req: IncomingMessage): boolean {
  if (req.headers[ACTION_HEADER] !== '1') return false;
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}
