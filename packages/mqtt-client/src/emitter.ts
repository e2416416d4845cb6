/**
 * A small typed event emitter: no `node:events` (the browser build shares it), listener
 * arrays per event so the hot path can ask `has()` before building an event object, and an
 * `error` event that never throws when unheard (it becomes a process warning instead).
 */
// biome-ignore lint/suspicious/noExplicitAny: listener signatures are checked through Events.
type Listener = (...args: any[]) => void;

export class TypedEmitter<Events extends { [K in keyof Events]: Listener }> {
  #listeners: { [K in keyof Events]?: Events[K][] } = {};

  on<K extends keyof Events>(event: K, listener: Events[K]): this {
    const list = this.#listeners[event] as Events[K][] | undefined;
    // Copy-on-write: emit() can iterate the old array while a listener is added or removed.
    this.#listeners[event] = list ? [...list, listener] : [listener];
    return this;
  }

  addListener<K extends keyof Events>(event: K, listener: Events[K]): this {
    return this.on(event, listener);
  }

  once<K extends keyof Events>(event: K, listener: Events[K]): this {
    const wrapper = ((...args: unknown[]) => {
      this.off(event, wrapper);
      (listener as Listener)(...args);
    }) as Events[K];
    (wrapper as unknown as { listener: unknown }).listener = listener;
    return this.on(event, wrapper);
  }

  off<K extends keyof Events>(event: K, listener: Events[K]): this {
    const list = this.#listeners[event] as Events[K][] | undefined;
    if (!list) return this;
    const i = list.findIndex((l) => l === listener || (l as unknown as { listener?: unknown }).listener === listener);
    if (i < 0) return this;
    if (list.length === 1) delete this.#listeners[event];
    else this.#listeners[event] = [...list.slice(0, i), ...list.slice(i + 1)];
    return this;
  }

  removeListener<K extends keyof Events>(event: K, listener: Events[K]): this {
    return this.off(event, listener);
  }

  removeAllListeners(event?: keyof Events): this {
    if (event === undefined) this.#listeners = {};
    else delete this.#listeners[event];
    return this;
  }

  listenerCount(event: keyof Events): number {
    return this.#listeners[event]?.length ?? 0;
  }

  /** True when someone listens: lets callers skip building event objects. */
  has(event: keyof Events): boolean {
    return this.#listeners[event] !== undefined;
  }

  /**
   * Calls the listeners in order. A throwing listener does not stop the others or the
   * protocol engine: its exception is reported as an `error` event (or a warning).
   */
  emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): boolean {
    const list = this.#listeners[event];
    if (!list) {
      if (event === 'error') warn(args[0]);
      return false;
    }
    for (let i = 0; i < list.length; i++) {
      try {
        (list[i] as Listener)(...args);
      } catch (err) {
        if (event === 'error') warn(err);
        else this.emit('error' as K, ...([err] as Parameters<Events[K]>));
      }
    }
    return true;
  }
}

/** Reports an unheard error without killing the host. */
export function warn(err: unknown): void {
  const g = globalThis as { process?: { emitWarning?: (w: string | Error, o?: unknown) => void } };
  const text = err instanceof Error ? err : new Error(String(err));
  if (typeof g.process?.emitWarning === 'function') {
    g.process.emitWarning(`unhandled MQTT client error: ${text.message}`, {
      type: 'MqttClientWarning',
      code: (text as { code?: string }).code,
    });
  } else {
    console.warn('unhandled MQTT client error', text);
  }
}
