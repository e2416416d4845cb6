import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Framer, type FramingMode } from '../src/index.js';

interface Frame {
  data: string;
  eol: boolean;
}

function make(mode: Partial<FramingMode>) {
  const m: { -readonly [K in keyof FramingMode]: FramingMode[K] } = {
    recordLength: 0,
    singleLineMode: false,
    eolBytes: Buffer.alloc(0),
    maxLineLength: 2048,
    ...mode,
  };
  const frames: Frame[] = [];
  const f = new Framer(m, (d, eol) => frames.push({ data: d.toString('latin1'), eol }));
  return {
    m,
    f,
    frames,
    push: (...parts: string[]) => {
      for (const p of parts) f.push(Buffer.from(p, 'latin1'));
    },
  };
}

/** Splits a string at the given cut points. */
function cut(s: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (s.length + 1)))].sort((a, b) => a - b);
  const out: string[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(s.slice(prev, p));
    prev = p;
  }
  out.push(s.slice(prev));
  return out.filter((x) => x.length > 0);
}

describe('EOL mode', () => {
  it('splits on a multi-byte delimiter containing NUL, also when split across chunks', () => {
    const t = make({ eolBytes: Buffer.from([0x00, 0xff, 0x0a]) });
    t.push('one\x00', '\xff', '\ntwo\x00\xff\nthr', 'ee\x00\xff\n');
    expect(t.frames).toEqual([
      { data: 'one', eol: true },
      { data: 'two', eol: true },
      { data: 'three', eol: true },
    ]);
  });

  it('emits exactly MaxLineLength bytes with eol=false when no delimiter comes, then the rest', () => {
    const t = make({ eolBytes: Buffer.from('\r\n'), maxLineLength: 256 });
    t.push('a'.repeat(600), '\r\n');
    expect(t.frames.map((f) => [f.data.length, f.eol])).toEqual([
      [256, false],
      [256, false],
      [88, true],
    ]);
  });

  it('a line of exactly MaxLineLength whose delimiter straddles the limit is still one line', () => {
    const t = make({ eolBytes: Buffer.from('\r\n'), maxLineLength: 256 });
    t.push('b'.repeat(256), '\r', '\n');
    expect(t.frames).toEqual([{ data: 'b'.repeat(256), eol: true }]);
  });

  it('does not flush partial lines at packet boundaries, but does at close (eol=false)', () => {
    const t = make({ eolBytes: Buffer.from('\n') });
    t.push('partial');
    expect(t.frames).toEqual([]);
    t.f.flush();
    expect(t.frames).toEqual([{ data: 'partial', eol: false }]);
  });

  it('property: any lines, any chunking → the same lines back', () => {
    const eols = ['\n', '\r\n', '\x00\x00', 'END'];
    fc.assert(
      fc.property(
        fc.constantFrom(...eols),
        fc.array(fc.string({ maxLength: 40 }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (eol, rawLines, cuts) => {
          const lines = rawLines.map((l) => l.replaceAll(eol[0]!, '_'));
          const t = make({ eolBytes: Buffer.from(eol, 'latin1'), maxLineLength: 256 });
          const stream = lines.map((l) => l + eol).join('');
          t.push(...cut(stream, cuts));
          expect(t.frames).toEqual(lines.map((data) => ({ data, eol: true })));
          expect(t.f.buffered).toBe(0);
        },
      ),
    );
  });

  it('property: buffered bytes never exceed MaxLineLength + len(EOL) - 1', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 700 }), { maxLength: 10 }), (chunks) => {
        const t = make({ eolBytes: Buffer.from('\r\n'), maxLineLength: 256 });
        for (const c of chunks) {
          t.f.push(Buffer.from(c));
          expect(t.f.buffered).toBeLessThanOrEqual(257);
        }
        for (const fr of t.frames) expect(fr.data.length).toBeLessThanOrEqual(256);
      }),
    );
  });
});

describe('SingleLineMode', () => {
  it('ends lines on CR, LF or CRLF and ignores the EOL setting', () => {
    const t = make({ singleLineMode: true, eolBytes: Buffer.from('X') });
    t.push('a\rb\nc\r\nd\n\ne');
    expect(t.frames.map((f) => f.data)).toEqual(['a', 'b', 'c', 'd', '']);
    t.f.flush();
    expect(t.frames.at(-1)).toEqual({ data: 'e', eol: false });
  });

  it('a CRLF split across chunks gives no extra empty line', () => {
    const t = make({ singleLineMode: true });
    t.push('first\r', '\nsecond\r', '\r\n', 'third\n');
    expect(t.frames.map((f) => f.data)).toEqual(['first', 'second', '', 'third']);
  });

  it('applies MaxLineLength', () => {
    const t = make({ singleLineMode: true, maxLineLength: 256 });
    t.push('x'.repeat(300), '\n');
    expect(t.frames.map((f) => [f.data.length, f.eol])).toEqual([
      [256, false],
      [44, true],
    ]);
  });

  it('property: lines joined with random terminators, any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.stringMatching(/^[a-z ]{0,30}$/), fc.constantFrom('\r', '\n', '\r\n')), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (lines, cuts) => {
          // A lone CR followed by an empty LF-terminated line is a CRLF: inherently ambiguous, excluded.
          for (let i = 1; i < lines.length; i++)
            fc.pre(!(lines[i - 1]![1] === '\r' && lines[i]![0] === '' && lines[i]![1].startsWith('\n')));
          const stream = lines.map(([l, t]) => l + t).join('');
          const t = make({ singleLineMode: true });
          t.push(...cut(stream, cuts));
          expect(t.frames.map((f) => f.data)).toEqual(lines.map(([l]) => l));
        },
      ),
    );
  });
});

describe('record mode', () => {
  it('emits exactly RecordLength bytes, across chunks, with the remainder flushed at close', () => {
    const t = make({ recordLength: 4 });
    t.push('ab', 'cdefghij', 'k');
    expect(t.frames.map((f) => f.data)).toEqual(['abcd', 'efgh']);
    t.f.flush();
    expect(t.frames.at(-1)).toEqual({ data: 'ijk', eol: false });
  });

  it('ChangeRecordLength inside the sink applies to bytes still buffered (no recursion)', () => {
    const frames: string[] = [];
    const m = { recordLength: 2, singleLineMode: false, eolBytes: Buffer.alloc(0), maxLineLength: 2048 };
    let depth = 0;
    let maxDepth = 0;
    const f: Framer = new Framer(m, (d) => {
      depth++;
      maxDepth = Math.max(maxDepth, depth);
      frames.push(d.toString());
      // A header announces the body length, as length-prefixed protocols do.
      if (m.recordLength === 2) m.recordLength = Number(d.toString());
      else m.recordLength = 2;
      f.drain(); // what changeRecordLength does; must not recurse
      depth--;
    });
    f.push(Buffer.from('03abc05hello02hi'));
    expect(frames).toEqual(['03', 'abc', '05', 'hello', '02', 'hi']);
    expect(maxDepth).toBe(1);
  });

  it('switching record mode off hands the rest on as raw data', () => {
    const t = make({ recordLength: 3 });
    const m = t.m;
    const frames: string[] = [];
    const f = new Framer(m, (d) => {
      frames.push(d.toString());
      m.recordLength = 0;
    });
    f.push(Buffer.from('abcdefgh'));
    expect(frames).toEqual(['abc', 'defgh']);
  });

  it('property: records concatenate back to the input', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.array(fc.uint8Array({ maxLength: 120 }), { maxLength: 10 }), (len, chunks) => {
        const out: Buffer[] = [];
        const f = new Framer({ recordLength: len, singleLineMode: false, eolBytes: Buffer.alloc(0), maxLineLength: 2048 }, (d, eol) => {
          if (eol) expect(d.length).toBe(len);
          out.push(Buffer.from(d));
        });
        for (const c of chunks) f.push(Buffer.from(c));
        f.flush();
        expect(Buffer.concat(out).equals(Buffer.concat(chunks.map((c) => Buffer.from(c))))).toBe(true);
      }),
    );
  });
});

describe('pause, discard and precedence', () => {
  it('holds complete lines while paused and delivers them on drain', () => {
    const t = make({ eolBytes: Buffer.from('\n') });
    t.f.paused = true;
    t.push('a\nb\n');
    expect(t.frames).toEqual([]);
    t.f.paused = false;
    t.f.drain();
    expect(t.frames.map((f) => f.data)).toEqual(['a', 'b']);
  });

  it('pausing inside the sink stops delivery at once', () => {
    const frames: string[] = [];
    const f: Framer = new Framer({ recordLength: 0, singleLineMode: false, eolBytes: Buffer.from('\n'), maxLineLength: 2048 }, (d) => {
      frames.push(d.toString());
      f.paused = true;
    });
    f.push(Buffer.from('1\n2\n3\n'));
    expect(frames).toEqual(['1']);
    f.paused = false;
    f.drain();
    expect(frames).toEqual(['1', '2']);
  });

  it('record mode wins over single-line mode, which wins over EOL', () => {
    const t = make({ recordLength: 3, singleLineMode: true, eolBytes: Buffer.from('x') });
    t.push('a\nbcd');
    expect(t.frames.map((f) => f.data)).toEqual(['a\nb']);
    t.m.recordLength = 0;
    t.f.drain();
    t.push('\n');
    expect(t.frames.map((f) => f.data)).toEqual(['a\nb', 'cd']);
  });

  it('discard drops buffered bytes (StartSSL) and stop prevents flushing', () => {
    const t = make({ eolBytes: Buffer.from('\n') });
    t.push('partial');
    expect(t.f.discard()).toBe(7);
    t.push('x');
    t.f.stopped = true;
    t.f.flush();
    expect(t.frames).toEqual([]);
    expect(t.f.takeAll().toString()).toBe('x');
  });
});
