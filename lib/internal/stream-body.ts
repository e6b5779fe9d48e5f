import { isOllamaError } from '../errors.ts';
import type { OpenExchange } from './attempt.ts';
import type { Batches } from './exchange.ts';
import { armSoon, type IdleTimer, idleTimer } from './idle.ts';
import { quietThen } from './quiet.ts';
import { unhold } from './unhold.ts';
import { readTimeoutError } from './timeout-error.ts';

/** How long the end of a body is waited for after the end of its answer, so that a body that ends
 * normally leaves its connection in the pool; after that, or past `DRAIN_LIMIT` bytes, the body is
 * cancelled, which closes the connection. Nothing that happens then is reported. */
const GRACE_MS = 5;
const DRAIN_LIMIT = 65_536;

/** What `BodySource.take` returns when a read completed nothing to hand on. */
export const READ_ON: unique symbol = Symbol('read on');

/** What turns a body's reads into items (NDJSON chunks, SSE events): see `StreamBody.batches`. */
export interface BodySource<T> {
  /** A read's bytes, undefined at the body's end: the items to hand on, or `READ_ON` when the read
   * completed nothing. */
  take(bytes: Uint8Array | undefined): T[] | undefined | typeof READ_ON;
  /** Items already handed on, for a read timeout's message. */
  count(): number;
  /** Any failure (of a read, of `take`, the timeout): throws what the caller should see, or, when
   * what had arrived before it is the whole answer after all, returns the rest of it (undefined:
   * nothing more), as a read would. */
  fail(error: unknown): T[] | undefined;
  /** An error kept from the last read, to throw now (undefined: none). */
  kept(): unknown;
  /** A failure, as the caller sees it; the connection is closed. */
  failed(error: unknown): unknown;
}

/**
 * The body of a streaming answer, as the readers of chunks (NDJSON) and events (SSE) share it: its
 * reads under the read timeout, and the three ways it ends.
 */
export interface StreamBody {
  /**
   * The body's items, read into by `source`: each read (one per `next()`) goes on until
   * `source.take` has items to hand on (or the end), given each read's bytes, undefined at the
   * body's end (at once when there is no body). A read that waits longer than `readTimeout` for the
   * server fails with the read timeout, naming `source.count()` items already handed on; any
   * failure goes to `source.fail`. Nothing more is read once the answer is complete; an error kept
   * from the last read (`source.kept()`) is thrown now, through `source.failed`, which
   * closes the connection and says what the caller sees; leaving early cancels the body, unless
   * the answer is complete (then it is let run out, so that its connection stays pooled). With
   * `whole`, that is the one read instead (its failures are its own to report).
   *
   * The reads are chained with `then`, with nothing made per read but the read's own promise: a
   * streamed answer makes one read per network read, and the async functions this replaced cost
   * an eighth of the time of a one-line read.
   */
  batches<T>(source: BodySource<T>, whole?: () => Promise<T[] | undefined>): Batches<T>;
  /** Done with the body: left as it is when it was read to its end (its connection is back in the
   * pool; releasing the lock would only cost a rejected promise), else cancelled (not awaited, so
   * a caller leaving gets control back at once; the connection closes in the background). */
  finish(ended: boolean): void;
  /** The answer is complete before the body's end: whatever follows (more bytes, a silence, a
   * reset) is not part of it and is never reported. The body is read on, in the background, for
   * at most `GRACE_MS` and `DRAIN_LIMIT` bytes, for its end to arrive; then it is released to the
   * pool, or cancelled. Nothing waits for it. */
  settle(): void;
  /** `settle` was called: the answer is complete (as `Batches.complete` says too). */
  readonly complete: boolean;
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
  return new Body(opened, readTimeout, reading);
}

// A class, not closures made per body (as are the readers that use it): a closure's optimized
// code lives only as long as some closure made at the same place, and those of a short answer are
// garbage when it ends, so every full collection threw that code away and V8 compiled it again on
// its background thread, which on a small machine takes a core from the server the next call
// waits for (in the benchmark's small calls, a third more calls took over 1.5 ms). A class's
// methods live as long as it does. The callbacks are bound once per body.
class Body implements StreamBody, Batches<unknown> {
  complete = false;
  closed = false;
  silent = false;
  probe: (() => void) | undefined;
  /** Bytes read after the end of the answer (see `settle`), and the limit on that wait. */
  #drained = 0;
  #grace: ReturnType<typeof setTimeout> | undefined;
  /** Cancels the body; also what an abort and the read timeout run. */
  declare readonly endNow: () => void;
  readonly #reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  readonly #idle: IdleTimer | undefined;
  readonly #opened: OpenExchange;
  readonly #readTimeout: number;
  #source!: BodySource<unknown>;
  #whole: (() => Promise<unknown[] | undefined>) | undefined;
  /** What a read's result and failure go to: the reader's, then the drain's (see `settle`). */
  #onRead!: (result: ReadResult) => unknown;
  #onFail!: (error: unknown) => unknown;

  constructor(opened: OpenExchange, readTimeout: number, reading: boolean) {
    this.#opened = opened;
    this.#readTimeout = readTimeout;
    const reader = reading ? opened.body?.getReader() : undefined;
    this.#reader = reader;
    this.endNow = this.#stop.bind(this);
    this.#idle =
      reader !== undefined && readTimeout > 0 ? idleTimer(readTimeout, this.endNow, !opened.runtimeFetch) : undefined;
    // An abort cancels the body itself too (see `OpenExchange.signal`): the read it ends then
    // fails, and the call reports the abort.
    if (reader !== undefined) opened.signal?.addEventListener('abort', this.endNow);
  }

  batches<T>(source: BodySource<T>, whole?: () => Promise<T[] | undefined>): Batches<T> {
    this.#source = source;
    this.#whole = whole;
    this.#onRead = this.#step.bind(this);
    this.#onFail = source.fail.bind(source);
    return this as Batches<unknown> as Batches<T>;
  }

  next(): Promise<unknown[] | undefined> {
    const error = this.complete ? undefined : this.#source.kept();
    if (error !== undefined) return Promise.reject(this.#source.failed(error));
    if (this.complete || this.closed) return Promise.resolve(undefined);
    return this.#whole === undefined ? this.#read() : this.#whole();
  }

  close(): Promise<void> {
    if (!this.complete) this.finish(false);
    return Promise.resolve();
  }

  finish(ended: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.#idle?.dispose();
    clearTimeout(this.#grace);
    this.#unfollow();
    if (!ended) this.#stop();
    this.#opened.release();
  }

  /** Reads on after the end of the answer for at most `GRACE_MS` and `DRAIN_LIMIT` bytes, for the
   * body's end to arrive; then finishes it, as ended if it did (its connection can go back to the
   * pool). A body whose end had arrived with its last chunk is done at once, with no timer set. */
  settle(): void {
    this.complete = true;
    this.#idle?.dispose();
    this.#unfollow();
    const reader = this.#reader;
    if (reader === undefined) {
      this.finish(true);
      return;
    }
    // A failure after the end of the answer changes nothing: the body is simply not pooled.
    this.#onFail = this.finish.bind(this, false);
    this.#onRead = this.#drain.bind(this);
    reader.read().then(this.#onRead, this.#onFail);
    // Queued after the first read's continuation: when that read had its answer, it has run.
    armSoon(this);
  }

  /** Sets the limit on the drain (see `settle`). */
  arm(): void {
    if (this.closed) return;
    this.#grace = setTimeout(this.#onFail, GRACE_MS);
    // Nobody waits for the drain: it must not hold a process that has nothing else to do.
    unhold(this.#grace);
  }

  #read(): Promise<unknown[] | undefined> {
    const reader = this.#reader;
    if (reader === undefined) return Promise.resolve(ENDED).then(this.#onRead) as Promise<unknown[] | undefined>;
    const raw = reader.read();
    const next = raw.then(this.#onRead, this.#onFail) as Promise<unknown[] | undefined>;
    if (!this.silent) this.#idle?.begin();
    if (this.probe !== undefined) {
      quietThen(raw, this.probe);
      this.probe = undefined;
    }
    return next;
  }

  #step(result: ReadResult): unknown[] | undefined | Promise<unknown[] | undefined> {
    const source = this.#source;
    const idle = this.#idle;
    try {
      if (idle !== undefined) {
        idle.end();
        if (idle.fired)
          throw readTimeoutError(this.#opened.context, { limit: this.#readTimeout, received: source.count() });
      }
      const taken = source.take(result.done ? undefined : result.value);
      return taken === READ_ON ? this.#read() : taken;
    } catch (error) {
      return source.fail(error);
    }
  }

  #drain(result: ReadResult): void {
    if (this.closed) return;
    if (!result.done) this.#drained += result.value.length;
    if (result.done || this.#drained > DRAIN_LIMIT) this.finish(result.done);
    else this.#reader?.read().then(this.#onRead, this.#onFail);
  }

  #stop(): void {
    this.#reader?.cancel().catch(ignore);
  }

  #unfollow(): void {
    this.#opened.signal?.removeEventListener('abort', this.endNow);
  }
}

function ignore(): void {}
