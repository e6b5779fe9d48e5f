/** Lets `timer` run without keeping the process alive: Node's and Bun's timers have `unref`, Deno's
 * are numbers it unrefs itself; elsewhere (a browser) nothing is held anyway. For a limit on work
 * that holds the process by itself while it goes on (a connection of the runtime's own fetch in
 * use): once that work is abandoned, the limit must not hold the process in its place. */
export function unhold(timer: ReturnType<typeof setTimeout>): void {
  const own = timer as { unref?: () => unknown };
  if (typeof own.unref === 'function') own.unref();
  else if (typeof timer === 'number')
    (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno?.unrefTimer?.(timer);
}

/** Undoes `unhold`: the timer keeps the process alive again, for as long as the limit it enforces
 * is all that is left to end a wait (a call waiting on a callback's promise that holds nothing). */
export function rehold(timer: ReturnType<typeof setTimeout> | undefined): void {
  const own = timer as { ref?: () => unknown } | undefined;
  if (typeof own?.ref === 'function') own.ref();
  else if (typeof timer === 'number')
    (globalThis as { Deno?: { refTimer?: (id: number) => void } }).Deno?.refTimer?.(timer);
}
