/**
 * strftime(3) in the C/POSIX locale and the process time zone (TZ), for mosquitto_sub's `@X`
 * sequences and the `%I`/`%j` helpers. Conversions glibc does not know are copied literally,
 * as glibc does.
 */

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const pad = (n: number, width: number, fill = '0') => String(n).padStart(width, fill);

function dayOfYear(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1);
  // Calendar days, immune to DST shifts.
  return Math.round((Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) - Date.UTC(start.getFullYear(), 0, 1)) / 86_400_000);
}

/** ISO 8601 week-based year and week number (glibc's %G and %V). */
function isoWeek(d: Date): { year: number; week: number } {
  const yday = dayOfYear(d);
  const wday = (d.getDay() + 6) % 7; // Monday = 0
  let year = d.getFullYear();
  let week = Math.floor((yday - wday + 10) / 7);
  const weeksIn = (y: number) => {
    const jan1 = new Date(y, 0, 1).getDay();
    const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
    return jan1 === 4 || (leap && jan1 === 3) ? 53 : 52;
  };
  if (week < 1) {
    year -= 1;
    week = weeksIn(year);
  } else if (week > weeksIn(year)) {
    year += 1;
    week = 1;
  }
  return { year, week };
}

function zoneOffset(d: Date): string {
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  return `${off < 0 ? '-' : '+'}${pad(Math.floor(a / 60), 2)}${pad(a % 60, 2)}`;
}

function zoneName(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((p) => p.type === 'timeZoneName');
  return part?.value ?? '';
}

/** One conversion character (the X of `%X`). */
export function convert(c: string, d: Date): string {
  const h = d.getHours();
  const h12 = h % 12 === 0 ? 12 : h % 12;
  switch (c) {
    case 'a':
      return DAYS[d.getDay()]!.slice(0, 3);
    case 'A':
      return DAYS[d.getDay()]!;
    case 'b':
    case 'h':
      return MONTHS[d.getMonth()]!.slice(0, 3);
    case 'B':
      return MONTHS[d.getMonth()]!;
    case 'c':
      return strftime('%a %b %e %H:%M:%S %Y', d);
    case 'C':
      return pad(Math.floor(d.getFullYear() / 100), 2);
    case 'd':
      return pad(d.getDate(), 2);
    case 'D':
    case 'x':
      return strftime('%m/%d/%y', d);
    case 'e':
      return pad(d.getDate(), 2, ' ');
    case 'F':
      return strftime('%Y-%m-%d', d);
    case 'g':
      return pad(isoWeek(d).year % 100, 2);
    case 'G':
      return String(isoWeek(d).year);
    case 'H':
      return pad(h, 2);
    case 'I':
      return pad(h12, 2);
    case 'j':
      return pad(dayOfYear(d) + 1, 3);
    case 'k':
      return pad(h, 2, ' ');
    case 'l':
      return pad(h12, 2, ' ');
    case 'm':
      return pad(d.getMonth() + 1, 2);
    case 'M':
      return pad(d.getMinutes(), 2);
    case 'n':
      return '\n';
    case 'p':
      return h < 12 ? 'AM' : 'PM';
    case 'P':
      return h < 12 ? 'am' : 'pm';
    case 'r':
      return strftime('%I:%M:%S %p', d);
    case 'R':
      return strftime('%H:%M', d);
    case 's':
      return String(Math.floor(d.getTime() / 1000));
    case 'S':
      return pad(d.getSeconds(), 2);
    case 't':
      return '\t';
    case 'T':
    case 'X':
      return strftime('%H:%M:%S', d);
    case 'u':
      return String(d.getDay() === 0 ? 7 : d.getDay());
    case 'U':
      return pad(Math.floor((dayOfYear(d) + 7 - d.getDay()) / 7), 2);
    case 'V':
      return pad(isoWeek(d).week, 2);
    case 'w':
      return String(d.getDay());
    case 'W':
      return pad(Math.floor((dayOfYear(d) + 7 - ((d.getDay() + 6) % 7)) / 7), 2);
    case 'y':
      return pad(d.getFullYear() % 100, 2);
    case 'Y':
      return String(d.getFullYear());
    case 'z':
      return zoneOffset(d);
    case 'Z':
      return zoneName(d);
    case '%':
      return '%';
    default:
      return `%${c}`;
  }
}

/** strftime for a format of `%X` conversions and literal text. */
export function strftime(format: string, d: Date): string {
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    if (ch === '%' && i + 1 < format.length) {
      out += convert(format[++i]!, d);
    } else {
      out += ch;
    }
  }
  return out;
}
