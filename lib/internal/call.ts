import { isOllamaError, type OllamaError, withAttempts } from '../errors.ts';
import { type RetryInfo, retry } from '../retry.ts';
import { contextOf, type Exchange, type Reader, type RequestContext, type StreamReader } from './exchange.ts';
import type { ResolvedOptions } from './resolve-options.ts';
import { retryDelay } from './retry-policy.ts';
import { link } from './signals.ts';
import { totalTimeoutError } from './timeout-error.ts';

/**
 * One call, from its first attempt to its end: the caller's signal joined with the
 * `totalTimeout` timer into the one signal every attempt and every wait obeys, and the count
 * of attempts every error reports. Disposing of it clears the timer and the link, so nothing
 * of the call outlives it.
 */
class Call {
  readonly options: ResolvedOptions;
  attempts = 0;
  private readonly controller = new AbortController();
  private readonly user: AbortSignal | undefined;
  private readonly unlink: () => void;
  private readonly timer: ReturnType<typeof setTimeout> | undefined;
  private readonly deadline: number | undefined;
  private readonly expired: OllamaError | undefined;
  private readonly context: RequestContext;

  private readonly exchange: Exchange;

  constructor(exchange: Exchange, options: ResolvedOptions) {
    this.exchange = exchange;
    this.user = options.signal;
    this.options = { ...options, signal: this.controller.signal };
    this.context = contextOf(exchange, options);
    this.unlink = link(this.user, this.controller);
    if (options.totalTimeout > 0) {
      this.deadline = performance.now() + options.totalTimeout;
      const expired = totalTimeoutError(this.context, options.totalTimeout);
      this.expired = expired;
      this.timer = setTimeout(() => this.controller.abort(expired), options.totalTimeout);
    }
  }

  /** Runs `read` under the retry policy: each attempt reads the exchange with the call's own
   * options, whose signal is the call's. */
  run<T>(read: Reader<T>): Promise<T> {
    const policy = this.options.retry;
    const { onRetry } = policy;
    return retry(
      () => {
        this.attempts++;
        return read(this.exchange, this.options);
      },
      {
        retries: policy.retries,
        baseDelay: policy.baseDelay,
        maxDelay: policy.maxDelay,
        signal: this.controller.signal,
        shouldRetry: (error, info) => {
          const delay = retryDelay(error, info.delay, policy);
          if (delay !== false && this.deadline !== undefined && performance.now() + delay >= this.deadline) {
            throw totalTimeoutError(this.context, this.options.totalTimeout, error as OllamaError);
          }
          return delay;
        },
        onRetry:
          onRetry === undefined ? undefined : (info: RetryInfo) => onRetry({ ...info, error: this.settle(info.error) }),
      },
    );
  }

  /** What the caller sees: the caller's own abort reason as it is, any other error with the
   * number of attempts made. */
  settle(error: unknown): unknown {
    if (this.user?.aborted === true) return this.user.reason;
    if (this.expired !== undefined && this.controller.signal.reason === this.expired) {
      return withAttempts(this.expired, this.attempts);
    }
    return isOllamaError(error) ? withAttempts(error, this.attempts) : error;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.unlink();
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
 * A streaming call: attempts are retried until one yields its first item; from then on the
 * items are the caller's and a failure ends the stream, so no item is ever repeated.
 */
export async function* callStream<T>(
  exchange: Exchange,
  options: ResolvedOptions,
  read: StreamReader<T>,
): AsyncGenerator<T, void, undefined> {
  const call = new Call(exchange, options);
  let items: AsyncGenerator<T, void, undefined> | undefined;
  try {
    const first = await call.run(async (attemptExchange, attemptOptions) => {
      const candidate = read(attemptExchange, attemptOptions);
      const result = await candidate.next();
      items = candidate;
      return result;
    });
    if (first.done === true) return;
    yield first.value;
    yield* items as AsyncGenerator<T, void, undefined>;
  } catch (error) {
    throw call.settle(error);
  } finally {
    // Leaving between the first item and the rest: the attempt's own cleanup closes the
    // connection. (Already finished generators ignore this.)
    await items?.return();
    call.dispose();
  }
}
