/** Output formats of the reference toolkit's certificate fields. */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** `23-Jan-2000 15:00:00`, local time, as the toolkit formats EffectiveDate/ExpirationDate. */
export function formatCertDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getDate())}-${MONTHS[d.getMonth()]}-${d.getFullYear()} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Lower-case hex pairs joined by colons (`bc:2a:...`), the toolkit's fingerprint format. */
export function colonHex(bytes: Uint8Array): string {
  return Buffer.from(bytes)
    .toString('hex')
    .replace(/(..)(?!$)/g, '$1:');
}

/** Strips colons, spaces and case from a hex fingerprint so differently written ones compare equal. */
export function normalizeHex(hex: string): string {
  return hex.replace(/[\s:]/g, '').toLowerCase();
}

/** Node's `validFrom`/`validTo` strings (`Jan 23 15:00:00 2000 GMT`) as Dates. */
export function parseNodeDate(s: string): Date {
  return new Date(s);
}
