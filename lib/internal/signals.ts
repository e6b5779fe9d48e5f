/** The controllers a signal forwards its abort to, and the one listener that does it. They are
 * held weakly: a call whose work was dropped without ending (a stream never read to its end) must
 * not be kept by a long-lived signal until it aborts. */
interface Followers {
  members: Set<WeakRef<AbortController>>;
  /** Held strongly while they wait on the caller's own code (see `hold`). */
  held: Set<AbortController>;
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
  const followers = followersOf(signal);
  const { members } = followers;
  const ref = new WeakRef(controller);
  members.add(ref);
  const unlink = (): void => {
    if (members.delete(ref)) drop(signal, followers);
  };
  // The token is the ref: `unregister` needs one that the controller does not hold.
  collected.register(controller, unlink, ref);
  return keeping(controller, () => {
    collected.unregister(ref);
    unlink();
  });
}

/**
 * Holds `controller` strongly from `signal` until the returned function is called: for a call
 * that waits on the caller's own code (a tool, a promise `onProgress` or `onRetry` returned).
 * Such a promise may hold nothing, and a call that nothing else holds would then be collected
 * with its weak link, and the caller's abort would settle nothing.
 */
export function hold(signal: AbortSignal | undefined, controller: AbortController | undefined): () => void {
  if (signal === undefined || controller === undefined || signal.aborted) return noop;
  const followers = followersOf(signal);
  followers.held.add(controller);
  return () => {
    if (followers.held.delete(controller)) drop(signal, followers);
  };
}

function followersOf(signal: AbortSignal): Followers {
  let followers = bySignal.get(signal);
  if (followers === undefined) {
    const members = new Set<WeakRef<AbortController>>();
    const held = new Set<AbortController>();
    const forward = (): void => {
      bySignal.delete(signal);
      for (const member of members) member.deref()?.abort(signal.reason);
      for (const controller of held) controller.abort(signal.reason);
      members.clear();
      held.clear();
    };
    followers = { members, held, forward };
    bySignal.set(signal, followers);
    signal.addEventListener('abort', forward, { once: true });
  }
  return followers;
}

/** The last of a signal's followers gone: its listener goes too. */
function drop(signal: AbortSignal, followers: Followers): void {
  if (followers.members.size > 0 || followers.held.size > 0) return;
  if (bySignal.get(signal) === followers) bySignal.delete(signal);
  signal.removeEventListener('abort', followers.forward);
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
