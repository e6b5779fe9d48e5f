import { type OllamaError, withAttempts } from '../errors.ts';
import type { RequestContext } from './exchange.ts';
import type { ResolvedOptions } from './resolve-options.ts';
import { link } from './signals.ts';
import { totalTimeoutError } from './timeout-error.ts';

/** What several calls made as one (the batches of an `embed`, a `pushBlob`'s two requests, the
 * rounds of the tool loop) share: see `oneDeadline`. */
export interface OneDeadline {
  /** The options each of the calls is made with: the shared signal, no total timeout of their
   * own, and the deadline, by which a retry that could not finish in time is refused at once. */
  readonly options: ResolvedOptions;
  /** The total timer, undefined without a `totalTimeout`. */
  readonly timer: ReturnType<typeof setTimeout> | undefined;
  /** What the caller sees of `error`: the run's own timeout counts the requests its calls made
   * (it reaches them as their abort reason, which counts none); anything else is as it was. */
  told(error: unknown): unknown;
  /** Clears the timer and the link to the caller's signal. */
  dispose(): void;
}

/**
 * The caller's signal and one `totalTimeout` for several calls, through `controller`, which
 * aborts when the caller's signal does or when the time is up (with a `total-timeout` error).
 * The calls count their requests into the deadline they share (`within.sent`).
 */
export function oneDeadline(
  options: ResolvedOptions,
  context: RequestContext,
  controller: AbortController,
): OneDeadline {
  const unlink = link(options.signal, controller);
  const { totalTimeout } = options;
  let expired: OllamaError | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let { within } = options;
  if (totalTimeout > 0) {
    const error = totalTimeoutError(context, totalTimeout);
    expired = error;
    timer = setTimeout(() => controller.abort(error), totalTimeout);
    within = { deadline: performance.now() + totalTimeout, totalTimeout, sent: 0 };
  }
  const sent = within;
  return {
    options: { ...options, signal: controller.signal, totalTimeout: 0, within },
    timer,
    told: (error) =>
      expired !== undefined && error === expired && sent !== undefined ? withAttempts(expired, sent.sent) : error,
    dispose(): void {
      clearTimeout(timer);
      unlink();
    },
  };
}
