/** The controllers a signal forwards its abort to, and the one listener that does it. They are
 * held weakly: a call whose work was dropped without ending (a stream never read to its end) must
 * not be kept by a long-lived signal until it aborts. */
interface Followers {
  members: Set<WeakRef<AbortController>>;
  forward: () => void;
}

/** Removes the entry of a controller that was collected, and the listener with the last one. */
const collected = new FinalizationRegistry<() => void>((unlink) => unlink());

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
export function link(signal: AbortSignal | undefined, controller: AbortController): () => unknown {
  if (signal === undefined) return noop;
  if (signal.aborted) {
    controller.abort(signal.reason);
    return noop;
  }
  let followers = bySignal.get(signal);
  if (followers === undefined) {
    const members = new Set<WeakRef<AbortController>>();
    const forward = (): void => {
      bySignal.delete(signal);
      for (const member of members) member.deref()?.abort(signal.reason);
      members.clear();
    };
    followers = { members, forward };
    bySignal.set(signal, followers);
    signal.addEventListener('abort', forward, { once: true });
  }
  const { members, forward } = followers;
  const ref = new WeakRef(controller);
  members.add(ref);
  const unlink = (): void => {
    if (!members.delete(ref) || members.size > 0) return;
    if (bySignal.get(signal)?.members === members) bySignal.delete(signal);
    signal.removeEventListener('abort', forward);
  };
  // The token is the ref: `unregister` needs one that the controller does not hold.
  collected.register(controller, unlink, ref);
  return keeping(controller, () => {
    collected.unregister(ref);
    unlink();
  });
}

/**
 * `release`, as a function that also refers to `controller`: the link lasts as long as whoever
 * keeps the function (a call, an attempt, a batch run) is alive, while the signal holds the
 * controller only weakly. Made here, not in `link`: every function made in one scope keeps all
 * that scope's captured variables, so one of `link`'s that named the controller would let the
 * signal's listener and the registry's entry keep it too.
 */
function keeping(controller: AbortController, release: () => void): () => AbortController {
  return () => {
    release();
    return controller;
  };
}

function noop(): void {}
