/**
 * Receive framing of the TCPServer: raw chunks, lines split on an EOL byte sequence, lines
 * split on CR/LF/CRLF (SingleLineMode), or fixed-length records. The mode is read from the
 * connection on every step, so ChangeRecordLength (or an EOL change) made inside a DataIn
 * handler applies to the bytes still buffered. Emission is a loop, never recursion (events
 * are not re-entrant), and stops as soon as the connection pauses.
 */

/** The live framing settings (implemented by the connection). */
export interface FramingMode {
  /** > 0: emit exactly this many bytes per frame. */
  readonly recordLength: number;
  /** Split on CR, LF or CRLF; ignore `eolBytes`. */
  readonly singleLineMode: boolean;
  /** Line delimiter; empty = raw chunks. */
  readonly eolBytes: Buffer;
  /** Longest line content before a partial line is emitted with `eol = false`. */
  readonly maxLineLength: number;
}

/** Receives one frame. `eol` is true when a delimiter ended it (always true for raw chunks and records). */
export type FrameSink = (data: Buffer, eol: boolean) => void;

const CR = 0x0d;
const LF = 0x0a;

export class Framer {
  #parts: Buffer[] = [];
  #len = 0;
  /** The previous line ended with a CR at the end of the data: a leading LF belongs to it. */
  #skipLf = false;
  #draining = false;
  /** No frames are emitted while true (PauseData). */
  paused = false;
  /** Set when the connection is going away at our request: nothing more is emitted. */
  stopped = false;

  constructor(
    readonly mode: FramingMode,
    readonly sink: FrameSink,
  ) {}

  /** Bytes buffered and not yet emitted. */
  get buffered(): number {
    return this.#len;
  }

  /** True when the mode is raw and nothing is buffered, so a chunk may bypass the framer. */
  passThrough(): boolean {
    const m = this.mode;
    return this.#len === 0 && !this.paused && m.recordLength <= 0 && !m.singleLineMode && m.eolBytes.length === 0;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#parts.push(chunk);
    this.#len += chunk.length;
    this.drain();
  }

  /** Removes and returns everything buffered, as one Buffer. */
  takeAll(): Buffer {
    if (this.#len === 0) return Buffer.alloc(0);
    const out = this.#contiguous();
    this.#parts = [];
    this.#len = 0;
    return out;
  }

  /** Drops everything buffered (StartSSL: plaintext read past the command must never become post-TLS data). */
  discard(): number {
    const n = this.#len;
    this.#parts = [];
    this.#len = 0;
    this.#skipLf = false;
    return n;
  }

  /** Emits every complete frame, stopping when paused. Re-entrant calls return at once. */
  drain(): void {
    const sink = this.sink;
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#len > 0 && !this.paused && !this.stopped) {
        if (!this.#step(sink, false)) break;
      }
    } finally {
      this.#draining = false;
    }
  }

  /**
   * At the peer's close: emits complete frames, then whatever partial line or record is left
   * as a last frame with `eol = false` (ignores pause: the data would be lost otherwise).
   */
  flush(): void {
    const sink = this.sink;
    if (this.#draining || this.stopped) return;
    this.#draining = true;
    this.paused = false;
    try {
      while (this.#len > 0 && !this.stopped) {
        if (!this.#step(sink, true)) break;
      }
    } finally {
      this.#draining = false;
    }
  }

  /** One frame; false when more data is needed. */
  #step(sink: FrameSink, final: boolean): boolean {
    const m = this.mode;
    if (m.recordLength > 0) {
      if (this.#len < m.recordLength) {
        if (!final) return false;
        sink(this.#take(this.#len), false);
        return true;
      }
      sink(this.#take(m.recordLength), true);
      return true;
    }
    if (m.singleLineMode) return this.#singleLine(sink, m.maxLineLength, final);
    const eol = m.eolBytes;
    if (eol.length > 0) return this.#eolLine(sink, eol, m.maxLineLength, final);
    sink(this.#take(this.#len), true);
    return true;
  }

  #singleLine(sink: FrameSink, max: number, final: boolean): boolean {
    let buf = this.#contiguous();
    if (this.#skipLf) {
      this.#skipLf = false;
      if (buf[0] === LF) {
        this.#consume(1);
        if (this.#len === 0) return false;
        buf = this.#contiguous();
      }
    }
    const limit = Math.min(buf.length, max + 1);
    let i = 0;
    while (i < limit && buf[i] !== CR && buf[i] !== LF) i++;
    if (i < limit) {
      const line = buf.subarray(0, i);
      let used = i + 1;
      if (buf[i] === CR) {
        if (i + 1 < buf.length) {
          if (buf[i + 1] === LF) used++;
        } else {
          // The LF of a CRLF may be in the next chunk; deliver the line now and skip it then.
          this.#skipLf = true;
        }
      }
      this.#consume(used);
      sink(line, true);
      return true;
    }
    if (buf.length > max) {
      sink(this.#take(max), false);
      return true;
    }
    if (final) {
      sink(this.#take(this.#len), false);
      return true;
    }
    return false;
  }

  #eolLine(sink: FrameSink, eol: Buffer, max: number, final: boolean): boolean {
    const buf = this.#contiguous();
    // Bounded search: a delimiter starting past `max` cannot end a line that fits.
    const window = buf.length > max + eol.length ? buf.subarray(0, max + eol.length) : buf;
    const i = window.indexOf(eol);
    if (i >= 0 && i <= max) {
      const line = buf.subarray(0, i);
      this.#consume(i + eol.length);
      sink(line, true);
      return true;
    }
    if (i > max || buf.length >= max + eol.length) {
      sink(this.#take(max), false);
      return true;
    }
    if (final) {
      sink(this.#take(this.#len), false);
      return true;
    }
    return false;
  }

  /** All buffered bytes as one Buffer (concatenating only when split). */
  #contiguous(): Buffer {
    if (this.#parts.length > 1) this.#parts = [Buffer.concat(this.#parts, this.#len)];
    return this.#parts[0]!;
  }

  #consume(n: number): void {
    let left = n;
    while (left > 0) {
      const head = this.#parts[0]!;
      if (head.length <= left) {
        this.#parts.shift();
        left -= head.length;
      } else {
        this.#parts[0] = head.subarray(left);
        left = 0;
      }
    }
    this.#len -= n;
  }

  /** Removes and returns the first `n` bytes (a view when they lie in one chunk). */
  #take(n: number): Buffer {
    const head = this.#parts[0]!;
    let out: Buffer;
    if (head.length >= n) {
      out = head.subarray(0, n);
    } else {
      out = Buffer.allocUnsafe(n);
      let off = 0;
      for (const p of this.#parts) {
        const k = Math.min(p.length, n - off);
        p.copy(out, off, 0, k);
        off += k;
        if (off === n) break;
      }
    }
    this.#consume(n);
    return out;
  }
}
