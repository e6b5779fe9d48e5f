import { isOllamaError, withNote } from '../errors.ts';
import type { RequestContext } from './exchange.ts';
import type { ResolvedOptions } from './resolve-options.ts';
import { link } from './signals.ts';
import { totalTimeoutError } from './timeout-error.ts';

/**
 * Runs `count` tasks, at most `concurrency` at once, and resolves with their results in task
 * order. The tasks share one signal: the caller's, the `totalTimeout` of the whole run, and the
 * first failure, which aborts the tasks still running so none is left working for a result
 * nobody will read. Each task gets options whose signal is that shared one and which have no
 * total timeout of their own.
 */
export async function inBatches<T>(
  count: number,
  concurrency: number,
  options: ResolvedOptions,
  context: RequestContext,
  task: (index: number, options: ResolvedOptions) => Promise<T>,
): Promise<T[]> {
  const controller = new AbortController();
  const unlink = link(options.signal, controller);
  const timer =
    options.totalTimeout > 0
      ? setTimeout(() => controller.abort(totalTimeoutError(context, options.totalTimeout)), options.totalTimeout)
      : undefined;
  const within =
    options.totalTimeout > 0
      ? { deadline: performance.now() + options.totalTimeout, totalTimeout: options.totalTimeout }
      : options.within;
  const shared: ResolvedOptions = { ...options, signal: controller.signal, totalTimeout: 0, within };
  const results: T[] = new Array<T>(count);
  let next = 0;
  let failure: { error: unknown } | undefined;

  const worker = async (): Promise<void> => {
    while (next < count && failure === undefined) {
      const index = next++;
      try {
        results[index] = await task(index, shared);
      } catch (error) {
        if (failure === undefined) {
          failure = { error: controller.signal.aborted ? error : described(error, index, count) };
          controller.abort(failure.error);
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  } finally {
    clearTimeout(timer);
    unlink();
  }
  if (failure !== undefined) throw failure.error;
  return results;
}

/** Which batch failed, so a bad input can be found among thousands. */
function described(error: unknown, index: number, count: number): unknown {
  return isOllamaError(error) ? withNote(error, `(This was batch ${index + 1} of ${count}.)`) : error;
}
