import { describe, expect, it } from 'vitest';
import { markdownTable, measureSync, ratio } from '../src/index.js';

describe('bench helpers', () => {
  it('measures a bounded number of operations', () => {
    let n = 0;
    const m = measureSync('count', () => n++, { durationMs: 50, warmupMs: 0, batch: 10, maxOps: 100 });
    expect(m.ops).toBe(100);
    expect(n).toBe(100);
    expect(m.opsPerSec).toBeGreaterThan(0);
  });
  it('computes ratios and tables', () => {
    expect(ratio(3, 2)).toBe(1.5);
    expect(markdownTable(['a', 'b'], [[1, 2]])).toBe('| a | b |\n| --- | --- |\n| 1 | 2 |');
  });
});
