import type { ResolvedOptions } from '../../internal/resolve-options.ts';
import { link } from '../../internal/signals.ts';
import { inTheBody } from '../../internal/stream-body.ts';
import type { OpenAIOptions, Stream, StreamPromise, WithResponse } from '../types.ts';
import { resolveV1 } from './resolve.ts';

// The streams of the `createOpenAI` client, shaped like openai-node's `Stream`: `create()`
// resolves once the first chunk is in, and an abort ends the loop instead of throwing.

type Pull<T> = () => Promise<IteratorResult<T, undefined>>;

const END: IteratorReturnResult<undefined> = Object.freeze({ value: undefined, done: true });

class ClientStream<T> implements Stream<T> {
  // Named as openai-node names its class; the minified build would rename it.
  static {
    Object.defineProperty(ClientStream, 'name', { value: 'Stream' });
  }

  readonly controller: AbortController;
  #pull: Pull<T>;
  #close: () => Promise<unknown>;
  #used = false;

  constructor(controller: AbortController, pull: Pull<T>, close: () => Promise<unknown>) {
    this.controller = controller;
    this.#pull = pull;
    this.#close = close;
  }

  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    if (this.#used) throw new TypeError('Cannot iterate over a consumed stream, use `.tee()` to split the stream.');
    this.#used = true;
    return { next: this.#pull, return: () => this.#close().then(() => END) };
  }

  tee(): [Stream<T>, Stream<T>] {
    const source = this[Symbol.asyncIterator]();
    // What each branch has yet to take: the reads the other one made ahead of it. A branch
    // that is left takes nothing more (`undefined`), and the last one left closes the source.
    const queues: (Promise<IteratorResult<T, undefined>>[] | undefined)[] = [[], []];
    const branch = (side: 0 | 1): Stream<T> =>
      new ClientStream<T>(
        this.controller,
        () => {
          const mine = queues[side];
          if (mine === undefined) return Promise.resolve(END);
          if (mine.length === 0) {
            const read = source.next();
            for (const queue of queues) queue?.push(read);
          }
          return mine.shift() as Promise<IteratorResult<T, undefined>>;
        },
        async () => {
          if (queues[side] === undefined) return;
          queues[side] = undefined;
          if (queues[1 - side] === undefined) await source.return?.();
        },
      );
    return [branch(0), branch(1)];
  }

  toReadableStream(): ReadableStream<Uint8Array> {
    let iterator: AsyncIterator<T, undefined>;
    const encoder = new TextEncoder();
    return new ReadableStream<Uint8Array>({
      start: () => {
        iterator = this[Symbol.asyncIterator]();
      },
      async pull(controller) {
        const { value, done } = await iterator.next();
        if (done) controller.close();
        else controller.enqueue(encoder.encode(`${JSON.stringify(value)}\n`));
      },
      async cancel() {
        await iterator.return?.();
      },
    });
  }
}

/**
 * A streaming call of the client: `open` starts it with a signal of the stream's own (which the
 * caller's `signal` aborts too) and the first chunk is read before the promise resolves, so an
 * HTTP error or a connection failure rejects it; retries happen before that chunk, as in the
 * function API. Then the stream yields that chunk and the rest. After an abort, of either
 * signal, the loop ends quietly, as openai-node's does. The promise can be iterated as well.
 */
export function clientStream<T>(
  options: () => OpenAIOptions,
  open: (options: ResolvedOptions) => AsyncGenerator<T, void, undefined>,
): StreamPromise<T> {
  let response: Response | undefined;
  const opened = (async () => {
    // In here, so that a bad option rejects the promise rather than throwing.
    const resolved = resolveV1(options());
    resolved.onResponse = (arrived) => {
      response = arrived;
    };
    const controller = new AbortController();
    const { signal } = controller;
    // Undone when the stream ends, so a long-lived caller's signal does not keep it.
    const unlink = link(resolved.signal, controller);
    let first: IteratorResult<T, void> | undefined;
    /** What went wrong in the body of the 200, which openai-node's loop throws, not its `await`. */
    let failed: { error: unknown } | undefined;
    let inner: AsyncGenerator<T, void, undefined>;
    try {
      inner = open({ ...resolved, signal });
      first = await inner.next();
    } catch (error) {
      if (!inTheBody(error)) {
        unlink();
        throw error;
      }
      failed = { error };
      inner ??= (async function* () {})();
    }
    const close = (): Promise<unknown> => {
      unlink();
      return inner.return();
    };
    const pull: Pull<T> = () => {
      // Chunks already read when the abort came are not handed out either.
      if (signal.aborted) return close().then(() => END);
      const read =
        failed !== undefined
          ? Promise.reject(failed.error)
          : first === undefined
            ? inner.next()
            : Promise.resolve(first);
      first = undefined;
      failed = undefined;
      return read.then(
        (result) => {
          if (result.done !== true) return result;
          unlink();
          return END;
        },
        (error: unknown) => {
          unlink();
          if (signal.aborted) return END;
          throw error;
        },
      );
    };
    return new ClientStream<T>(controller, pull, close);
  })();
  return Object.assign(opened, {
    async *[Symbol.asyncIterator]() {
      yield* await opened;
    },
    withResponse: () => opened.then((data) => answerWith(data, response)),
  });
}

/** What openai-node's `withResponse()` resolves with: the answer, and the response it came in
 * (its body read, or being read by the stream), with its `x-request-id`. */
export function answerWith<T>(data: T, response: Response | undefined): WithResponse<T> {
  const arrived = response as Response;
  return { data, response: arrived, request_id: arrived.headers.get('x-request-id') };
}
