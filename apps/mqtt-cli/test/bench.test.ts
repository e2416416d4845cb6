import { Writable } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from '../src/bench/histogram.js';
import { bar, Progress, progressLine } from '../src/bench/progress.js';
import { type BenchResult, type BenchState, benchPayload, HEADER_BYTES, recordReceipt, summaryTable } from '../src/bench/run.js';
import { renderTable } from '../src/bench/table.js';

describe('LatencyHistogram', () => {
  it('percentiles are within 1% of the exact order statistic', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1, max: 1e8, noNaN: true }), { minLength: 1, maxLength: 2000 }),
        fc.constantFrom(1, 50, 90, 95, 99, 100),
        (values, p) => {
          const h = new LatencyHistogram();
          for (const v of values) h.record(v);
          const sorted = [...values].sort((a, b) => a - b);
          const exact = sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
          const got = h.percentile(p);
          expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(0.01);
          expect(h.count).toBe(values.length);
          expect(h.min).toBe(sorted[0]);
          expect(h.max).toBe(sorted[sorted.length - 1]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('is empty-safe and clamps sub-microsecond and negative samples', () => {
    const h = new LatencyHistogram();
    expect([h.count, h.min, h.max, h.mean, h.percentile(99)]).toEqual([0, 0, 0, 0, 0]);
    h.record(-5);
    h.record(0.25);
    expect(h.count).toBe(2);
    expect(h.min).toBe(0);
    expect(h.percentile(100)).toBeLessThanOrEqual(0.25);
  });
});

describe('payload header', () => {
  it('carries the send time, publisher and sequence; the receiver measures latency from it', () => {
    const template = Buffer.alloc(64, 0x78);
    const p = benchPayload(template, 3, 70_000, 1_000_000_000n);
    expect(p.length).toBe(64);
    expect(p.readBigUInt64BE(0)).toBe(1_000_000_000n);
    expect(p.readUInt32BE(8)).toBe(3);
    expect(p.readUInt32BE(12)).toBe(70_000);
    expect(p.subarray(HEADER_BYTES).every((b) => b === 0x78)).toBe(true);
    expect(benchPayload(template, 3, 1, 0n)).not.toBe(benchPayload(template, 3, 1, 0n)); // fresh buffers
    const state: BenchState = {
      sent: 1,
      received: 0,
      errors: 0,
      firstReceiveNs: undefined,
      lastReceiveNs: undefined,
      latency: new LatencyHistogram(),
    };
    recordReceipt(state, p, 1_002_500_000n);
    expect(state.received).toBe(1);
    expect(state.latency.max).toBe(2500); // µs
    recordReceipt(state, Buffer.from('short'), 1_003_000_000n);
    expect(state.received).toBe(2);
    expect(state.latency.count).toBe(1);
    expect(state.firstReceiveNs).toBe(1_002_500_000n);
    expect(state.lastReceiveNs).toBe(1_003_000_000n);
  });
});

class Capture extends Writable {
  text = '';
  constructor(
    readonly isTTY: boolean,
    readonly columns = 80,
  ) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

describe('progress', () => {
  it('draws a bar that fills with the fraction', () => {
    expect(bar(0, 10)).toBe('[..........]');
    expect(bar(0.5, 10)).toBe('[#####.....]');
    expect(bar(1.7, 4)).toBe('[####]');
    const line = progressLine({ sent: 500, received: 400, elapsedMs: 2000, fraction: 0.5 }, 80);
    expect(line).toMatch(/^\[#+\.+\] {2}50% sent 500 recv 400 250 msg\/s 2\.0s$/);
    expect(line.length).toBeLessThanOrEqual(80);
  });

  it('redraws in place on a terminal and prints plain lines otherwise', () => {
    const snap = { sent: 10, received: 5, elapsedMs: 1000, fraction: 0.1 };
    const tty = new Capture(true, 60);
    const p = new Progress(tty, () => snap);
    p.draw();
    p.stop();
    expect(tty.text.startsWith('\r[')).toBe(true);
    expect(tty.text.endsWith('\n')).toBe(true);
    expect(tty.text.split('\r').length).toBe(3);
    const pipe = new Capture(false);
    const q = new Progress(pipe, () => snap);
    q.draw();
    q.stop();
    expect(pipe.text).toBe('progress: sent=10 received=5 elapsed=1.0s\nprogress: sent=10 received=5 elapsed=1.0s\n');
    const off = new Capture(false);
    const r = new Progress(off, () => snap, false);
    r.start();
    r.stop();
    expect(off.text).toBe('');
  });
});

describe('summary table', () => {
  it('aligns a bordered two-column table', () => {
    expect(
      renderTable(
        ['Metric', 'Value'],
        [
          ['a', '1'],
          ['long name', '1,000'],
        ],
      ),
    ).toBe(
      [
        '+-----------+-------+',
        '| Metric    | Value |',
        '+-----------+-------+',
        '| a         |     1 |',
        '| long name | 1,000 |',
        '+-----------+-------+',
      ].join('\n'),
    );
  });

  it('lists throughput and latency percentiles', () => {
    const r: BenchResult = {
      publishers: 2,
      subscribers: 1,
      qos: 1,
      payloadBytes: 64,
      sent: 1000,
      expected: 1000,
      received: 990,
      lost: 10,
      publishErrors: 0,
      publishSeconds: 0.5,
      publishRate: 2000,
      receiveRate: 1980,
      latencyMs: { min: 0.1, mean: 1.5, p50: 1.2, p95: 3.4, p99: 5.6, max: 7.8 },
    };
    const t = summaryTable(r);
    for (const row of [
      '| Publish rate (msg/s) | 2,000 |',
      '| Lost                 |    10 |',
      '| Latency p50 (ms)     | 1.200 |',
      '| Latency p99 (ms)     | 5.600 |',
    ]) {
      expect(t).toContain(row);
    }
  });
});
