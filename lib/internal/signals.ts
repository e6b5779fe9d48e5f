/** The controllers a signal forwards its abort to, and the one listener that does it. */
interface Followers {
  members: Set<AbortController>;
  forward: () => void;
}

/** One listener of the library per signal, however many calls share it: a shared signal (the
 * caller's, or the one the batches of an `embed` share) never gathers enough listeners for the
 * runtime's MaxListenersExceededWarning. */
const bySignal = new WeakMap<AbortSignal, Followers>();

/**
 * Makes `controller` abort, with the same reason, when `signal` does (at once if it already
 * has). Returns the function that undoes the link; calling it when the work ends keeps a
 * long-lived signal shared by many calls from holding on to them, and the last one removes the
 * listener.
 */
export function link(signal: AbortSignal | undefined, controller: AbortController): () => void {
  if (signal === undefined) return noop;
  if (signal.aborted) {
    controller.abort(signal.reason);
    return noop;
  }
  let followers = bySignal.get(signal);
  if (followers === undefined) {
    const members = new Set<AbortController>();
    const forward = (): void => {
      bySignal.delete(signal);
      for (const member of members) member.abort(signal.reason);
      members.clear();
    };
    followers = { members, forward };
    bySignal.set(signal, followers);
    signal.addEventListener('abort', forward, { once: true });
  }
  const { members, forward } = followers;
  members.add(controller);
  return () => {
    if (!members.delete(controller) || members.size > 0) return;
    if (bySignal.get(signal)?.members === members) bySignal.delete(signal);
    signal.removeEventListener('abort', forward);
  };
}

function noop(): void {}
