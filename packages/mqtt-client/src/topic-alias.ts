import { clientError } from './errors.js';

/**
 * Topic aliases the client sends (MQTT 5 §3.3.2.3.4): automatic assignment within the
 * server's Topic Alias Maximum, least recently used alias reassigned when all are taken.
 * One map per connection: it is cleared on every CONNACK [MQTT-3.3.2-7].
 */
export class OutgoingTopicAliases {
  /** topic → alias, in least-recently-used-first order (Map keeps insertion order). */
  readonly #byTopic = new Map<string, number>();
  readonly #byAlias: (string | undefined)[] = [];
  #max = 0;

  /** The server's Topic Alias Maximum for this connection (0 disables aliases). */
  get maximum(): number {
    return this.#max;
  }

  get size(): number {
    return this.#byTopic.size;
  }

  /** New connection: forget every mapping and take the new maximum. */
  reset(maximum: number): void {
    this.#byTopic.clear();
    this.#byAlias.length = 0;
    this.#max = maximum;
  }

  /**
   * Alias to use for `topic`: `{ alias, known: true }` when the mapping exists (send an empty
   * topic), `{ alias, known: false }` when one was just assigned (send topic and alias), or
   * undefined when aliases are disabled. `known` mappings move to the most-recent end.
   */
  assign(topic: string): { alias: number; known: boolean } | undefined {
    if (this.#max === 0) return undefined;
    const existing = this.#byTopic.get(topic);
    if (existing !== undefined) {
      // Refresh LRU position only when there is pressure; saves two Map ops per publish.
      if (this.#byTopic.size >= this.#max) {
        this.#byTopic.delete(topic);
        this.#byTopic.set(topic, existing);
      }
      return { alias: existing, known: true };
    }
    let alias: number;
    if (this.#byTopic.size < this.#max) {
      alias = this.#byTopic.size + 1;
    } else {
      const [oldest, oldAlias] = this.#byTopic.entries().next().value as [string, number];
      this.#byTopic.delete(oldest);
      alias = oldAlias;
    }
    this.#byTopic.set(topic, alias);
    this.#byAlias[alias] = topic;
    return { alias, known: false };
  }

  /**
   * Explicit alias chosen by the caller: validates the range and records the mapping, so a
   * later publish with an empty topic can use it. Returns whether the mapping already existed.
   */
  use(alias: number, topic: string): boolean {
    if (!Number.isInteger(alias) || alias < 1 || alias > this.#max) {
      throw clientError('ERR_INVALID_ARGUMENT', `topic alias ${alias} outside 1..${this.#max} (server Topic Alias Maximum)`);
    }
    if (topic === '') {
      if (this.#byAlias[alias] === undefined) throw clientError('ERR_TOPIC_NAME_INVALID', `topic alias ${alias} is not established`);
      return true;
    }
    const previous = this.#byAlias[alias];
    if (previous === topic) return true;
    if (previous !== undefined) this.#byTopic.delete(previous);
    const oldAlias = this.#byTopic.get(topic);
    if (oldAlias !== undefined) this.#byAlias[oldAlias] = undefined;
    this.#byTopic.set(topic, alias);
    this.#byAlias[alias] = topic;
    return false;
  }

  /** Topic mapped to `alias`, if any. */
  topicOf(alias: number): string | undefined {
    return this.#byAlias[alias];
  }
}

/** Why an incoming alias was refused: the reason code to DISCONNECT with. */
export class TopicAliasError extends Error {
  constructor(
    message: string,
    readonly reasonCode: number,
  ) {
    super(message);
  }
}

/**
 * Topic aliases the server sends: a per-connection table bounded by the Topic Alias Maximum
 * the client announced in CONNECT. Cleared on every connection.
 */
export class IncomingTopicAliases {
  #topics: (string | undefined)[] = [];
  #max = 0;

  get maximum(): number {
    return this.#max;
  }

  reset(maximum: number): void {
    this.#topics = [];
    this.#max = maximum;
  }

  /**
   * The real topic of an incoming PUBLISH. Throws TopicAliasError: 0x94 (Topic Alias
   * invalid) for 0 or an alias above our maximum [MQTT-3.3.2-9], 0x82 (Protocol Error) for
   * an empty topic with an alias never established.
   */
  resolve(topic: string, alias: number | undefined): string {
    if (alias === undefined) return topic;
    if (alias === 0 || alias > this.#max) throw new TopicAliasError(`topic alias ${alias} outside 1..${this.#max}`, 0x94);
    if (topic !== '') {
      this.#topics[alias] = topic;
      return topic;
    }
    const known = this.#topics[alias];
    if (known === undefined) throw new TopicAliasError(`topic alias ${alias} used before it was established`, 0x82);
    return known;
  }
}
