// A retry loop for any async function. It knows nothing of HTTP or Ollama: what is worth
// another attempt, and how long to wait, are the caller's to say through `shouldRetry`.

import { hold, link } from './internal/signals.ts';

/** What an attempt is told about itself. */
export interface RetryContext {
  /** This attempt, counting from 1. */
  readonly attemptNumber: number;
  /** How many more attempts may follow this one. */
  readonly retriesLeft: number;
}

/** What `shouldRetry` and `onRetry` are told about a failed attempt. */
export interface RetryInfo extends RetryContext {
  /** The error the attempt failed with. */
  readonly error: unknown;
  /** The wait before the next attempt, in milliseconds: the jittered backoff for
   * `shouldRetry`, the wait actually chosen for `onRetry`. */
  readonly delay: number;
}

export interface RetryOptions {
  /**
   * How many times to try again after the first attempt fails.
   * @default 2
   */
  retries?: number | undefined;
  /**
   * The backoff before the first retry, doubled for each one after it.
   * @default 1000
   */
  baseDelay?: number | undefined;
  /**
   * The longest backoff. Jitter spreads each wait over the upper half of its doubled value, so
   * no wait is ever longer than this.
   * @default 8000
   */
  maxDelay?: number | undefined;
  /**
   * Decides after each failure: `false` gives up with that error, `true` waits `info.delay`, a
   * number waits exactly that many milliseconds. A throw gives up with what it throws.
   * @default every error is retried
   */
  shouldRetry?: ((error: unknown, info: RetryInfo) => boolean | number) | undefined;
  /**
   * Called before each wait, with the attempt that failed, the wait and the error. The wait
   * starts when it returns (or when its promise settles); a throw gives up with what it throws.
   * @default none
   */
  onRetry?: ((info: RetryInfo) => unknown) | undefined;
  /**
   * Stops the loop: before an attempt, during a wait, which ends at once, and while a promise
   * `onRetry` returned is pending, which is not waited for. The loop then rejects with
   * `signal.reason`. An attempt in flight must watch the signal itself.
   * @default none
   */
  signal?: AbortSignal | undefined;
  /** A source of numbers in [0, 1) for the jitter; tests pass a fixed one. @default Math.random */
  random?: (() => number) | undefined;
}

/** 2^31 − 1: setTimeout's ceiling; a longer delay would fire at once. */
export const MAX_DELAY_MS = 2_147_483_647;

/**
 * Runs `attempt` until it succeeds, `shouldRetry` says no, or the retries run out; rejects
 * with the last error. No timer outlives the loop: a wait cut short by the signal is cleared.
 */
export async function retry<T>(
  attempt: (context: RetryContext) => T | PromiseLike<T>,
  options: RetryOptions = {},
  /** @internal The signal is the caller's alone (a call's own): nobody shares it, so the waits
   * listen to it directly. */
  own = false,
): Promise<T> {
  const retries = count(options.retries ?? 2, 'retries');
  const baseDelay = delayValue(options.baseDelay ?? 1000, 'baseDelay');
  const maxDelay = delayValue(options.maxDelay ?? 8000, 'maxDelay');
  const { shouldRetry, onRetry, signal } = options;
  if (signal !== undefined && typeof (signal as Partial<AbortSignal>).throwIfAborted !== 'function') {
    throw new TypeError('retry: options.signal must be an AbortSignal');
  }
  const random = options.random ?? Math.random;
  // The waits listen to a signal of the loop's own, which the caller's forwards to through the
  // one listener the library keeps on it: loops sharing a signal add nothing to it each.
  const loop = signal === undefined || own ? undefined : new AbortController();
  const unlink = loop === undefined ? undefined : link(signal, loop);
  const waits = loop?.signal ?? signal;
  try {
    for (let attemptNumber = 1; ; attemptNumber++) {
      signal?.throwIfAborted();
      const retriesLeft = retries - attemptNumber + 1;
      try {
        return await attempt({ attemptNumber, retriesLeft });
      } catch (error) {
        if (signal?.aborted === true) throw signal.reason;
        if (retriesLeft <= 0) throw error;
        const proposed = backoff(attemptNumber, baseDelay, maxDelay, random);
        const verdict =
          shouldRetry === undefined ? true : shouldRetry(error, { attemptNumber, retriesLeft, error, delay: proposed });
        if (verdict === false) throw error;
        const delay = verdict === true ? proposed : delayValue(verdict, 'the delay shouldRetry returned');
        if (onRetry !== undefined) {
          // A promise of the caller's may hold nothing: the caller's signal holds the loop meanwhile.
          const release = hold(signal, loop);
          try {
            await unlessAborted(onRetry({ attemptNumber, retriesLeft, error, delay }), waits);
          } finally {
            release();
          }
        }
        await sleep(delay, waits);
      }
    }
  } finally {
    unlink?.();
  }
}

/**
 * The wait before retry number `attemptNumber`: `baseDelay · 2^(n−1)`, capped at `maxDelay`,
 * then spread at random over its upper half ("equal jitter"), so that clients failing together
 * do not come back together, yet none comes back at once.
 */
export function backoff(
  attemptNumber: number,
  baseDelay: number,
  maxDelay: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxDelay, baseDelay * 2 ** Math.min(attemptNumber - 1, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Resolves after `ms`, or rejects with `signal.reason` as soon as the signal aborts; the timer
 * and the listener are removed either way.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason);
      return;
    }
    const stop = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', stop);
      resolve();
    }, ms);
    signal?.addEventListener('abort', stop, { once: true });
  });
}

/**
 * Settles as `value` does, or rejects with `signal.reason` as soon as the signal aborts,
 * whichever comes first, so that a caller's slow callback (an async `onRetry` or `onProgress`)
 * cannot hold an aborted call. A rejection of `value` after the abort is handled, never reported
 * as unhandled. A value that is not a promise is returned as it is.
 */
export function unlessAborted<T>(value: T | PromiseLike<T>, signal: AbortSignal | undefined): T | PromiseLike<T> {
  if (signal === undefined || typeof (value as { then?: unknown } | null)?.then !== 'function') return value;
  let stop = (): void => {};
  const aborted = new Promise<never>((_, reject) => {
    stop = () => reject(signal.reason);
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
  // The race handles a late rejection of either; the listener goes when it settles.
  return Promise.race([value, aborted]).finally(() => signal.removeEventListener('abort', stop));
}

/** A whole number of retries, at least 0. */
export function count(value: unknown, name: string, min = 0): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${name} must be a whole number, ${min} or more, got ${String(value)}`);
  }
  return value;
}

/** Whether `value` is a wait in milliseconds that setTimeout can honour. */
export function isDelay(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= MAX_DELAY_MS;
}

/** `value`, checked to be a wait setTimeout can honour. */
export function delayValue(value: unknown, name: string): number {
  if (!isDelay(value)) {
    throw new RangeError(`${name} must be a number of milliseconds from 0 to ${MAX_DELAY_MS}, got ${String(value)}`);
  }
  return value;
}
