/** A plain-text table with borders, numbers right-aligned (works in any terminal and in logs). */
export function renderTable(headers: readonly [string, string], rows: readonly (readonly [string, string])[]): string {
  const w0 = Math.max(headers[0].length, ...rows.map((r) => r[0].length));
  const w1 = Math.max(headers[1].length, ...rows.map((r) => r[1].length));
  const rule = `+${'-'.repeat(w0 + 2)}+${'-'.repeat(w1 + 2)}+`;
  const line = (a: string, b: string) => `| ${a.padEnd(w0)} | ${b.padStart(w1)} |`;
  return [rule, line(headers[0], headers[1]), rule, ...rows.map((r) => line(r[0], r[1])), rule].join('\n');
}

/** Formats a number with thousands separators and `digits` decimals. */
export function num(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
