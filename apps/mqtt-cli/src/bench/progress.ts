import type { Output } from '../io.js';

/** What the progress display shows. */
export interface ProgressSnapshot {
  sent: number;
  received: number;
  elapsedMs: number;
  /** 0..1, or undefined when unknown. */
  fraction: number | undefined;
}

/** `[#####.....]` of `width` cells. */
export function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

/** One status line; the bar gets the columns the text leaves. */
export function progressLine(s: ProgressSnapshot, columns: number): string {
  const secs = s.elapsedMs / 1000;
  const rate = secs > 0 ? Math.round(s.sent / secs) : 0;
  const pct = s.fraction === undefined ? '' : ` ${String(Math.floor(s.fraction * 100)).padStart(3)}%`;
  const text = `${pct} sent ${s.sent} recv ${s.received} ${rate} msg/s ${secs.toFixed(1)}s`;
  const width = Math.max(10, Math.min(40, columns - text.length - 3));
  return `${bar(s.fraction ?? 0, width)}${text}`;
}

/**
 * Progress on stderr: a bar redrawn in place on a terminal, or a plain line per interval when
 * the output is a pipe or file (so logs stay readable).
 */
export class Progress {
  #timer: NodeJS.Timeout | undefined;
  #lastLen = 0;

  constructor(
    private readonly out: Output,
    private readonly snapshot: () => ProgressSnapshot,
    private readonly enabled = true,
  ) {}

  get tty(): boolean {
    return this.out.isTTY === true;
  }

  start(): void {
    if (!this.enabled) return;
    this.#timer = setInterval(() => this.draw(), this.tty ? 200 : 1000);
    this.#timer.unref();
  }

  draw(): void {
    const s = this.snapshot();
    if (this.tty) {
      const line = progressLine(s, this.out.columns || 80);
      this.out.write(`\r${line}${' '.repeat(Math.max(0, this.#lastLen - line.length))}`);
      this.#lastLen = line.length;
    } else {
      this.out.write(`progress: sent=${s.sent} received=${s.received} elapsed=${(s.elapsedMs / 1000).toFixed(1)}s\n`);
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    if (!this.enabled) return;
    this.draw();
    if (this.tty) this.out.write('\n');
  }
}
