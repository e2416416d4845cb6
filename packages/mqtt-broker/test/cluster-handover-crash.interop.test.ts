// A persistent session whose NEW node dies in the middle of its hand-over. The subscriber moves
// from A to B under sustained QoS 1/2 traffic from A and C, and B is SIGKILLed at an exact step
// of the take-over (IOTWIRE_CLUSTER_CRASH_AT, src/cluster/crash-point.ts):
// - `takeover-released`: A has let go of the session (and hands on what reaches it), B has not
//   taken the client id yet;
// - `takeover-claimed`: B has taken the client id, the session is not loaded there yet;
// - `handover-announce`: B has loaded the session and announced its filters, and dies before
//   asking the others to fence A.
// The reaper is chosen by freezing the other survivor while B is reaped: A (which still hands
// the session on to B: the adopted session takes the ghost's place) or C (A's ghost turns to C).
// The session and every acknowledged message must survive — none lost, QoS 2 exactly once —
// when the client comes back (on C).
import mqtt, { Store } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { ClusterHarness, expectEveryAckedOnce, type Received, sleep, until } from './helpers/cluster-nodes.js';

let h: ClusterHarness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
}, 30_000);

describe('the new node of a moving session dies mid-hand-over', () => {
  const cases = [
    ['takeover-released', 'c'],
    ['takeover-claimed', 'a'],
    ['handover-announce', 'a'],
    ['handover-announce', 'c'],
  ] as const;
  for (const [label, reaper] of cases) {
    it(`at ${label}, reaped by ${reaper.toUpperCase()}: the session and every acknowledged message survive, QoS 2 once`, async () => {
      const harness = (h = new ClusterHarness());
      // A and C outlive a few seconds frozen (nodeTimeout); B is found dead quickly.
      await harness.start(
        ['a', 'b', 'c'],
        undefined,
        (id): Record<string, string> => (id === 'b' ? { IOTWIRE_CLUSTER_CRASH_AT: label } : { IOTWIRE_TEST_NODE_TIMEOUT: '10000' }),
      );
      const store = new Store();
      const opts = { clientId: 'hc-sub', clean: false, properties: { sessionExpiryInterval: 600 }, incomingStore: store };
      const got: Received[] = [];
      const first = await harness.connectCollecting('a', opts, got);
      await first.client.subscribeAsync('hc/#', { qos: 2 });
      await harness.announced('a', 'hc/#');

      const acked: { payload: string; qos: 1 | 2 }[] = [];
      let publishing = true;
      const publishers = ['a', 'c'].map(async (id) => {
        const pub = await harness.connect(id, { clientId: `hc-pub-${id}` });
        for (let i = 0; publishing && i < 5000; i++) {
          const qos = ((i % 2) + 1) as 1 | 2;
          const payload = `${id}-${qos}-${i}`;
          await pub.publishAsync(`hc/${qos}`, payload, { qos });
          acked.push({ payload, qos });
          await sleep(3);
        }
      });
      await sleep(300);
      // The subscriber moves to B, which dies at the crash point.
      const b = harness.node('b');
      const doomed = mqtt.connect(`mqtt://127.0.0.1:${b.port}`, {
        ...opts,
        protocolVersion: 5,
        reconnectPeriod: 0,
        connectTimeout: 10_000,
      });
      doomed.on('message', (topic, payload, packet) =>
        got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }),
      );
      doomed.on('error', () => {});
      await b.exited;
      // The other survivor is frozen until the reaper has adopted the session.
      const other = harness.node(reaper === 'a' ? 'c' : 'a');
      other.child.kill('SIGSTOP');
      try {
        await until(async () => (await harness.redis.get('iotwire:owner:hc-sub')) === reaper, 20_000, 'the session adopted');
      } finally {
        other.child.kill('SIGCONT');
      }
      // (Not ended: end() would close the receive store the client shares across its connections.)
      await new Promise<void>((resolve) => (doomed.connected ? doomed.once('close', () => resolve()) : resolve()));
      // Traffic goes on through B's death and its reaping.
      await until(async () => (await harness.redis.sismember('iotwire:nodes', 'b')) === 0, 30_000, 'B reaped');
      await sleep(500);
      publishing = false;
      await Promise.all(publishers);
      expect(acked.length).toBeGreaterThan(50);

      const back = await harness.connectCollecting('c', opts, got);
      expect(back.sessionPresent).toBe(true);
      await expectEveryAckedOnce(acked, got, 20_000, 800);
    }, 60_000);
  }
});
