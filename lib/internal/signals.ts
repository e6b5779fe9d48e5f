/**
 * Makes `controller` abort, with the same reason, when `signal` does (at once if it already
 * has). Returns the function that undoes the link; calling it when the work ends keeps a
 * long-lived signal shared by many calls from gathering listeners.
 */
export function link(signal: AbortSignal | undefined, controller: AbortController): () => void {
  if (signal === undefined) return () => {};
  if (signal.aborted) {
    controller.abort(signal.reason);
    return () => {};
  }
  const forward = (): void => controller.abort(signal.reason);
  signal.addEventListener('abort', forward, { once: true });
  return () => signal.removeEventListener('abort', forward);
}
