import { isOllamaError, withNote } from '../errors.ts';
import type { RequestContext } from './exchange.ts';
import { oneDeadline } from './one-deadline.ts';
import type { ResolvedOptions } from './resolve-options.ts';

/**
 * Runs `count` tasks, at most `concurrency` at once, and resolves with their results in task
 * order. The tasks share one signal: the caller's, the `totalTimeout` of the whole run, and the
 * first failure, which aborts the tasks still running so none is left working for a result
 * nobody will read. Each task gets options whose signal is that shared one and which have no
 * total timeout of their own.
 *
 * `staggered`: a task starts only once the one started before it has its response (its status
 * and headers), or has ended. For a server that works on one request at a time and says nothing
 * until it is done (Ollama's embed: an embedding model runs one request at a time), a second
 * request sent at once would only wait in the server's queue, and its `readTimeout` would count
 * the other's work as silence. Staggered, each request is sent as the one before it is answered,
 * and reading that answer still overlaps the server's work on the next.
 */
export async function inBatches<T>(
  count: number,
  concurrency: number,
  options: ResolvedOptions,
  context: RequestContext,
  task: (index: number, options: ResolvedOptions) => Promise<T>,
  staggered = false,
): Promise<T[]> {
  return asOneCall(options, context, (shared, controller) =>
    runBatches(count, concurrency, shared, controller, task, staggered),
  );
}

/**
 * Runs `run`, which makes several calls (the batches of an `embed`, the HEAD then the POST of a
 * `pushBlob`), as one call: the caller's signal and one `totalTimeout` for all of it, through
 * one signal of the run's own (given to `run` with options whose signal it is and that have no
 * total timeout of their own, only the run's deadline), which `run` may abort itself.
 */
export async function asOneCall<T>(
  options: ResolvedOptions,
  context: RequestContext,
  run: (shared: ResolvedOptions, controller: AbortController) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const deadline = oneDeadline(options, context, controller);
  try {
    return await run(deadline.options, controller);
  } catch (error) {
    throw deadline.told(error);
  } finally {
    deadline.dispose();
  }
}

async function runBatches<T>(
  count: number,
  concurrency: number,
  shared: ResolvedOptions,
  controller: AbortController,
  task: (index: number, options: ResolvedOptions) => Promise<T>,
  staggered: boolean,
): Promise<T[]> {
  const results: T[] = new Array<T>(count);
  let next = 0;
  let failure: { error: unknown } | undefined;
  /** Staggered: the task started last has no response yet, and `answered` settles when it has. */
  let waiting = false;
  let answered = Promise.resolve();

  const worker = async (): Promise<void> => {
    for (;;) {
      while (waiting) await answered;
      if (next >= count || failure !== undefined) return;
      const index = next++;
      let heard = ignore;
      let taskOptions = shared;
      if (staggered) {
        waiting = true;
        answered = new Promise<void>((resolve) => {
          heard = () => {
            heard = ignore;
            waiting = false;
            resolve();
          };
        });
        taskOptions = { ...shared, onResponse: () => heard() };
      }
      try {
        results[index] = await task(index, taskOptions);
      } catch (error) {
        if (failure === undefined) {
          failure = { error: controller.signal.aborted ? error : described(error, index, count) };
          controller.abort(failure.error);
        }
      } finally {
        heard();
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  if (failure !== undefined) throw failure.error;
  return results;
}

/** Which batch failed, so a bad input can be found among thousands. */
function described(error: unknown, index: number, count: number): unknown {
  return isOllamaError(error) ? withNote(error, `(This was batch ${index + 1} of ${count}.)`) : error;
}

function ignore(): void {}
