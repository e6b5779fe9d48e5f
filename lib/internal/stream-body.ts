import { isOllamaError } from '../errors.ts';
import type { OpenExchange } from './attempt.ts';
import type { Batches } from './exchange.ts';
import { idleTimer } from './idle.ts';
import { quietThen } from './quiet.ts';
import { readTimeoutError } from './timeout-error.ts';

/** How long the end of a body is waited for after the end of its answer, so that a body that ends
 * normally leaves its connection in the pool; after that, or past `DRAIN_LIMIT` bytes, the body is
 * cancelled, which closes the connection. Nothing that happens then is reported. */
const GRACE_MS = 5;
const DRAIN_LIMIT = 65_536;

/** What a `take` of `StreamBody.puller` returns when a read completed nothing to hand on. */
export const READ_ON: unique symbol = Symbol('read on');

/** A read's bytes, undefined at the body's end, as `StreamBody.puller` hands them to be taken. */
export type Take<T> = (bytes: Uint8Array | undefined) => T[] | undefined | typeof READ_ON;

/**
 * The body of a streaming answer, as the readers of chunks (NDJSON) and events (SSE) share it: its
 * reads under the read timeout, and the three ways it ends.
 */
export interface StreamBody {
  /**
   * A function that reads until `take` has items to hand on (or the end, undefined): `take` gets
   * each read's bytes, undefined at the body's end (at once when there is no body). A read that
   * waits longer than `readTimeout` for the server fails with the read timeout, naming
   * `received()` items already handed on. Any failure (of a read, of `take`, the timeout) goes to
   * `fail`, which throws what the caller should see, or, when what had arrived before it is the
   * whole answer after all, returns the rest of it (undefined: nothing more), as a read would.
   *
   * The reads are chained with `then`, with nothing made per read but the read's own promise: a
   * streamed answer makes one read per network read, and the async functions this replaced cost
   * an eighth of the time of a one-line read.
   */
  puller<T>(
    take: Take<T>,
    received: () => number,
    fail: (error: unknown) => T[] | undefined,
  ): () => Promise<T[] | undefined>;
  /** Done with the body: left as it is when it was read to its end (its connection is back in the
   * pool; releasing the lock would only cost a rejected promise), else cancelled (not awaited, so
   * a caller leaving gets control back at once; the connection closes in the background). */
  finish(ended: boolean): void;
  /** The answer is complete before the body's end: whatever follows (more bytes, a silence, a
   * reset) is not part of it and is never reported. The body is read on, in the background, for
   * at most `GRACE_MS` and `DRAIN_LIMIT` bytes, for its end to arrive; then it is released to the
   * pool, or cancelled. Nothing waits for it. */
  settle(): void;
  /** `settle` was called. */
  readonly settling: boolean;
  /** `finish` was called. */
  readonly closed: boolean;
  /** The server said it is taking a step without a word: the reads until this is false again
   * wait without the read timeout. */
  silent: boolean;
  /** Set by the reader of a read that may have brought the whole answer but for its end (see
   * `QUIET_MS`): run once, if the next read waits that long. It may call `endNow`. */
  probe: (() => void) | undefined;
  /** What arrived is the whole answer and the server is quiet: the read under way ends the body
   * as its end would (the body is cancelled, which closes the connection). */
  endNow(): void;
}

/**
 * A failure that may have come after the whole answer had arrived, unrecognised: the connection
 * reset, closed without its end, or went silent past the read timeout, while the answer's last
 * line (or event) still waited for its line break. Not an abort, and not a fault found in what
 * arrived: those are never taken for an end.
 */
export function mayEndAnswer(error: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted === true) return false;
  return !isOllamaError(error) || error.kind === 'read-timeout' || error.kind === 'connection';
}

/**
 * A failure found in the body of a 200 (an in-band error, a line or event that is not what it
 * should be), which the official clients' loops meet, not their `await` of the stream: the
 * drop-ins throw it from the loop too.
 */
export function inTheBody(error: unknown): boolean {
  return isOllamaError(error) && (error.kind === 'stream' || (error.kind === 'protocol' && error.status === 200));
}

/** What a read of the body resolves with. Spelled out here: a copy of `lib/` compiled without the
 * DOM library (Node's own types only) has no global `ReadableStreamReadResult`. */
type ReadResult = { done: false; value: Uint8Array } | { done: true; value?: Uint8Array | undefined };

const ENDED: ReadResult = Object.freeze({ done: true, value: undefined });

export function streamBody(opened: OpenExchange, readTimeout: number, reading = true): StreamBody {
  const { context } = opened;
  const reader = reading ? opened.body?.getReader() : undefined;
  const stop = (): void => void reader?.cancel().catch(ignore);
  const idle = reader !== undefined && readTimeout > 0 ? idleTimer(readTimeout, stop, !opened.runtimeFetch) : undefined;
  // An abort cancels the body itself too (see `OpenExchange.signal`): the read it ends then fails,
  // and the call reports the abort.
  const { signal } = opened;
  if (reader !== undefined) signal?.addEventListener('abort', stop);
  const unfollow = (): void => signal?.removeEventListener('abort', stop);
  const body = {
    settling: false,
    closed: false,
    silent: false,
    probe: undefined as (() => void) | undefined,
    endNow: stop,
    puller<T>(
      take: Take<T>,
      received: () => number,
      fail: (error: unknown) => T[] | undefined,
    ): () => Promise<T[] | undefined> {
      const step = (result: ReadResult): T[] | undefined | Promise<T[] | undefined> => {
        try {
          if (idle !== undefined) {
            idle.end();
            if (idle.fired) throw readTimeoutError(context, { limit: readTimeout, received: received() });
          }
          const taken = take(result.done ? undefined : result.value);
          return taken === READ_ON ? read() : taken;
        } catch (error) {
          return fail(error);
        }
      };
      const read = (): Promise<T[] | undefined> => {
        if (reader === undefined) return Promise.resolve(ENDED).then(step);
        const raw = reader.read();
        const next = raw.then(step, fail);
        if (!body.silent) idle?.begin();
        if (body.probe !== undefined) {
          quietThen(raw, body.probe);
          body.probe = undefined;
        }
        return next;
      };
      return read;
    },
    finish(ended: boolean): void {
      if (body.closed) return;
      body.closed = true;
      idle?.dispose();
      unfollow();
      if (!ended) reader?.cancel().catch(ignore);
      opened.release();
    },
    settle(): void {
      body.settling = true;
      idle?.dispose();
      unfollow();
      if (reader === undefined) body.finish(true);
      else void runOut(reader).then(body.finish);
    },
  };
  return body;
}

/**
 * The `Batches` of a body that `pull` reads: nothing more once the answer is complete; an error
 * kept from the last read (`pending()`) thrown now, through `failed`, which closes the connection
 * and says what the caller sees; and leaving early cancels the body, unless the answer is
 * complete (then it is let run out, so that its connection stays pooled).
 */
export function batchesOf<T>(
  body: StreamBody,
  pending: () => unknown,
  failed: (error: unknown) => unknown,
  pull: () => Promise<T[] | undefined>,
): Batches<T> {
  return {
    get complete(): boolean {
      return body.settling;
    },
    next(): Promise<T[] | undefined> {
      if (body.settling) return Promise.resolve(undefined);
      const error = pending();
      if (error !== undefined) return Promise.reject(failed(error));
      if (body.closed) return Promise.resolve(undefined);
      return pull();
    },
    close(): Promise<void> {
      if (!body.settling) body.finish(false);
      return Promise.resolve();
    },
  };
}

/**
 * Reads what follows the end of an answer for at most `GRACE_MS` and `DRAIN_LIMIT` bytes, for the
 * body's end to arrive; resolves whether it did (the connection can then go back to the pool).
 * A body whose end had arrived with its last chunk is done at once, with no timer set at all.
 */
function runOut(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<boolean> {
  return new Promise((resolve) => {
    let over = false;
    let bytes = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (ended: boolean): void => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      resolve(ended);
    };
    // A failure after the end of the answer changes nothing: the body is simply not pooled.
    const failed = (): void => done(false);
    const step = (result: ReadResult): void => {
      if (result.done) {
        done(true);
        return;
      }
      bytes += result.value.length;
      if (bytes > DRAIN_LIMIT) done(false);
      else reader.read().then(step, failed);
    };
    reader.read().then(step, failed);
    // Queued after the first read's continuation: when that read had its answer, it has run.
    queueMicrotask(() => {
      if (over) return;
      timer = setTimeout(failed, GRACE_MS);
      // Nobody waits for the drain: it must not hold a process that has nothing else to do.
      (timer as { unref?: () => void }).unref?.();
    });
  });
}

function ignore(): void {}
