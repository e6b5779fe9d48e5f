/** The read timeout of one body; see `idleTimer`. */
export interface IdleTimer {
  /** Before each read. */
  begin(): void;
  /** When the read completed. */
  end(): void;
  /** Clears the timer; the body is done with. */
  dispose(): void;
  /** The limit ran out: the read it ended reports a read timeout, not an end. */
  readonly fired: boolean;
}

/**
 * The read timeout of one body: `onIdle` runs when a read has waited `ms` for the server's next
 * bytes (it should cancel the body, which ends that read). Only waiting counts, between `begin()`
 * and `end()`: a consumer slower than `ms` is never mistaken for a silent server.
 *
 * It costs one clock reading per read: a single timer stays armed while reads keep coming, and
 * when it fires it only checks how long the read under way has waited, and re-arms for the rest
 * (or, when no read waits, not at all until the next one begins). `begin()` must come after the
 * read was started and its continuation attached: for the first read, the timer is armed a
 * microtask later, only if the read still waits then. While no read waits, the timer does not hold
 * the process (a stream its consumer stopped reading must not keep it alive for `ms`). `dispose()`
 * clears it, so it never outlives the body.
 */
export function idleTimer(ms: number, onIdle: () => void): IdleTimer {
  let timer: ReturnType<typeof setTimeout> | undefined;
  /** `performance.now()` when the read under way began; -1 while none waits. */
  let since = -1;
  const check = (): void => {
    timer = undefined;
    if (since < 0) return;
    const waited = performance.now() - since;
    if (waited < ms) {
      timer = setTimeout(check, ms - waited);
      return;
    }
    since = -1;
    idle.fired = true;
    onIdle();
  };
  /** No read began yet. */
  let first = true;
  // For the first read, armed a microtask after `begin()`: a read that completes at once (its
  // bytes had arrived, as for the one read of most short answers) has ended by then, and a body
  // read that way needs no timer at all. From the second read on, the timer is armed at once and
  // stays armed, so a long stream costs no microtask per read.
  const arm = (): void => {
    if (since >= 0 && timer === undefined && !idle.fired) timer = setTimeout(check, ms);
  };
  const idle = {
    fired: false,
    begin(): void {
      since = performance.now();
      if (timer !== undefined) {
        hold(timer, true);
        return;
      }
      if (idle.fired) return;
      if (first) {
        first = false;
        queueMicrotask(arm);
      } else timer = setTimeout(check, ms);
    },
    end(): void {
      since = -1;
      if (timer !== undefined) hold(timer, false);
    },
    dispose(): void {
      clearTimeout(timer);
      timer = undefined;
      since = -1;
    },
  };
  return idle;
}

type Timer = ReturnType<typeof setTimeout>;

/** Whether `timer` keeps the process alive: Node's and Bun's timers have `ref`/`unref`, Deno's are
 * numbers it refs and unrefs itself; elsewhere (a browser) nothing is held. */
function hold(timer: Timer, on: boolean): void {
  const own = timer as { ref?: () => unknown; unref?: () => unknown };
  if (typeof own.ref === 'function') {
    if (on) own.ref();
    else own.unref?.();
    return;
  }
  const deno = (globalThis as { Deno?: { refTimer?: (id: number) => void; unrefTimer?: (id: number) => void } }).Deno;
  if (typeof timer !== 'number') return;
  if (on) deno?.refTimer?.(timer);
  else deno?.unrefTimer?.(timer);
}
