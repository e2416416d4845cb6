/**
 * Fault injection for the cluster's failure tests: with `IOTWIRE_CLUSTER_CRASH_AT=<label>` in
 * the environment the process kills itself (SIGKILL, as a power cut would) the first time the
 * code reaches `crashPoint('<label>')`. The tests use it to stop a node at an exact step of a
 * hand-over, a reaping or a Will publication instead of racing timers. Unset, it is a no-op.
 */
const at = process.env.IOTWIRE_CLUSTER_CRASH_AT;

export function crashPoint(label: string): void {
  if (at === label) process.kill(process.pid, 'SIGKILL');
}
