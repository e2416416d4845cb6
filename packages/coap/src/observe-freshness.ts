/** RFC 7641 §3.4: Observe values are 24-bit and may wrap; after 128 s any value counts as newer. */
const HALF = 1 << 23;
const REORDER_WINDOW_MS = 128_000;

/**
 * True if a notification with Observe value `v2` received at `t2` is newer than the latest one
 * seen so far (`v1` at `t1`), per RFC 7641 §3.4.
 */
export function isNewerNotification(v1: number, t1: number, v2: number, t2: number): boolean {
  return (v1 < v2 && v2 - v1 < HALF) || (v1 > v2 && v1 - v2 > HALF) || t2 > t1 + REORDER_WINDOW_MS;
}

/** The next 24-bit Observe sequence value. */
export function nextObserveValue(v: number): number {
  return (v + 1) & 0xffffff;
}
