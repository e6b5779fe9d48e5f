import type { ProgressEvent, ProgressResponse } from '../../types.ts';

/** Stops a progress call whose reader went away; never reaches the caller. */
const STOPPED = Symbol('progress reader left');

/**
 * The progress lines of a pull, push or create as a stream, from the call's `onProgress`: each
 * line waits until the reader has taken the one before, so nothing piles up, and a reader that
 * leaves early makes the call fail, which closes its connection. Lines are as Ollama sent them
 * (the library's `fraction` is left out, as ollama-js has none).
 */
export async function* progressLines(
  start: (onProgress: (event: ProgressEvent) => Promise<void>) => Promise<unknown>,
): AsyncGenerator<ProgressResponse, void, undefined> {
  let waiting: { line: ProgressResponse; taken: () => void; refused: (reason: unknown) => void } | undefined;
  let wake: (() => void) | undefined;
  let ended: { error: unknown } | undefined;
  let left = false;
  const onProgress = (event: ProgressEvent): Promise<void> =>
    new Promise<void>((taken, refused) => {
      if (left) return refused(STOPPED);
      const { fraction: _fraction, ...line } = event;
      waiting = { line, taken, refused };
      wake?.();
    });
  const call = start(onProgress).then(
    () => {
      ended = { error: undefined };
      wake?.();
    },
    (error: unknown) => {
      ended = { error };
      wake?.();
    },
  );
  try {
    for (;;) {
      if (waiting === undefined && ended === undefined) await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
      const next = waiting;
      if (next === undefined) break;
      yield next.line;
      // Only now, once the reader came back for more, may the call read its next line.
      waiting = undefined;
      next.taken();
    }
    if (ended?.error !== undefined) throw ended.error;
  } finally {
    left = true;
    // The reader left while the call waits on a line: that call now fails, and closes its connection.
    waiting?.refused(STOPPED);
    await call;
  }
}
