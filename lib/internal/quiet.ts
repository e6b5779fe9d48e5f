import { unhold } from './unhold.ts';

/**
 * How long a read may wait, after bytes that may end a whole answer (a JSON value, an NDJSON line
 * but for its line break), before what arrived is looked at: a server that sent its whole answer
 * and then neither ends the body nor says more (a chunked body without its last chunk, a
 * Content-Length longer than the body, on a connection kept open) would otherwise hold the call
 * until `readTimeout`, and forever without one. A body that ends normally ends in the same turn as
 * its last bytes, and never meets the timer.
 */
export const QUIET_MS = 100;

/** Runs `probe` if the read `next` still waits `QUIET_MS` from now; it never holds the process. */
export function quietThen(next: Promise<unknown>, probe: () => void): void {
  let waiting = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const over = (): void => {
    waiting = false;
    clearTimeout(timer);
  };
  // Attached first: a read whose result is already in hand settles it before the check below.
  next.then(over, over);
  queueMicrotask(() => {
    if (!waiting) return;
    timer = setTimeout(probe, QUIET_MS);
    unhold(timer);
  });
}
