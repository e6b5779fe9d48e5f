/**
 * The chunks of a stream of batches, one at a time: what the /v1 streams hand the caller. The
 * reader yields the chunks one network read completed as one batch, so the call layer's
 * generators step once per read, not once per chunk; here each chunk of a batch is handed out
 * from a plain resolved promise, which costs far less than a step of an async generator.
 * Leaving early (`break`, `return()`, `throw()`) ends the batches, which closes the connection.
 */
export function flatten<T>(batches: AsyncGenerator<T[], void, undefined>): AsyncGenerator<T, void, undefined> {
  return new Flat(batches);
}

const DONE: IteratorReturnResult<void> = Object.freeze({ value: undefined, done: true });

class Flat<T> implements AsyncGenerator<T, void, undefined> {
  readonly #source: AsyncGenerator<T[], void, undefined>;
  #batch: readonly T[] = [];
  #index = 0;
  #finished = false;
  /** A read of the next batch under way: a second `next()` waits for it, as with a generator. */
  #pulling: Promise<IteratorResult<T, void>> | undefined;

  constructor(source: AsyncGenerator<T[], void, undefined>) {
    this.#source = source;
  }

  next(): Promise<IteratorResult<T, void>> {
    if (this.#pulling !== undefined) return this.#pulling.then(() => this.next());
    if (this.#index < this.#batch.length) {
      return Promise.resolve({ value: this.#batch[this.#index++] as T, done: false });
    }
    if (this.#finished) return Promise.resolve(DONE);
    const pulling = this.#pull();
    this.#pulling = pulling;
    const clear = (): void => {
      if (this.#pulling === pulling) this.#pulling = undefined;
    };
    pulling.then(clear, clear);
    return pulling;
  }

  async #pull(): Promise<IteratorResult<T, void>> {
    try {
      for (;;) {
        const result = await this.#source.next();
        if (result.done === true) {
          this.#finished = true;
          return DONE;
        }
        if (result.value.length > 0) {
          this.#batch = result.value;
          this.#index = 1;
          return { value: result.value[0] as T, done: false };
        }
      }
    } catch (error) {
      this.#finished = true;
      this.#batch = [];
      throw error;
    }
  }

  async return(): Promise<IteratorResult<T, void>> {
    this.#finished = true;
    this.#batch = [];
    await this.#source.return();
    return DONE;
  }

  async throw(error: unknown): Promise<IteratorResult<T, void>> {
    await this.return();
    throw error;
  }

  [Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    return this;
  }
}
