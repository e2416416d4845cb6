/**
 * The app's access hooks. They forward to the authentication and authorization hooks in force
 * (password file, ACL file), so SIGHUP can swap or drop them, and they admit the dashboard's
 * own MQTT connection: a per-process secret that may subscribe to `$SYS/…` only, whatever the
 * password file and ACL say (with an ACL it may not publish either; without one, every client
 * may). Per-message hooks (publish and delivery checks) are registered only while an ACL is
 * configured: without one, the broker's publish path stays hook-free.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type {
  AclHook,
  AuthorizeDeliveryArgs,
  AuthorizePublishArgs,
  BrokerConnectionInfo,
  BrokerHook,
  DisconnectInfo,
  MqttBroker,
  PasswordFileHook,
  SessionRequestEvent,
  SubscribeEvent,
} from '@iotwire/mqtt-broker';

/** The dashboard's MQTT identity (user name) and the client id prefix reserved for it. */
export const DASHBOARD_USER = 'iotwire-dashboard';
const PREFIX = `${DASHBOARD_USER}-`;

export type ClientChange = 'connect' | 'disconnect' | 'subscribe' | 'unsubscribe';

const isSys = (topic: string) => topic.startsWith('$SYS/');

export class AccessControl {
  /** The dashboard's MQTT password: random per process, handed to the page by the dashboard API. */
  readonly dashboardSecret = randomBytes(24).toString('base64url');
  readonly #broker: MqttBroker;
  #auth: PasswordFileHook | undefined;
  #acl: AclHook | undefined;
  readonly #dashboardConns = new Set<string>();
  readonly #dashboardClients = new Set<string>();
  readonly #observers = new Set<(what: ClientChange, client: BrokerConnectionInfo) => void>();

  /** Always on: CONNECT, SUBSCRIBE and connection-change hooks (none of them per message). */
  readonly #main: BrokerHook = {
    name: 'iotwire-broker access',
    authenticate: (a) => this.#authenticate(a),
    authorizeSubscribe: (a) => this.#authorizeSubscribe(a),
    onConnect: (client) => this.#notify('connect', client),
    onDisconnect: (info: DisconnectInfo) => {
      this.#dashboardClients.delete(info.client.clientId);
      this.#notify('disconnect', info.client);
    },
    onSubscribed: (client) => this.#notify('subscribe', client),
    onUnsubscribed: (client) => this.#notify('unsubscribe', client),
  };

  /** Only while an ACL is configured: every publish and every delivery is checked. */
  readonly #perMessage: BrokerHook = {
    name: 'iotwire-broker ACL',
    authorizePublish: (a: AuthorizePublishArgs) => {
      if (a.client !== undefined && this.#dashboardConns.has(a.client.connectionId)) return false;
      return this.#acl?.authorizePublish?.(a) as boolean | undefined;
    },
    authorizeDelivery: (a: AuthorizeDeliveryArgs) => {
      if (this.#dashboardClients.has(a.clientId)) return isSys(a.topic);
      return this.#acl?.authorizeDelivery?.(a);
    },
  };

  constructor(broker: MqttBroker) {
    this.#broker = broker;
    broker.addHook(this.#main);
    broker.on('disconnected', (e) => this.#dashboardConns.delete(e.connectionId));
  }

  /** The password-file hook in force (undefined: no password file). */
  get auth(): PasswordFileHook | undefined {
    return this.#auth;
  }
  set auth(hook: PasswordFileHook | undefined) {
    this.#auth = hook;
  }

  /** The ACL hook in force (undefined: no ACL, every client may publish and subscribe anywhere). */
  get acl(): AclHook | undefined {
    return this.#acl;
  }
  set acl(hook: AclHook | undefined) {
    const had = this.#acl !== undefined;
    this.#acl = hook;
    if (hook && !had) this.#broker.addHook(this.#perMessage);
    else if (!hook && had) this.#broker.removeHook(this.#perMessage);
  }

  /** Is this connection the dashboard's own? */
  isDashboard(connectionId: string): boolean {
    return this.#dashboardConns.has(connectionId);
  }

  /** Observes client changes (the dashboard pushes them to the page). Returns an unsubscribe. */
  observe(fn: (what: ClientChange, client: BrokerConnectionInfo) => void): () => void {
    this.#observers.add(fn);
    return () => this.#observers.delete(fn);
  }

  #notify(what: ClientChange, client: BrokerConnectionInfo): void {
    for (const fn of this.#observers) fn(what, client);
  }

  /** Synchronous unless a password file has to be consulted (a connect storm stays cheap without one). */
  #authenticate(a: SessionRequestEvent): boolean | undefined | Promise<boolean | undefined> {
    if (a.clientId.startsWith(PREFIX)) {
      // The prefix is reserved: only the dashboard's secret opens it.
      const want = Buffer.from(this.dashboardSecret);
      const given = a.password;
      if (a.userName === DASHBOARD_USER && given !== undefined && given.length === want.length && timingSafeEqual(given, want)) {
        this.#dashboardConns.add(a.connectionId);
        this.#dashboardClients.add(a.clientId);
        a.accept = true;
        return true;
      }
      a.reasonCode = 0x87;
      a.reasonString = `client ids starting with ${PREFIX} are reserved for the dashboard`;
      return false;
    }
    const auth = this.#auth;
    if (auth?.authenticate === undefined) return undefined;
    return auth.authenticate(a) as boolean | undefined | Promise<boolean | undefined>;
  }

  #authorizeSubscribe(a: SubscribeEvent): number | boolean | undefined | Promise<number | boolean | undefined> {
    if (this.#dashboardConns.has(a.connectionId)) return isSys(a.topicFilter) ? undefined : 0x87;
    return this.#acl?.authorizeSubscribe?.(a) as number | boolean | undefined;
  }
}
