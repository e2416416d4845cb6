/**
 * Inbound PUBLISH and PUBREL: topic aliases, limits, QoS 2 de-duplication, authorization and
 * interception hooks, routing, and the receiver side of the QoS 1/2 handshakes (incoming
 * states 6-10).
 */
import { type PublishPacket, topicNameProblem } from '@iotwire/mqtt-packet';
import { ConnState, type MqttConnection } from './connection.js';
import type { BrokerCore } from './core.js';
import type { BrokerConnectionInfo, PublishRequest } from './events.js';
import { type AuthorizePublishArgs, type InterceptPublishArgs, runChain } from './hooks.js';
import { BrokerMessage } from './message.js';

const PUBACK = 0x40;
const PUBREC = 0x50;
const PUBCOMP = 0x70;

export function handlePublish(core: BrokerCore, conn: MqttConnection, p: PublishPacket): void {
  const session = conn.session;
  if (session === null) return;
  let topic = p.topic;
  const props = p.properties;
  if (conn.version === 5 && props !== undefined && props.topicAlias !== undefined) {
    const alias = props.topicAlias;
    if (alias > core.options.topicAliasMaximum) {
      // [MQTT-3.3.2-9] [MQTT-3.3.2-10]: 0 (rejected by the decoder) or above our maximum.
      core.protocolViolation(conn, `Topic Alias ${alias} above the maximum ${core.options.topicAliasMaximum}`, 0x94);
      return;
    }
    if (topic === '') {
      const known = conn.aliasIn?.get(alias);
      if (known === undefined) {
        core.protocolViolation(conn, `unknown Topic Alias ${alias}`, 0x82);
        return;
      }
      topic = known;
    } else {
      (conn.aliasIn ??= new Map()).set(alias, topic);
    }
  }
  // Limits beyond the decoder's checks; short topics cannot break them, so most skip the scan.
  if (topic.length * 3 > core.limits.maxTopicLength || topic.length >= core.limits.maxTopicLevels) {
    const problem = topicNameProblem(topic, { maxLength: core.limits.maxTopicLength, maxLevels: core.limits.maxTopicLevels });
    if (problem !== undefined) {
      refuseTopic(core, conn, p, problem);
      return;
    }
  }
  if (p.qos > core.options.maximumQoS) {
    core.protocolViolation(conn, `QoS ${p.qos} above Maximum QoS ${core.options.maximumQoS}`, 0x9b); // [MQTT-3.3.1-?] 5.0 §3.2.2.3.4
    return;
  }
  if (p.retain && !core.options.retainAvailable) {
    core.protocolViolation(conn, 'retained messages are not supported', 0x9a); // 5.0 §3.2.2.3.5
    return;
  }
  const packetId = p.packetId ?? 0;
  if (p.qos === 2) {
    const pending = session.incoming.get(packetId);
    if (pending !== undefined) {
      // A re-sent QoS 2 PUBLISH in state 8: acknowledge again, do not forward again [MQTT-4.3.3-9].
      conn.sendAck(PUBREC, packetId);
      return;
    }
    if (conn.version === 5 && session.incoming.size >= core.options.receiveMaximum) {
      core.protocolViolation(conn, 'Receive Maximum exceeded', 0x93); // [MQTT-3.3.4-9]
      return;
    }
  }
  let properties = props;
  let expiresAt = 0;
  if (props !== undefined) {
    if (props.topicAlias !== undefined) {
      const { topicAlias: _drop, ...rest } = props;
      properties = Object.keys(rest).length > 0 ? rest : undefined;
    }
    if (props.messageExpiryInterval !== undefined) expiresAt = Date.now() + props.messageExpiryInterval * 1000;
  }
  const messageId = core.nextMessageId();
  const payload = p.payload as Buffer;
  if (core.inEvents) {
    const meta = {
      connectionId: conn.connectionId,
      clientId: conn.clientId,
      messageId,
      topic,
      dup: p.dup,
      qos: p.qos,
      retain: p.retain,
      packetId: p.qos === 0 ? -1 : packetId,
    };
    core.safeEmit('messageReceiving', meta);
    if (p.qos > 0) core.safeEmit('incomingMessageStatus', { ...meta, state: p.qos === 1 ? 6 : 7 });
  }
  if (core.publishAuthSteps.length === 0 && core.publishInterceptSteps.length === 0) {
    const mark = core.opsMark();
    const msg = new BrokerMessage(messageId, topic, payload, p.qos, p.retain, properties, expiresAt, conn.clientId);
    const n = core.publishMessage(msg, conn.clientId);
    acknowledge(core, conn, p, messageId, topic, n === 0 ? 0x10 : 0);
    if (p.qos > 0) core.gateSince(conn, mark);
    return;
  }
  const req: PublishRequest = { topic, payload, qos: p.qos, retain: p.retain, properties };
  const pending = runPublishHooks(core, conn, req, undefined, (accepted, final, reasonCode) => {
    const mark = core.opsMark();
    let n = 0;
    if (accepted) {
      const msg = new BrokerMessage(
        messageId,
        final.topic,
        final.payload,
        final.qos,
        final.retain,
        final.properties,
        expiresAt,
        conn.clientId,
      );
      n = core.publishMessage(msg, conn.clientId);
    }
    if (conn.state === ConnState.Connected) {
      acknowledge(core, conn, p, messageId, topic, accepted ? (n === 0 ? 0x10 : 0) : reasonCode);
      if (p.qos > 0) core.gateSince(conn, mark);
    }
  });
  if (pending !== undefined) {
    conn.hold();
    void pending.then(() => conn.release());
  }
}

/**
 * Runs `authorizePublish` then `onPublish` hooks; `done(accepted, request, reasonCode)`.
 * Returns a Promise only when a hook was asynchronous.
 */
export function runPublishHooks(
  core: BrokerCore,
  client: BrokerConnectionInfo | undefined,
  req: PublishRequest,
  will: { clientId: string; userName: string } | undefined,
  done: (accepted: boolean, req: PublishRequest, reasonCode: number) => void,
): Promise<void> | undefined {
  const auth: AuthorizePublishArgs =
    will === undefined
      ? { client, message: req, accept: true, reasonCode: undefined }
      : { client, will, message: req, accept: true, reasonCode: undefined };
  const onErr = (a: { accept?: boolean; drop?: boolean }, err: unknown) => {
    if ('accept' in a) a.accept = false;
    else a.drop = true;
    core.internalError(undefined, err);
  };
  const p1 = runChain(
    core.publishAuthSteps as ((a: AuthorizePublishArgs) => unknown)[],
    auth,
    (a, r) => {
      if (r === false) a.accept = false;
      else if (r === true) a.accept = true;
    },
    onErr,
  );
  const second = (): void | Promise<void> => {
    if (!auth.accept) {
      done(false, req, auth.reasonCode ?? 0x87);
      return;
    }
    const icpt: InterceptPublishArgs = { client, message: req, drop: false };
    const p2 = runChain(core.publishInterceptSteps as ((a: InterceptPublishArgs) => unknown)[], icpt, () => {}, onErr);
    const fin = () => {
      const m = icpt.message;
      const problem = icpt.drop ? 'dropped' : topicNameProblem(m.topic);
      if (problem !== undefined) done(false, m, icpt.drop ? 0x87 : 0x90);
      else done(true, m, 0);
    };
    if (p2 === undefined) fin();
    else return p2.then(fin);
  };
  if (p1 === undefined) {
    const r = second();
    return r === undefined ? undefined : r;
  }
  return p1.then(second);
}

function refuseTopic(core: BrokerCore, conn: MqttConnection, p: PublishPacket, problem: string): void {
  if (conn.version === 5 && p.qos > 0) {
    core.clientError(conn, problem, 601, new Error(problem));
    conn.sendAck(p.qos === 1 ? PUBACK : PUBREC, p.packetId ?? 0, 0x90);
    return;
  }
  core.protocolViolation(conn, problem, 0x90, 601);
}

/** Answers the sender: PUBACK / PUBREC (entering state 8), and the incoming status events. */
function acknowledge(core: BrokerCore, conn: MqttConnection, p: PublishPacket, messageId: number, topic: string, reasonCode: number): void {
  const qos = p.qos;
  if (qos === 0) {
    if (core.inEvents) received(core, conn, p, messageId, topic, 10);
    return;
  }
  const packetId = p.packetId as number;
  // 3.1.1 cannot refuse a PUBLISH: acknowledge positively (and drop) [MQTT-3.3.5-2].
  const rc = conn.version === 5 ? reasonCode : 0;
  if (qos === 1) {
    conn.sendAck(PUBACK, packetId, rc);
    if (core.inEvents) received(core, conn, p, messageId, topic, 10);
    return;
  }
  conn.sendAck(PUBREC, packetId, rc);
  if (rc >= 0x80 && conn.version === 5) {
    // A failed PUBREC ends the exchange (5.0 §4.3.3): no PUBREL expected.
    if (core.inEvents) received(core, conn, p, messageId, topic, 10);
    return;
  }
  const session = conn.session;
  if (session !== null) {
    session.incoming.set(packetId, { messageId, topic, payload: p.payload as Buffer, qos: 2, retain: p.retain, dup: p.dup });
    if (session.persistent && core.persister) {
      core.persister.push({ type: 'putIncoming', clientId: session.clientId, incoming: { packetId, messageId, topic, qos: 2 } });
    }
  }
  if (core.inEvents) {
    core.safeEmit('incomingMessageStatus', {
      connectionId: conn.connectionId,
      clientId: conn.clientId,
      messageId,
      topic,
      dup: p.dup,
      qos: 2,
      retain: p.retain,
      packetId,
      state: 8,
    });
  }
}

function received(core: BrokerCore, conn: MqttConnection, p: PublishPacket, messageId: number, topic: string, state: number): void {
  core.safeEmit('incomingMessageStatus', {
    connectionId: conn.connectionId,
    clientId: conn.clientId,
    messageId,
    topic,
    dup: p.dup,
    qos: p.qos,
    retain: p.retain,
    packetId: p.qos === 0 ? -1 : (p.packetId as number),
    state,
  });
  core.safeEmit('messageReceived', { connectionId: conn.connectionId, clientId: conn.clientId, messageId });
}

/** PUBREL: release the packet id (state 9), answer PUBCOMP, state 10. */
export function handlePubrel(core: BrokerCore, conn: MqttConnection, packetId: number): void {
  const session = conn.session;
  const rec = session?.incoming.get(packetId);
  if (session === null || rec === undefined) {
    // Unknown id: PUBCOMP anyway. On a resumed session this is recovery (a re-sent PUBREL whose
    // PUBCOMP was lost, e.g. to a broker restart): success, as Mosquitto answers — 5.0 says 0x92
    // "is not an error during recovery", but clients fail the publish on it. Otherwise 0x92.
    conn.sendAck(PUBCOMP, packetId, conn.resumed ? 0 : 0x92);
    return;
  }
  session.incoming.delete(packetId);
  if (session.persistent && core.persister) {
    // PUBCOMP frees the packet id: it waits until the freeing is durable, or a restart would
    // take the sender's next message with this id for a duplicate and drop it.
    core.persister.push({ type: 'deleteIncoming', clientId: session.clientId, packetId });
    core.persister.gate(conn);
  }
  const ev = core.inEvents
    ? {
        connectionId: conn.connectionId,
        clientId: conn.clientId,
        messageId: rec.messageId,
        topic: rec.topic,
        dup: rec.dup,
        qos: 2 as const,
        retain: rec.retain,
        packetId,
      }
    : undefined;
  if (ev) core.safeEmit('incomingMessageStatus', { ...ev, state: 9 });
  conn.sendAck(PUBCOMP, packetId);
  if (ev) {
    core.safeEmit('incomingMessageStatus', { ...ev, state: 10 });
    core.safeEmit('messageReceived', { connectionId: conn.connectionId, clientId: conn.clientId, messageId: rec.messageId });
  }
}
