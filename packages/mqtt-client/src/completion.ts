/**
 * A lazily materialised Promise. publish() returns one per message; creating a real Promise
 * (plus its resolve/reject closures) only when someone calls `then`/`catch`/`finally` keeps
 * fire-and-forget publishing free of per-message promise allocation. `await` works as usual.
 *
 * A rejection that nobody observed is passed to `onUnobserved` (the client turns it into an
 * `error` event) instead of becoming an unhandled rejection.
 */
export class Completion<T> implements Promise<T> {
  /** 0 pending, 1 fulfilled, 2 rejected. */
  #state: 0 | 1 | 2 = 0;
  #value: T | unknown = undefined;
  #promise: Promise<T> | undefined;
  #resolve: ((v: T) => void) | undefined;
  #reject: ((e: unknown) => void) | undefined;
  #onUnobserved: ((err: unknown) => void) | undefined;

  constructor(onUnobserved?: (err: unknown) => void) {
    this.#onUnobserved = onUnobserved;
  }

  get [Symbol.toStringTag](): string {
    return 'Completion';
  }

  /** True once resolved or rejected. */
  get settled(): boolean {
    return this.#state !== 0;
  }

  /** Whether someone has attached a handler. */
  get observed(): boolean {
    return this.#promise !== undefined;
  }

  #materialise(): Promise<T> {
    if (this.#promise) return this.#promise;
    if (this.#state === 1) this.#promise = Promise.resolve(this.#value as T);
    else if (this.#state === 2) this.#promise = Promise.reject(this.#value);
    else
      this.#promise = new Promise<T>((resolve, reject) => {
        this.#resolve = resolve;
        this.#reject = reject;
      });
    return this.#promise;
  }

  resolve(value: T): void {
    if (this.#state !== 0) return;
    this.#state = 1;
    this.#value = value;
    if (this.#resolve) {
      this.#resolve(value);
      this.#resolve = this.#reject = undefined;
    }
  }

  reject(err: unknown): void {
    if (this.#state !== 0) return;
    this.#state = 2;
    this.#value = err;
    if (this.#reject) {
      this.#reject(err);
      this.#resolve = this.#reject = undefined;
    } else if (!this.#promise && this.#onUnobserved) {
      // `await` attaches its handler a microtask later: judge after the current macrotask.
      const report = this.#onUnobserved;
      setTimeout(() => {
        if (!this.#promise) report(err);
      }, 0);
    }
  }

  // biome-ignore lint/suspicious/noThenProperty: this object is deliberately a thenable.
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this.#materialise().then(onfulfilled, onrejected);
  }

  catch<R = never>(onrejected?: ((reason: unknown) => R | PromiseLike<R>) | null): Promise<T | R> {
    return this.#materialise().catch(onrejected);
  }

  finally(onfinally?: (() => void) | null): Promise<T> {
    return this.#materialise().finally(onfinally);
  }
}

/** A Completion that is already fulfilled (shared by every QoS 0 publish). */
export function resolved<T>(value: T): Completion<T> {
  const c = new Completion<T>();
  c.resolve(value);
  return c;
}
