import { performance } from 'node:perf_hooks';

export interface Measurement {
  name: string;
  ops: number;
  elapsedMs: number;
  opsPerSec: number;
}

/**
 * Runs `fn` in batches for about `durationMs` (after `warmupMs` of warm-up) and returns ops/s.
 * Bounded: stops after `maxOps` operations whatever the clock says.
 */
export function measureSync(
  name: string,
  fn: () => void,
  options: { durationMs?: number; warmupMs?: number; batch?: number; maxOps?: number } = {},
): Measurement {
  const { durationMs = 1000, warmupMs = 200, batch = 1000, maxOps = 1e9 } = options;
  let end = performance.now() + warmupMs;
  while (performance.now() < end) for (let i = 0; i < batch; i++) fn();
  let ops = 0;
  const start = performance.now();
  end = start + durationMs;
  while (performance.now() < end && ops < maxOps) {
    for (let i = 0; i < batch; i++) fn();
    ops += batch;
  }
  const elapsedMs = performance.now() - start;
  return { name, ops, elapsedMs, opsPerSec: (ops / elapsedMs) * 1000 };
}

/** `ours / theirs`, rounded to two decimals. */
export function ratio(ours: number, theirs: number): number {
  return theirs === 0 ? Number.POSITIVE_INFINITY : Math.round((ours / theirs) * 100) / 100;
}

/** Formats a number with thousands separators and no decimals. */
export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Renders rows as a GitHub markdown table. */
export function markdownTable(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
