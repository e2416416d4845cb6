import { ErrorCode, MqttPacketError } from './errors.js';

/** Limits for topic validation. */
export interface TopicLimits {
  /** Maximum UTF-8 byte length; default and hard limit 65,535 [MQTT-4.7.3-3]. */
  maxLength?: number;
  /** Maximum number of levels (`/`-separated); default unlimited. */
  maxLevels?: number;
}

/** Options for filter validation. */
export interface TopicFilterOptions extends TopicLimits {
  /**
   * Apply the Shared Subscription syntax to filters starting with `$share/` [MQTT-4.8.2-1]
   * [MQTT-4.8.2-2]; default true. In 3.1.1 `$share/...` is an ordinary filter.
   */
  shared?: boolean;
}

/** A parsed `$share/{ShareName}/{filter}` subscription. */
export interface SharedSubscription {
  shareName: string;
  topicFilter: string;
}

const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
const DOLLAR = 0x24;

function byteLengthOver(s: string, max: number): boolean {
  // A UTF-16 unit encodes to at most 3 UTF-8 bytes, so short strings need no measuring.
  return s.length > max || (s.length * 3 > max && Buffer.byteLength(s, 'utf8') > max);
}

function levelsOver(s: string, max: number | undefined): boolean {
  if (max === undefined) return false;
  let levels = 1;
  for (let i = s.indexOf('/'); i !== -1; i = s.indexOf('/', i + 1)) if (++levels > max) return true;
  return false;
}

/** Why `name` is not a valid Topic Name, or `undefined` when it is. */
export function topicNameProblem(name: string, limits?: TopicLimits): string | undefined {
  if (typeof name !== 'string') return 'Topic Name must be a string';
  if (name.length === 0) return 'Topic Name must be at least one character long [MQTT-4.7.3-1]';
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === PLUS || c === HASH)
      return 'Topic Name must not contain wildcard characters [MQTT-3.3.2-2] (3.1.1 [MQTT-4.7.1-1]; 5.0 [MQTT-4.7.0-1])';
    if (c === 0) return 'Topic Name must not contain U+0000 [MQTT-4.7.3-2]';
  }
  if (byteLengthOver(name, Math.min(limits?.maxLength ?? 65_535, 65_535))) return 'Topic Name is too long [MQTT-4.7.3-3]';
  if (levelsOver(name, limits?.maxLevels)) return 'Topic Name has too many levels';
  return undefined;
}

/** Whether `name` is a valid Topic Name: non-empty, no `+`/`#`, no U+0000, within limits. */
export function isValidTopicName(name: string, limits?: TopicLimits): boolean {
  return topicNameProblem(name, limits) === undefined;
}

/** Throws {@link MqttPacketError} `ERR_TOPIC_NAME_INVALID` (0x90) unless `name` is a valid Topic Name. */
export function validateTopicName(name: string, limits?: TopicLimits): void {
  const problem = topicNameProblem(name, limits);
  if (problem !== undefined) throw new MqttPacketError(ErrorCode.TopicNameInvalid, 0x90, problem);
}

/** Checks wildcard placement of a (non-shared) filter. */
function filterSyntaxProblem(f: string): string | undefined {
  if (f.length === 0) return 'Topic Filter must be at least one character long [MQTT-4.7.3-1]';
  const last = f.length - 1;
  for (let i = 0; i <= last; i++) {
    const c = f.charCodeAt(i);
    if (c === HASH) {
      if (i !== last) return "'#' must be the last character of the Topic Filter (3.1.1 [MQTT-4.7.1-2]; 5.0 [MQTT-4.7.1-1])";
      if (i > 0 && f.charCodeAt(i - 1) !== SLASH) return "'#' must be on its own or follow '/' (3.1.1 [MQTT-4.7.1-2]; 5.0 [MQTT-4.7.1-1])";
    } else if (c === PLUS) {
      if ((i > 0 && f.charCodeAt(i - 1) !== SLASH) || (i < last && f.charCodeAt(i + 1) !== SLASH)) {
        return "'+' must occupy an entire level (3.1.1 [MQTT-4.7.1-3]; 5.0 [MQTT-4.7.1-2])";
      }
    } else if (c === 0) {
      return 'Topic Filter must not contain U+0000 [MQTT-4.7.3-2]';
    }
  }
  return undefined;
}

/** Why `filter` is not a valid Topic Filter, or `undefined` when it is. */
export function topicFilterProblem(filter: string, options?: TopicFilterOptions): string | undefined {
  if (typeof filter !== 'string') return 'Topic Filter must be a string';
  let inner = filter;
  if (options?.shared !== false && filter.startsWith('$share/')) {
    const slash = filter.indexOf('/', 7);
    if (slash === -1) return 'Shared Subscription must be $share/{ShareName}/{filter} [MQTT-4.8.2-2]';
    if (slash === 7) return 'ShareName must be at least one character long [MQTT-4.8.2-1]';
    for (let i = 7; i < slash; i++) {
      const c = filter.charCodeAt(i);
      if (c === PLUS || c === HASH) return "ShareName must not contain '+' or '#' [MQTT-4.8.2-2]";
      if (c === 0) return 'ShareName must not contain U+0000 [MQTT-4.7.3-2]';
    }
    inner = filter.slice(slash + 1);
    if (inner.length === 0) return "ShareName must be followed by '/' and a Topic Filter [MQTT-4.8.2-2]";
  }
  const problem = filterSyntaxProblem(inner);
  if (problem !== undefined) return problem;
  if (byteLengthOver(filter, Math.min(options?.maxLength ?? 65_535, 65_535))) return 'Topic Filter is too long [MQTT-4.7.3-3]';
  if (levelsOver(inner, options?.maxLevels)) return 'Topic Filter has too many levels';
  return undefined;
}

/** Whether `filter` is a valid Topic Filter (including the `$share/` form unless disabled). */
export function isValidTopicFilter(filter: string, options?: TopicFilterOptions): boolean {
  return topicFilterProblem(filter, options) === undefined;
}

/** Throws {@link MqttPacketError} `ERR_TOPIC_FILTER_INVALID` (0x8F) unless `filter` is valid. */
export function validateTopicFilter(filter: string, options?: TopicFilterOptions): void {
  const problem = topicFilterProblem(filter, options);
  if (problem !== undefined) throw new MqttPacketError(ErrorCode.TopicFilterInvalid, 0x8f, problem);
}

/**
 * Splits `$share/{ShareName}/{filter}`. Returns `undefined` for a filter that is not shared;
 * throws `ERR_TOPIC_FILTER_INVALID` for a malformed shared one [MQTT-4.8.2-1] [MQTT-4.8.2-2].
 */
export function parseSharedSubscription(filter: string): SharedSubscription | undefined {
  if (!filter.startsWith('$share/')) return undefined;
  validateTopicFilter(filter, { shared: true });
  const slash = filter.indexOf('/', 7);
  return { shareName: filter.slice(7, slash), topicFilter: filter.slice(slash + 1) };
}

/**
 * Whether Topic Name `topic` matches Topic Filter `filter` (§4.7): `+` matches exactly one
 * level (possibly empty), `#` matches the rest including the parent level, matching is
 * case-sensitive with no normalisation [MQTT-4.7.3-4], and a filter starting with a wildcard
 * never matches a topic starting with `$` [MQTT-4.7.2-1]. Pass the inner filter of a shared
 * subscription (see {@link parseSharedSubscription}). Both inputs are assumed valid.
 */
export function topicMatches(filter: string, topic: string): boolean {
  const flen = filter.length;
  const tlen = topic.length;
  if (flen === 0 || tlen === 0) return false;
  const f0 = filter.charCodeAt(0);
  if ((f0 === PLUS || f0 === HASH) && topic.charCodeAt(0) === DOLLAR) return false;
  let i = 0;
  let j = 0;
  for (;;) {
    const c = filter.charCodeAt(i);
    if (c === HASH) return true;
    if (c === PLUS) {
      while (j < tlen && topic.charCodeAt(j) !== SLASH) j++;
      i++;
    } else {
      while (i < flen && filter.charCodeAt(i) !== SLASH) {
        if (j >= tlen || topic.charCodeAt(j) !== filter.charCodeAt(i)) return false;
        i++;
        j++;
      }
      if (j < tlen && topic.charCodeAt(j) !== SLASH) return false;
    }
    // End of a level in both.
    if (i === flen) return j === tlen;
    if (j === tlen) {
      // Topic ended; "x/#" also matches "x" (the parent level).
      return i + 2 === flen && filter.charCodeAt(i + 1) === HASH;
    }
    i++;
    j++;
  }
}
