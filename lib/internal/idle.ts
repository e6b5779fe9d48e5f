import { unhold } from './unhold.ts';

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
 * microtask later, only if the read still waits then. `dispose()` clears it, so it never outlives
 * the body.
 *
 * With `hold` false the timer never keeps the process alive: the runtime's own fetch keeps it
 * alive while a read waits (its connection is in use), and a stream its consumer stopped reading
 * must not hold it for `ms`. A `fetch` of the caller's own may hold nothing, so there it does.
 * (Toggling the hold at every read instead cost 5 % of a one-line read.)
 */
export function idleTimer(ms: number, onIdle: () => void, hold = true): IdleTimer {
  return new Idle(ms, onIdle, hold);
}

// A class, not closures made per body: a closure's optimized code lives only as long as some
// closure made at the same place, and those of a short answer are garbage when it ends, so every
// full collection threw the code away and V8 compiled it again on its background thread (which,
// on a small machine, takes a core from the server the call waits for). A class's methods live on.
class Idle implements IdleTimer {
  fired = false;
  readonly #ms: number;
  readonly #onIdle: () => void;
  readonly #hold: boolean;
  #timer: Timer | undefined;
  /** `performance.now()` when the read under way began; -1 while none waits. */
  #since = -1;
  /** The read whose wait ran out (its `since`), given one more turn of the event loop. */
  #lastChance = -1;
  /** No read began yet. */
  #first = true;
  // The armed timer holds this only weakly, through a `WeakRef`: a stream dropped between two
  // reads (no read waits, nothing else holds it) is not kept in memory, with what it had read,
  // until the timer runs out. While a read waits, the read holds the body, and the body this.
  // Where the timer holds the process (`hold`: a fetch of the caller's own, which may hold nothing
  // while a read waits), `ARMED` holds this while it is armed, and through `onIdle` the body: else
  // the read, the call and the timer's work would be collected together, and the call would never
  // settle. That lasts at the latest `ms` after the last read began, as the hold on the process.
  // (Given to the timer itself, a strong reference made the benchmark's in-process reads a
  // quarter slower after each forced GC; the set did not.) Made with the first timer: the one read
  // of most short answers completes before any is armed.
  #kept: WeakRef<Idle> | undefined;

  constructor(ms: number, onIdle: () => void, hold: boolean) {
    this.#ms = ms;
    this.#onIdle = onIdle;
    this.#hold = hold;
  }

  begin(): void {
    this.#since = performance.now();
    if (this.#timer !== undefined || this.fired) return;
    // For the first read, armed a microtask after `begin()`: a read that completes at once (its
    // bytes had arrived, as for the one read of most short answers) has ended by then, and a body
    // read that way needs no timer at all. From the second read on, the timer is armed at once and
    // stays armed, so a long stream costs no microtask per read.
    if (this.#first) {
      this.#first = false;
      armSoon(this);
    } else this.#start(this.#ms);
  }

  end(): void {
    this.#since = -1;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#since = -1;
    if (this.#hold) ARMED.delete(this);
  }

  arm(): void {
    if (this.#since >= 0 && this.#timer === undefined && !this.fired) this.#start(this.#ms);
  }

  /** What the armed timer runs. */
  tick(): void {
    this.#timer = undefined;
    if (this.#since < 0) {
      ARMED.delete(this);
      return;
    }
    const waited = performance.now() - this.#since;
    if (waited < this.#ms) {
      this.#start(this.#ms - waited);
      return;
    }
    // The limit ran out, but a loop kept busy elsewhere (a long synchronous task) may have kept
    // the read from seeing bytes that arrived in time: they are read in the turn's I/O phase, after
    // the timers. One more turn for that read, and the same read still waiting is silence.
    if (this.#lastChance !== this.#since) {
      this.#lastChance = this.#since;
      this.#start(LAST_CHANCE_MS);
      return;
    }
    this.#since = -1;
    this.fired = true;
    ARMED.delete(this);
    this.#onIdle();
  }

  #start(delay: number): void {
    this.#kept ??= new WeakRef(this);
    this.#timer = setTimeout(checkIfKept, delay, this.#kept);
    if (!this.#hold) unhold(this.#timer);
    else ARMED.add(this);
  }
}

/** Calls `target.arm()` a microtask from now. (Through a resolved promise, not `queueMicrotask`,
 * which in Node makes an async resource and a bound function each time.) */
export function armSoon(target: { arm(): void }): void {
  void Promise.resolve(target).then(callArm);
}

function callArm(target: { arm(): void }): void {
  target.arm();
}

type Timer = ReturnType<typeof setTimeout>;

/** The idle timers that hold the process while armed (see `idleTimer`). */
const ARMED = new Set<object>();

/** Long enough for the next turn's I/O phase to come first, short beside any read timeout. */
const LAST_CHANCE_MS = 5;

function checkIfKept(kept: WeakRef<{ tick(): void }>): void {
  kept.deref()?.tick();
}
