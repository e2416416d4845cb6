// The browser bundle's stand-in for `node:buffer`: the `buffer` package's Buffer, and
// `isUtf8` on top of the standard TextDecoder.
import { Buffer } from 'buffer';

const strict = new TextDecoder('utf-8', { fatal: true });

export { Buffer };

export function isUtf8(input) {
  try {
    strict.decode(input);
    return true;
  } catch {
    return false;
  }
}
