/**
 * CONNECT to CONNACK: client identifier rules, the Will, MQTT 5 limits and properties,
 * enhanced authentication (AUTH), the `sessionRequest` event and `authenticate` hooks,
 * take-over of a connected client id, clean/persistent sessions and session-present, then
 * redelivery of the resumed session.
 */
import { randomBytes } from 'node:crypto';
import type { AuthPacket, ConnackProperties, ConnectPacket } from '@iotwire/mqtt-packet';
import { certificateUserName } from './auth/certificate-identity.js';
import { type AuthExchange, ConnState, type MqttConnection } from './connection.js';
import type { BrokerCore } from './core.js';
import { resume } from './delivery.js';
import type { SessionRequestEvent } from './events.js';
import { type EnhancedAuthResult, runChain } from './hooks.js';
import { BrokerMessage } from './message.js';
import { sessionMeta } from './persistence.js';
import { Session } from './session.js';

export function handleConnect(core: BrokerCore, conn: MqttConnection, p: ConnectPacket): void {
  const v = p.protocolVersion;
  conn.version = v;
  conn.clientId = p.clientId;
  conn.userName = p.username ?? '';
  const identity = conn.stream.certificateIdentity;
  if (identity !== undefined) {
    // The certificate names the client; CONNECT's user name (and password) do not count.
    const cert = conn.peerCertificate;
    const name = cert === undefined ? undefined : certificateUserName(cert, identity);
    if (name === undefined) {
      core.log(1, 'Session', conn.connectionId, `refused: no client certificate ${identity === 'cn' ? 'Common Name' : 'subject'}`);
      if (v === 5) conn.close('no certificate identity', 0x87, 'Not authorized');
      else {
        conn.send({ type: 'connack', sessionPresent: false, reasonCode: 0x87 });
        conn.close('no certificate identity');
      }
      return;
    }
    conn.userName = name;
    conn.userNameFromCertificate = true;
  }
  conn.keepAlive = p.keepAlive;
  conn.state = ConnState.Connecting;
  const props = v === 5 ? p.properties : undefined;
  if (props !== undefined) {
    if (props.maximumPacketSize !== undefined) conn.maxOutPacket = props.maximumPacketSize;
    if (props.topicAliasMaximum !== undefined) conn.aliasOutMax = props.topicAliasMaximum;
    if (props.requestProblemInformation === false) conn.problemInfo = false;
  }
  conn.sendQuota = Math.min(props?.receiveMaximum ?? 65_535, core.limits.maxInflight);
  let assigned: string | undefined;
  if (p.clientId === '') {
    if (v !== 5 && !p.clean) {
      // [MQTT-3.1.3-8]: empty id with CleanSession=0 → 0x02 Identifier rejected, then close.
      conn.send({ type: 'connack', sessionPresent: false, reasonCode: 0x02 });
      conn.close('empty client id without clean session');
      return;
    }
    // [MQTT-3.1.3-6]: assign a unique id (returned to 5.0 clients in CONNACK).
    assigned = core.options.clientIdPrefix + randomBytes(8).toString('hex');
    conn.clientId = assigned;
  }
  if (p.will !== undefined) {
    const w = p.will;
    const problem = (() => {
      try {
        core.checkTopic(w.topic);
      } catch (e) {
        return { rc: 0x90, text: (e as Error).message };
      }
      if (w.qos > core.options.maximumQoS) return { rc: 0x9b, text: 'Will QoS not supported' };
      if (w.retain && !core.options.retainAvailable) return { rc: 0x9a, text: 'Will Retain not supported' };
      return undefined;
    })();
    if (problem !== undefined) {
      if (v === 5) conn.close(problem.text, problem.rc, problem.text);
      else conn.close(problem.text);
      return;
    }
    let wp = w.properties;
    if (wp?.willDelayInterval !== undefined) {
      conn.willDelay = wp.willDelayInterval;
      const { willDelayInterval: _d, ...rest } = wp;
      wp = Object.keys(rest).length > 0 ? rest : undefined;
    }
    conn.will = new BrokerMessage(0, w.topic, w.payload as Buffer, w.qos, w.retain, wp, 0, conn.clientId);
    conn.will.publisherUser = conn.userName;
  }
  const method = props?.authenticationMethod;
  if (method !== undefined) {
    const hook = core.hooks.find((h) => h.enhancedAuth !== undefined && h.authMethods?.includes(method));
    if (hook === undefined) {
      conn.close(`authentication method ${method} not supported`, 0x8c, 'Bad authentication method');
      return;
    }
    conn.authMethod = method;
    conn.authHook = hook;
    conn.auth = { hook, method, step: 0, reauth: false, state: {}, onSuccess: () => sessionRequest(core, conn, p, assigned) };
    authStep(core, conn, props?.authenticationData as Buffer | undefined);
    return;
  }
  sessionRequest(core, conn, p, assigned);
}

/** One step of enhanced authentication; `onSuccess` continues the CONNECT. */
function authStep(core: BrokerCore, conn: MqttConnection, data: Buffer | undefined): void {
  const ex = conn.auth as AuthExchange;
  const handle = (r: EnhancedAuthResult) => {
    if (conn.state >= ConnState.Closing) return;
    if (r.status === 'continue') {
      ex.step++;
      conn.send({
        type: 'auth',
        reasonCode: 0x18,
        properties: { authenticationMethod: ex.method, ...(r.data ? { authenticationData: r.data } : {}) },
      });
      return;
    }
    if (r.status === 'success') {
      conn.auth = null;
      if (ex.reauth) {
        conn.send({
          type: 'auth',
          reasonCode: 0,
          properties: { authenticationMethod: ex.method, ...(r.data ? { authenticationData: r.data } : {}) },
        });
        return;
      }
      ex.finalData = r.data;
      conn.auth = ex; // kept until CONNACK carries the final data
      ex.onSuccess();
      return;
    }
    conn.close('enhanced authentication failed', r.reasonCode ?? 0x87, r.reasonString ?? 'Not authorized');
  };
  let r: EnhancedAuthResult | Promise<EnhancedAuthResult>;
  try {
    r = (ex.hook.enhancedAuth as NonNullable<typeof ex.hook.enhancedAuth>)(conn.authArgs(data));
  } catch (err) {
    core.internalError(undefined, err);
    conn.close('enhanced authentication hook failed', 0x87);
    return;
  }
  if (r instanceof Promise || (typeof r === 'object' && r !== null && typeof (r as unknown as Promise<unknown>).then === 'function')) {
    conn.hold();
    void Promise.resolve(r).then(
      (res) => {
        handle(res);
        conn.release();
      },
      (err) => {
        core.internalError(undefined, err);
        conn.close('enhanced authentication hook failed', 0x87);
      },
    );
    return;
  }
  handle(r as EnhancedAuthResult);
}

/** AUTH from the client: continue an exchange, or start re-authentication (0x19). */
export function handleAuth(core: BrokerCore, conn: MqttConnection, p: AuthPacket): void {
  const method = p.properties?.authenticationMethod;
  const ex = conn.auth;
  if (ex !== null && p.reasonCode === 0x18 && ex.finalData === undefined) {
    if (method !== ex.method) {
      core.protocolViolation(conn, 'AUTH with another Authentication Method', 0x82); // [MQTT-4.12.0-5]
      return;
    }
    authStep(core, conn, p.properties?.authenticationData as Buffer | undefined);
    return;
  }
  if (ex === null && p.reasonCode === 0x19 && conn.state === ConnState.Connected && conn.authHook !== undefined) {
    if (method !== conn.authMethod) {
      core.protocolViolation(conn, 're-authentication with another method', 0x82); // [MQTT-4.12.1-1]
      return;
    }
    conn.auth = { hook: conn.authHook, method: conn.authMethod as string, step: 0, reauth: true, state: {}, onSuccess: () => {} };
    authStep(core, conn, p.properties?.authenticationData as Buffer | undefined);
    return;
  }
  // AUTH without an exchange, or from a client that did not use enhanced auth [MQTT-4.12.0-1].
  core.protocolViolation(conn, `unexpected AUTH (reason 0x${p.reasonCode.toString(16)})`, 0x82);
}

function sessionRequest(core: BrokerCore, conn: MqttConnection, p: ConnectPacket, assigned: string | undefined): void {
  const args: SessionRequestEvent = {
    connectionId: conn.connectionId,
    clientId: conn.clientId,
    userName: conn.userName,
    password: p.password as Buffer | undefined,
    isNew: p.clean,
    protocolVersion: p.protocolVersion,
    connection: conn,
    userProperties: p.properties?.userProperties,
    accept: true,
    reasonCode: undefined,
    reasonString: undefined,
  };
  // The sessionRequest listeners are the first steps of the authentication chain (they may be async).
  const steps = [
    ...(core.emitter.rawListeners('sessionRequest') as ((a: SessionRequestEvent) => unknown)[]),
    ...(core.authenticateSteps as ((a: SessionRequestEvent) => unknown)[]),
  ];
  const fin = () => {
    if (conn.state !== ConnState.Connecting) return;
    if (
      args.accept &&
      !core.options.allowAnonymous &&
      conn.userName === '' &&
      args.password === undefined &&
      conn.authMethod === undefined
    ) {
      // Anonymous access is off: no hook can let a client without credentials in.
      args.accept = false;
      args.reasonCode = 0x87;
    }
    if (!args.accept) {
      const rc = args.reasonCode !== undefined && args.reasonCode >= 0x80 ? args.reasonCode : 0x87;
      core.log(1, 'Session', conn.connectionId, `session request of ${conn.clientId} refused (0x${rc.toString(16)})`);
      if (conn.version === 5) conn.close('refused by sessionRequest', rc, args.reasonString);
      else {
        conn.send({ type: 'connack', sessionPresent: false, reasonCode: rc }); // mapped to 0x01-0x05 [MQTT-3.2.2-5]
        conn.close('refused by sessionRequest');
      }
      return;
    }
    const cluster = core.cluster;
    if (cluster === null) {
      acceptConnect(core, conn, p, assigned);
      return;
    }
    // Clustered: the client id (and its session) may be on another node: take it over first.
    conn.hold();
    cluster.claim(conn.clientId, p.clean).then(
      () => {
        if (conn.state === ConnState.Connecting) acceptConnect(core, conn, p, assigned);
        conn.release();
      },
      (err: unknown) => {
        core.internalError(undefined, err);
        if (conn.version === 5) conn.close('cluster take-over failed', 0x88, 'Server unavailable');
        else {
          conn.send({ type: 'connack', sessionPresent: false, reasonCode: 0x88 });
          conn.close('cluster take-over failed');
        }
      },
    );
  };
  const r =
    steps.length === 0
      ? undefined
      : runChain(
          steps,
          args,
          (a, res) => {
            if (res === false) a.accept = false;
            else if (res === true) a.accept = true;
          },
          (a, err) => {
            a.accept = false;
            core.internalError(undefined, err);
          },
        );
  if (r === undefined) fin();
  else {
    conn.hold();
    void r.then(() => {
      fin();
      conn.release();
    });
  }
}

function acceptConnect(core: BrokerCore, conn: MqttConnection, p: ConnectPacket, assigned: string | undefined): void {
  const clientId = conn.clientId;
  const v = conn.version;
  const o = core.options;
  let session = core.sessions.get(clientId);
  const requested = v === 5 ? (p.properties?.sessionExpiryInterval ?? 0) : p.clean ? 0 : o.maxSessionExpiryInterval;
  const expiry = Math.min(requested, o.maxSessionExpiryInterval);
  conn.connectExpiry = expiry;
  // Take-over [MQTT-3.1.4-2]: the existing connection of this client id is closed (5.0: 0x8E).
  const old = session?.connection;
  if (session !== undefined && old !== null && old !== undefined && old !== conn) {
    old.session = null;
    session.connection = null;
    const will = old.will;
    old.will = undefined;
    old.graceful = true; // its Will is handled here
    // A delayed Will is not sent when the session continues before the delay [MQTT-3.1.3-9] (5.0).
    if (will !== undefined && !(old.willDelay > 0 && !p.clean && expiry > 0)) core.publishWill(will);
    old.close('session taken over', 0x8e, 'Session taken over');
  }
  let present = false;
  if (session !== undefined && p.clean) {
    core.removeSession(session, 'clean start');
    session = undefined;
  }
  if (session !== undefined) {
    present = true;
    session.clearTimers();
    session.will = undefined; // reconnected before the Will Delay: not sent
  } else {
    session = new Session(clientId);
    core.sessions.set(clientId, session);
  }
  session.expiryInterval = expiry;
  session.protocolVersion = v as 3 | 4 | 5;
  session.userName = conn.userName;
  session.connection = conn;
  session.disconnectedAt = 0;
  conn.session = session;
  conn.state = ConnState.Connected;
  let properties: ConnackProperties | undefined;
  if (v === 5) {
    properties = { ...core.connackBase };
    if (assigned !== undefined) properties.assignedClientIdentifier = assigned;
    if (o.maxKeepAlive > 0 && (p.keepAlive === 0 || p.keepAlive > o.maxKeepAlive)) {
      properties.serverKeepAlive = o.maxKeepAlive;
      conn.keepAlive = o.maxKeepAlive;
    }
    if (expiry !== requested) properties.sessionExpiryInterval = expiry;
    if (p.properties?.requestResponseInformation && o.responseInformation !== undefined)
      properties.responseInformation = o.responseInformation;
    const ex = conn.auth;
    if (ex !== null) {
      properties.authenticationMethod = ex.method;
      if (ex.finalData !== undefined) properties.authenticationData = ex.finalData;
      conn.auth = null;
    }
  }
  // Session Present is 0 whenever Clean Session/Start is set [MQTT-3.2.2-1] [MQTT-3.2.2-2].
  conn.resumed = present;
  conn.send({ type: 'connack', sessionPresent: present && v !== 3, reasonCode: 0, properties });
  if (session.persistent && core.persister) {
    core.persister.push({ type: 'putSession', session: sessionMeta(session) });
    core.persister.gate(conn);
  }
  core.cluster?.connected(conn);
  core.log(
    1,
    'Session',
    conn.connectionId,
    `${clientId} connected (MQTT ${v === 3 ? '3.1' : v === 4 ? '3.1.1' : '5.0'}, ${present ? 'resumed' : 'new'} session)`,
  );
  for (const h of core.hooks) {
    if (h.onConnect) {
      try {
        h.onConnect(conn, present);
      } catch (err) {
        core.internalError(undefined, err);
      }
    }
  }
  if (present) resume(core, conn, session);
}
