import type { CoapOption } from './message.js';
import { isCritical, OPTION_DEFINITIONS } from './options.js';

/** Result of {@link checkOptions}. */
export interface OptionCheck {
  /**
   * The number of the first critical option that must be treated as unrecognised (unknown,
   * wrong length, or a repeat of a non-repeatable option), or `undefined`. A request carrying
   * one is answered 4.02 Bad Option; a response carrying one is rejected (RFC 7252 §5.4.1).
   */
  badCritical: number | undefined;
  /** The options minus the elective ones that must be ignored; the input array when none. */
  options: CoapOption[];
}

/** Registered options only; pass your own predicate to accept more (or fewer) numbers. */
export function isRegisteredOption(number: number): boolean {
  return OPTION_DEFINITIONS.has(number);
}

/**
 * Applies RFC 7252 §5.4.1, §5.4.3 and §5.4.5 to decoded options (sorted by number): unknown
 * options, values of the wrong length and repeats of non-repeatable options are "unrecognised";
 * critical ones are reported, elective ones are dropped. Allocates only when something is wrong.
 */
export function checkOptions(options: CoapOption[], isRecognized: (number: number) => boolean = isRegisteredOption): OptionCheck {
  let drop: Set<number> | undefined;
  let badCritical: number | undefined;
  let prev = -1;
  for (let i = 0; i < options.length; i++) {
    const o = options[i] as CoapOption;
    const n = o.number;
    const d = OPTION_DEFINITIONS.get(n);
    let bad = !isRecognized(n);
    if (!bad && d !== undefined) bad = o.value.length < d.minLength || o.value.length > d.maxLength || (n === prev && !d.repeatable);
    prev = n;
    if (!bad) continue;
    if (isCritical(n)) {
      badCritical ??= n;
    } else {
      drop ??= new Set();
      drop.add(i);
    }
  }
  if (drop === undefined) return { badCritical, options };
  const kept = drop;
  return { badCritical, options: options.filter((_, i) => !kept.has(i)) };
}
