import { isOllamaError, type OllamaError, withAttempts, withNote } from '../errors.ts';
import { type RetryInfo, retry, unlessAborted } from '../retry.ts';
import { type Batches, contextOf, type Exchange, type Reader, type StreamReader } from './exchange.ts';
import type { ResolvedOptions } from './resolve-options.ts';
import { retryDelay } from './retry-policy.ts';
import { hold, link } from './signals.ts';
import { totalTimeoutError } from './timeout-error.ts';
import { rehold, unhold } from './unhold.ts';

/**
 * One call, from its first attempt to its end: the caller's signal joined with the
 * `totalTimeout` timer into the one signal every attempt and every wait obeys, and the count
 * of attempts every error reports. A call with neither needs no signal of its own, unless it may
 * be left from outside (a stream's `return()` while a read waits). Disposing of it clears the timer
 * and the link, so nothing of the call outlives it.
 */
class Call {
  readonly #options: ResolvedOptions;
  /** Reads of the exchange so far; `sent` adds the requests a read sent again within itself. */
  #attempts = 0;
  readonly #exchange: Exchange;
  readonly #controller: AbortController | undefined;
  readonly #user: AbortSignal | undefined;
  readonly #unlink: (() => void) | undefined;
  readonly #timer: ReturnType<typeof setTimeout> | undefined;
  /** The timer does not hold the process (see the constructor). */
  readonly #unheld: boolean = false;
  #deadline: number | undefined;
  readonly #expired: OllamaError | undefined;

  constructor(exchange: Exchange, options: ResolvedOptions, leavable = false) {
    this.#exchange = exchange;
    const user = options.signal;
    this.#user = user;
    this.#deadline = options.within?.deadline;
    if (user === undefined && options.totalTimeout <= 0 && !leavable) {
      this.#options = options;
      return;
    }
    const controller = new AbortController();
    this.#controller = controller;
    if (options.totalTimeout > 0) this.#deadline = performance.now() + options.totalTimeout;
    this.#options = { ...options, signal: controller.signal, deadline: this.#deadline };
    this.#unlink = link(user, controller);
    if (options.totalTimeout > 0) {
      const expired = totalTimeoutError(contextOf(exchange, options), options.totalTimeout);
      this.#expired = expired;
      const timer = setTimeout(() => controller.abort(expired), options.totalTimeout);
      // On the runtime's own fetch, a connection in use holds the process, and a retry's wait
      // holds it by itself; a stream its consumer dropped without leaving it must not be held
      // for the rest of totalTimeout. A fetch of the caller's own may hold nothing: there it does.
      if (options.builtinFetch) {
        unhold(timer);
        this.#unheld = true;
      }
      this.#timer = timer;
    }
  }

  /** Every request the call made. */
  get sent(): number {
    return this.#attempts + (this.#exchange.resent ?? 0);
  }

  get signal(): AbortSignal | undefined {
    return this.#controller?.signal;
  }

  /**
   * `value`, or, if it is a promise of the caller's own code (what `onProgress` or `onRetry`
   * returned), a promise that settles as it does or as soon as the call is aborted or out of
   * time. Meanwhile the caller's signal holds the call, and its total timer the process: the
   * promise may hold nothing at all, and then only they can still end the wait.
   */
  waitFor<T>(value: T | PromiseLike<T>): T | PromiseLike<T> {
    if (typeof (value as { then?: unknown } | null)?.then !== 'function') return value;
    const release = hold(this.#user, this.#controller);
    if (this.#unheld) rehold(this.#timer);
    return Promise.resolve(unlessAborted(value, this.signal)).finally(() => {
      release();
      if (this.#unheld) unhold(this.#timer as ReturnType<typeof setTimeout>);
    });
  }

  /** Stops whatever the call is doing (an attempt in flight, a wait): the caller has left. */
  leave(): void {
    this.#controller?.abort(LEFT);
  }

  /** Runs `read` under the retry policy: each attempt reads the exchange with the call's own
   * options, whose signal is the call's. */
  run<T>(read: Reader<T>): Promise<T> {
    const policy = this.#options.retry;
    const { onRetry } = policy;
    return this.holding(
      retry(
        () => {
          this.#attempts++;
          const { within } = this.#options;
          if (within !== undefined) within.sent++;
          return read(this.#exchange, this.#options);
        },
        {
          retries: policy.retries,
          baseDelay: policy.baseDelay,
          maxDelay: policy.maxDelay,
          signal: this.signal,
          shouldRetry: (error, info) => {
            const delay = retryDelay(error, info.delay, policy);
            if (delay !== false && this.#deadline !== undefined && performance.now() + delay >= this.#deadline) {
              throw totalTimeoutError(
                contextOf(this.#exchange, this.#options),
                this.#options.within?.totalTimeout ?? this.#options.totalTimeout,
                error as OllamaError,
              );
            }
            return delay;
          },
          onRetry:
            onRetry === undefined
              ? undefined
              : (info: RetryInfo) => this.waitFor(onRetry({ ...info, error: this.settle(info.error) })),
        },
        true,
      ),
    );
  }

  /**
   * `work`, during which the caller's signal holds the call strongly, where the fetch is the
   * caller's own. The runtime's fetch holds a call in flight through its connection; a fetch of
   * the caller's own (a handler in the process, a mock) may hold nothing while it waits, and the
   * call, linked to the caller's signal only weakly, would then be collected with its timers and
   * its abort, and never settle. Only while it waits: a stream dropped between two reads is not
   * kept for as long as the caller keeps its signal.
   */
  holding<T>(work: Promise<T>): Promise<T> {
    if (!this.#options.builtinFetch && this.#user !== undefined) {
      const release = hold(this.#user, this.#controller);
      return work.finally(release);
    }
    return work;
  }

  /** What the caller sees: the caller's own abort reason as it is, any other error with the
   * number of attempts made. A stream that ran out of time says how many chunks it had handed on
   * (`received`), so that a total timeout mid-answer reads differently from one before it. */
  settle(error: unknown, received = 0): unknown {
    if (this.#user?.aborted === true) return this.#user.reason;
    const expired = this.#expired;
    let found = error;
    // Settled already (a stream's error, met again by `callEach`), or refused before a retry: kept.
    const told = isOllamaError(error) && error.kind === 'total-timeout' && error !== expired;
    if (expired !== undefined && this.#controller?.signal.reason === expired && !told) {
      found =
        received > 0 ? withNote(expired, `It ran out after ${received} chunk(s); the answer is incomplete.`) : expired;
    }
    return isOllamaError(found) ? withAttempts(found, this.sent) : found;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#unlink?.();
  }
}

/** A call answered as a whole (chat, generate, embed): an attempt is retried whenever it fails
 * in a retryable way, since nothing reaches the caller before the call returns. */
export async function callOnce<T>(exchange: Exchange, options: ResolvedOptions, read: Reader<T>): Promise<T> {
  const call = new Call(exchange, options);
  try {
    return await call.run(read);
  } catch (error) {
    throw call.settle(error);
  } finally {
    call.dispose();
  }
}

/**
 * A streaming call: attempts are retried until one yields its first items; from then on the
 * items are the caller's and a failure ends the stream, so no item is ever repeated.
 */
export function callStream<T>(
  exchange: Exchange,
  options: ResolvedOptions,
  read: StreamReader<T>,
): AsyncGenerator<T, void, undefined> {
  // The call (its total timer, its link to the caller's signal) begins with the iteration: a
  // stream made and never read holds nothing, and time before the first `next()` is not counted.
  return streamOf(() => new Call(exchange, options, true), read);
}

/**
 * A streaming call whose items go to `each`, in order, each awaited before the next is read
 * (`onProgress`); resolves with the last item. An abort or the total timeout settles it at once,
 * whatever `each` is still doing; a throw of `each` ends it with that error. Either way the
 * connection is closed.
 */
export async function callEach<T>(
  exchange: Exchange,
  options: ResolvedOptions,
  read: StreamReader<T>,
  each: (item: T) => unknown,
): Promise<T | undefined> {
  const call = new Call(exchange, options);
  let last: T | undefined;
  let received = 0;
  try {
    // Leaving the loop by a throw returns the stream, which closes the connection.
    // The call's signal and timer still govern `each` once the answer is complete: not ended early.
    for await (const item of streamOf(() => call, read, false)) {
      last = item;
      received++;
      await call.waitFor(each(item));
    }
    return last;
  } catch (error) {
    throw call.settle(error, received);
  }
}

const END: IteratorReturnResult<void> = Object.freeze({ value: undefined, done: true });

/** The runtime's `Symbol.asyncDispose` (explicit resource management), or, where it has none, a
 * symbol of ours that nothing looks for: the streams keep one shape either way. */
export const ASYNC_DISPOSE: symbol = (Symbol as { asyncDispose?: symbol }).asyncDispose ?? Symbol('asyncDispose');

/** The reason a call's own signal aborts with when its stream is left: never seen by anyone. */
const LEFT = Symbol('left');

/**
 * The stream a streaming call returns, with the protocol of an async generator. It hands out the
 * items of each read one per `next()` without a generator's hops (an item already read costs a
 * resolved promise, nothing more), and reads on only when they are used up, so that a slow
 * consumer holds the stream back rather than buffering it. Leaving it (`return()`, a `break`)
 * closes the connection, which stops Ollama generating. A `next()` made while a read is under way
 * waits for it, as a generator's would. A `return()` made then (a Stop button, outside the loop)
 * does not wait for the server: it closes the connection, or stops the attempt still opening it,
 * at once, and the read it cut short ends the stream; a `next()` made after it ends it too.
 * The call is made by the first `next()`, and ends with the stream, or as soon as its answer is
 * complete (the rest of it is in hand).
 */
function streamOf<T>(
  makeCall: () => Call,
  read: StreamReader<T>,
  endWhenComplete = true,
): AsyncGenerator<T, void, undefined> {
  let call: Call | undefined;
  let source: Batches<T> | undefined;
  let items: readonly T[] = [];
  let index = 0;
  /** Items of the reads before `items` that were handed on: with `index`, what the consumer got. */
  let handed = 0;
  let started = false;
  let over = false;
  let pulling: Promise<unknown> | undefined;
  /** What `return()` resolves with, from the moment it was called. */
  let leaving: Promise<IteratorResult<T, void>> | undefined;
  /** `next()`s made while a read was under way, answered in the order they were made (two
   * consumers of one stream), each with the next item, before any `next()` made after them. */
  const waiting: Array<{ resolve: (result: IteratorResult<T, void>) => void; reject: (error: unknown) => void }> = [];
  /** Answers the waiting `next()`s from the items in hand; when they run out, the first one still
   * waiting makes the next read, and the others wait for it in turn. */
  const serve = (): void => {
    while (waiting.length > 0) {
      const waiter = waiting.shift() as (typeof waiting)[number];
      if (over || leaving !== undefined) waiter.resolve(END);
      else if (index < items.length) waiter.resolve({ value: items[index++] as T, done: false });
      else {
        const pulled = pull();
        if (!over) pulling = pulled;
        pulled.then(waiter.resolve, waiter.reject);
        return;
      }
    }
  };

  const dropRead = (): void => {
    handed += index;
    items = [];
    index = 0;
  };
  const end = (): void => {
    if (over) return;
    over = true;
    items = [];
    call?.dispose();
  };
  /** One attempt, up to its first items: until they arrive, a failure may be retried. */
  const first = async (exchange: Exchange, attemptOptions: ResolvedOptions): Promise<T[] | undefined> => {
    const opened = await read(exchange, attemptOptions);
    const batch = await opened.next();
    source = opened;
    return batch;
  };
  // The read under way is chained with `then`, not awaited in an async function: that layer
  // would cost a promise and a resumption per network read.
  const deliver = (batch: T[] | undefined): IteratorResult<T, void> => {
    pulling = undefined;
    // Left while the read was under way: what it brought is nobody's.
    if (over) {
      if (waiting.length > 0) serve();
      return END;
    }
    if (batch === undefined) {
      end();
      if (waiting.length > 0) serve();
      return END;
    }
    handed += index;
    items = batch;
    index = 1;
    // Complete: no timer or signal of the call has anything left to guard, even if the consumer
    // never asks for the end (a loop that stops at `done: true` by hand).
    if (endWhenComplete && source?.complete === true) call?.dispose();
    if (waiting.length > 0) serve();
    return { value: batch[0] as T, done: false };
  };
  const failed = (error: unknown): IteratorResult<T, void> => {
    pulling = undefined;
    // The stream was left while this read was under way, and leaving is what ended the read.
    if (over) {
      if (waiting.length > 0) serve();
      return END;
    }
    end();
    // A generator that threw answers every later `next()` with its end.
    if (waiting.length > 0) serve();
    throw (call as Call).settle(error, handed + index);
  };
  const pull = (): Promise<IteratorResult<T, void>> => {
    if (over) return Promise.resolve(END);
    if (started) return (call as Call).holding((source as Batches<T>).next()).then(deliver, failed);
    started = true;
    const made = makeCall();
    call = made;
    // An abort (the caller's, or totalTimeout) ends the stream at the next `next()`: chunks of a
    // read already in hand are not handed on after it.
    made.signal?.addEventListener('abort', dropRead, { once: true });
    return made.run(first).then(deliver, failed);
  };
  // Cast, not typed: where the library knows `Symbol.asyncDispose` (ESNext), an AsyncGenerator has
  // it, and it is added under a name that every TypeScript library can spell.
  const stream = {
    next(): Promise<IteratorResult<T, void>> {
      if (leaving !== undefined) return leaving;
      if (index < items.length && waiting.length === 0) {
        return Promise.resolve({ value: items[index++] as T, done: false });
      }
      if (pulling !== undefined) {
        return new Promise((resolve, reject) => {
          waiting.push({ resolve, reject });
        });
      }
      const pulled = pull();
      // A pull that settled at once (the stream was over) has nothing to wait for.
      if (!over) pulling = pulled;
      return pulled;
    },
    return(): Promise<IteratorResult<T, void>> {
      leaving ??= leave();
      return leaving;
    },
    async throw(error: unknown): Promise<IteratorResult<T, void>> {
      await stream.return();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return stream;
    },
    /** `await using stream = chatStream(…)`: leaving the block leaves the stream, as `break` does. */
    [ASYNC_DISPOSE](): Promise<void> {
      return stream.return().then(ignore);
    },
  } as unknown as AsyncGenerator<T, void, undefined>;
  const leave = async (): Promise<IteratorResult<T, void>> => {
    if (!over) {
      over = true;
      items = [];
      try {
        // Before the first items there is no body to close: the attempt itself is stopped.
        if (source === undefined) call?.leave();
        else await source.close();
        if (pulling !== undefined) await pulling.catch(ignore);
      } finally {
        call?.dispose();
      }
    }
    return END;
  };
  return stream;
}

function ignore(): void {}
