import { withResponseFields } from './internal/response-fields.ts';

/**
 * What `chat`, `generate`, `pull`, `push` and `create` resolve to with `stream: true`, as in
 * ollama-js: an async iterable of the chunks, with `abort()`. Unlike there, leaving the loop early
 * (`break`, `return`, a throw) closes the connection, so Ollama stops generating, and `abort()`
 * works at any moment.
 */
export class AbortableAsyncIterator<T extends object> implements AsyncIterable<T> {
  // The minified build renames classes; `util.inspect` and `constructor.name` should not show it.
  static {
    Object.defineProperty(AbortableAsyncIterator, 'name', { value: 'AbortableAsyncIterator' });
  }

  readonly #controller: AbortController;
  readonly #items: AsyncGenerator<T, void, undefined>;
  readonly #first: IteratorResult<T, void> | { failed: unknown };
  readonly #end: () => void;

  /** @internal Made by the `Ollama` class: the stream, its first item already read (or how
   * reading it failed, which the loop throws, as ollama-js's would), and the function that
   * forgets the stream when it ends. */
  constructor(
    controller: AbortController,
    items: AsyncGenerator<T, void, undefined>,
    first: IteratorResult<T, void> | { failed: unknown },
    end: () => void,
  ) {
    this.#controller = controller;
    this.#items = items;
    this.#first = first;
    this.#end = end;
  }

  /** Stops the stream: the loop over it rejects with an `AbortError`, and the connection closes. */
  abort(): void {
    this.#controller.abort();
  }

  /** Iterated already: a second loop would repeat the first chunk and miss what the first loop
   * took, so it throws instead. */
  #iterated = false;

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    if (this.#iterated) {
      throw new TypeError(
        'This stream was already iterated: its chunks go to one loop only. Keep them in an array if more than one loop needs them.',
      );
    }
    this.#iterated = true;
    try {
      const first = this.#first;
      // Aborted before the loop: ollama-js yields nothing then, the chunk in hand included.
      this.#controller.signal.throwIfAborted();
      if ('failed' in first) throw first.failed;
      if (first.done === true) return;
      yield first.value;
      yield* this.#items;
    } catch (error) {
      throw withResponseFields(error);
    } finally {
      await this.#items.return();
      this.#end();
    }
  }
}
