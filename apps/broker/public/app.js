// The dashboard page: lists and actions from the broker's HTTP API (refreshed when the server
// says they changed), live figures and rate charts from $SYS/broker/# over MQTT-over-WebSocket
// with the browser bundle of @iotwire/mqtt-client.
import { formatNumber, LineChart } from './chart.js';
import { MqttClient } from './mqtt-client.js';

const $ = (id) => document.getElementById(id);
const TOKEN_KEY = 'iotwire-dashboard-token';

// A token in the URL fragment (#token=…) is taken once and kept for this tab only.
const hash = new URLSearchParams(location.hash.slice(1));
if (hash.get('token')) {
  sessionStorage.setItem(TOKEN_KEY, hash.get('token'));
  history.replaceState(null, '', location.pathname + location.search);
}
let token = sessionStorage.getItem(TOKEN_KEY) ?? '';

class Unauthorized extends Error {}

async function api(path, init = {}) {
  const headers = { ...(init.headers ?? {}) };
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.method && init.method !== 'GET') headers['x-iotwire-dashboard'] = '1';
  const res = await fetch(path, { ...init, headers });
  if (res.status === 401) throw new Unauthorized();
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error ?? `${res.status} ${res.statusText}`);
  return body;
}

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function ago(ms) {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min ago`;
}

function duration(s) {
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d} d ${h} h` : h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s % 60} s` : `${s} s`;
}

function notice(text) {
  const n = $('notice');
  n.textContent = text ?? '';
  n.classList.toggle('hidden', !text);
}

function emptyRow(tbody, cols, text) {
  const tr = document.createElement('tr');
  const td = cell(text, 'empty');
  td.colSpan = cols;
  tr.append(td);
  tbody.replaceChildren(tr);
}

function setCount(id, shown, total) {
  $(id).textContent = total > shown ? `${shown} of ${total}` : String(total);
}

// --- lists ------------------------------------------------------------------------------

async function loadClients() {
  const q = $('clients-filter').value.trim();
  const { total, items } = await api(`/api/clients?limit=500${q ? `&q=${encodeURIComponent(q)}` : ''}`);
  const tbody = $('clients');
  setCount('clients-count', items.length, total);
  if (items.length === 0) return emptyRow(tbody, 7, 'no clients connected');
  tbody.replaceChildren(
    ...items.map((c) => {
      const tr = document.createElement('tr');
      tr.dataset.clientId = c.clientId;
      const id = cell(c.clientId || '(connecting)', 'mono');
      if (c.dashboard) {
        const badge = document.createElement('span');
        badge.className = 'badge';
        badge.textContent = 'this dashboard';
        id.append(' ', badge);
      }
      const version = c.protocolVersion === 5 ? '5.0' : c.protocolVersion === 4 ? '3.1.1' : c.protocolVersion === 3 ? '3.1' : '';
      const action = document.createElement('td');
      if (!c.dashboard) {
        const b = document.createElement('button');
        b.textContent = 'Disconnect';
        b.className = 'danger';
        b.dataset.action = 'disconnect';
        b.addEventListener('click', async () => {
          b.disabled = true;
          try {
            await api(`/api/clients/${encodeURIComponent(c.connectionId)}/disconnect`, { method: 'POST' });
            tr.remove();
          } catch (err) {
            notice(`disconnect failed: ${err.message}`);
            b.disabled = false;
          }
        });
        action.append(b);
      }
      tr.append(
        id,
        cell(c.userName || '–'),
        cell(`${c.protocol} · MQTT ${version}`),
        cell(`${c.remoteHost}:${c.remotePort}`, 'mono'),
        cell(c.keepAlive ? `${c.keepAlive} s` : 'off'),
        cell(c.connectedAt ? ago(c.connectedAt) : '–'),
        action,
      );
      return tr;
    }),
  );
}

async function loadSessions() {
  const { total, items } = await api('/api/sessions?limit=500');
  setCount('sessions-count', items.length, total);
  const tbody = $('sessions');
  if (items.length === 0) return emptyRow(tbody, 7, 'no sessions');
  tbody.replaceChildren(
    ...items.map((s) => {
      const tr = document.createElement('tr');
      const state = cell(s.connected ? 'connected' : 'offline', s.connected ? 'ok' : 'muted');
      const expiry = s.expiryInterval === 0 ? 'at disconnect' : s.expiryInterval >= 0xffffffff ? 'never' : duration(s.expiryInterval);
      tr.append(
        cell(s.clientId, 'mono'),
        state,
        cell(expiry),
        cell(String(s.subscriptions)),
        cell(String(s.outgoing)),
        cell(String(s.incoming)),
        cell(String(s.dropped)),
      );
      return tr;
    }),
  );
}

async function loadSubscriptions() {
  const { total, items } = await api('/api/subscriptions?limit=500');
  setCount('subscriptions-count', items.length, total);
  const tbody = $('subscriptions');
  if (items.length === 0) return emptyRow(tbody, 3, 'no subscriptions');
  tbody.replaceChildren(
    ...items.map((s) => {
      const tr = document.createElement('tr');
      tr.append(cell(s.clientId, 'mono'), cell(s.topicFilter, 'mono'), cell(String(s.qos)));
      return tr;
    }),
  );
}

async function loadRetained() {
  const q = $('retained-filter').value.trim();
  const { items } = await api(`/api/retained?limit=1000${q ? `&q=${encodeURIComponent(q)}` : ''}`);
  const list = $('retained-sys').checked ? items : items.filter((m) => !m.topic.startsWith('$SYS/'));
  setCount('retained-count', list.length, list.length);
  const tbody = $('retained');
  if (list.length === 0) return emptyRow(tbody, 5, 'no retained messages');
  tbody.replaceChildren(
    ...list.map((m) => {
      const tr = document.createElement('tr');
      tr.dataset.topic = m.topic;
      const payload = cell(
        `${m.payload.text}${m.payload.truncated ? '…' : ''}`,
        `mono payload${m.payload.encoding === 'hex' ? ' hex' : ''}`,
      );
      payload.title = m.payload.encoding === 'hex' ? 'binary payload, shown in hex' : '';
      const action = document.createElement('td');
      const b = document.createElement('button');
      b.textContent = 'Delete';
      b.className = 'danger';
      b.dataset.action = 'delete-retained';
      b.addEventListener('click', async () => {
        b.disabled = true;
        try {
          await api(`/api/retained?topic=${encodeURIComponent(m.topic)}`, { method: 'DELETE' });
          tr.remove();
        } catch (err) {
          notice(`delete failed: ${err.message}`);
          b.disabled = false;
        }
      });
      action.append(b);
      tr.append(cell(m.topic, 'mono'), cell(String(m.qos)), cell(`${m.size} B`), payload, action);
      return tr;
    }),
  );
}

const loaders = { clients: loadClients, sessions: loadSessions, subscriptions: loadSubscriptions, retained: loadRetained };
const running = new Map();

/** Reloads one list; a reload asked for while one runs happens once after it. */
function refresh(name) {
  const state = running.get(name);
  if (state) {
    state.again = true;
    return;
  }
  const s = { again: false };
  running.set(name, s);
  loaders[name]()
    .catch((err) => {
      if (err instanceof Unauthorized) askToken();
      else notice(`could not load ${name}: ${err.message}`);
    })
    .finally(() => {
      running.delete(name);
      if (s.again) refresh(name);
    });
}

// --- live figures from $SYS -------------------------------------------------------------

const sys = new Map();
const messagesChart = new LineChart($('chart-messages'), {
  series: [
    { name: 'received', color: '#2f81f7' },
    { name: 'sent', color: '#3fb950' },
  ],
});
const bytesChart = new LineChart($('chart-bytes'), {
  series: [
    { name: 'received', color: '#a371f7' },
    { name: 'sent', color: '#d29922' },
  ],
});
let lastTick;

let sysPrefix = '$SYS/broker/';
const num = (short) => Number(sys.get(short) ?? 0);

function onSys(topic, text) {
  if (!topic.startsWith(sysPrefix)) return;
  const short = topic.slice(sysPrefix.length);
  const before = sys.get(short);
  sys.set(short, text);
  if (short === 'clients/connected') $('stat-clients').textContent = text;
  else if (short === 'clients/total' || short === 'clients/disconnected') {
    $('stat-sessions').textContent = String(num('clients/total'));
    $('stat-sessions-sub').textContent = `${num('clients/disconnected')} offline`;
  } else if (short === 'subscriptions/count') $('stat-subscriptions').textContent = text;
  else if (short === 'retained messages/count') $('stat-retained').textContent = text;
  else if (short === 'publish/messages/dropped') $('stat-dropped').textContent = text;
  else if (short === 'heap/current') $('stat-heap').textContent = `heap ${formatNumber(Number(text))}B`;
  else if (short.startsWith('load/publish/received/') || short.startsWith('load/publish/sent/')) {
    const dir = short.includes('received') ? 'received' : 'sent';
    const per = (w) => formatNumber(num(`load/publish/${dir}/${w}`) / 60);
    const sub = $(dir === 'received' ? 'stat-in-load' : 'stat-out-load');
    sub.textContent = `${per('1min')} · ${per('5min')} · ${per('15min')}`;
    sub.title = 'average per second over 1, 5 and 15 minutes';
  } else if (short === 'uptime') {
    $('uptime').textContent = `up ${duration(Number.parseInt(text, 10) || 0)}`;
    tick();
  }
  if (before !== undefined && before !== text) {
    // Counts that change mean the lists changed: refresh them (event-driven, no timer).
    if (short === 'retained messages/count') refresh('retained');
    else if (short === 'subscriptions/count') refresh('subscriptions');
    else if (short === 'clients/total') refresh('sessions');
  }
}

/** A $SYS round ends with the uptime: turn the counters into per-second rates. */
function tick() {
  const now = performance.now();
  const cur = {
    in: num('publish/messages/received'),
    out: num('publish/messages/sent'),
    bin: num('bytes/received'),
    bout: num('bytes/sent'),
  };
  if (lastTick) {
    const dt = (now - lastTick.t) / 1000;
    if (dt > 0.2) {
      const rate = (k) => Math.max(0, (cur[k] - lastTick.v[k]) / dt);
      messagesChart.push(Date.now(), [rate('in'), rate('out')]);
      bytesChart.push(Date.now(), [rate('bin'), rate('bout')]);
      $('stat-in').textContent = formatNumber(rate('in'));
      $('stat-out').textContent = formatNumber(rate('out'));
      $('stat-bytes').textContent = `${formatNumber(rate('bin'))} · ${formatNumber(rate('bout'))}`;
    }
  }
  lastTick = { t: now, v: cur };
}

function setLive(state, text) {
  const l = $('live');
  l.className = `live ${state}`;
  l.textContent = `● ${text}`;
}

async function connectMqtt(info) {
  if (info.sysInterval === 0) {
    setLive('off', '$SYS is off');
    notice('$SYS topics are off (sys.interval: 0): live figures and charts need them.');
    return;
  }
  const m = info.mqtt;
  if (!m) {
    setLive('off', 'no WebSocket listener');
    notice('No WebSocket listener is configured: live figures and charts need one (or set dashboard.mqttUrl).');
    return;
  }
  const url = m.url ?? `${m.protocol}://${m.host ?? location.hostname}:${m.port}${m.path ?? '/mqtt'}`;
  const client = new MqttClient({
    url,
    protocolVersion: 5,
    clientId: `${m.clientIdPrefix}${Math.random().toString(36).slice(2, 10)}`,
    username: m.username,
    password: m.password,
    keepAlive: 30,
    reconnect: { minDelayMs: 1000, maxDelayMs: 10000 },
  });
  client.on('messageIn', (msg) => onSys(msg.topic, msg.text));
  client.on('connected', (e) => {
    if (e.statusCode === 0) setLive('on', `live · ${url}`);
    else setLive('off', `MQTT refused: ${e.description}`);
  });
  client.on('disconnected', () => {
    setLive('off', 'reconnecting');
    lastTick = undefined;
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.subscribe(`${sysPrefix}#`, { qos: 0 });
  } catch (err) {
    setLive('off', `MQTT: ${err.message}`);
  }
}

// --- start ------------------------------------------------------------------------------

function askToken(message = '') {
  $('main').classList.add('hidden');
  $('token-form').classList.remove('hidden');
  $('token-error').textContent = message;
  $('token-input').focus();
}

$('token-form').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token-input').value;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('token-form').classList.add('hidden');
  $('main').classList.remove('hidden');
  void start();
});

let filterTimer;
for (const [input, list] of [
  ['clients-filter', 'clients'],
  ['retained-filter', 'retained'],
]) {
  $(input).addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => refresh(list), 200);
  });
}
$('retained-sys').addEventListener('change', () => refresh('retained'));

let started = false;
async function start() {
  let info;
  try {
    info = await api('/api/info');
  } catch (err) {
    if (err instanceof Unauthorized) return askToken(token ? 'that token was not accepted' : '');
    notice(`cannot reach the broker: ${err.message}`);
    return;
  }
  if (started) return;
  started = true;
  $('version').textContent = `v${info.version}`;
  sysPrefix = `${info.sysPrefix}/`;
  $('listeners').textContent = info.listeners.map((l) => `${l.protocol}:${l.port}`).join(' · ');
  for (const name of Object.keys(loaders)) refresh(name);
  const events = new EventSource(`/api/events${token ? `?token=${encodeURIComponent(token)}` : ''}`);
  events.addEventListener('change', (e) => {
    for (const what of JSON.parse(e.data)) {
      if (what === 'clients') {
        refresh('clients');
        refresh('sessions');
      } else if (what === 'subscriptions') refresh('subscriptions');
      else if (what === 'sessions') refresh('sessions');
      else if (what === 'retained') refresh('retained');
    }
  });
  events.addEventListener('open', () => {
    // After a reconnect of the stream, changes may have been missed.
    for (const name of Object.keys(loaders)) refresh(name);
  });
  await connectMqtt(info);
}

void start();
