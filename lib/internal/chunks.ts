import { isOllamaError, notJsonLine, withUrl } from '../errors.ts';
import { LineSplitter } from '../lines.ts';
import { type OpenExchange, send } from './attempt.ts';
import type { Batches, Exchange, FinalChunk } from './exchange.ts';
import { idleTimer } from './idle.ts';
import { inBandError, incomplete, notAnObject } from './protocol-error.ts';
import type { ResolvedOptions } from './resolve-options.ts';
import { readTimeoutError } from './timeout-error.ts';

type Chunk = Record<string, unknown>;

/** The end of a chat or generate stream: the answer is complete the moment it arrives. */
export const DONE: FinalChunk = { is: (chunk) => chunk.done === true, name: '"done": true', terminal: true };

/** The end of a pull, push or create. Only the last line counts: a create whose base model must
 * be pulled first carries the pull's own success line in the middle. */
export const SUCCESS: FinalChunk = {
  is: (chunk) => chunk.status === 'success',
  name: '"status": "success"',
  terminal: false,
};

/** How long the end of a body is waited for after its final chunk, so that a body that ends
 * normally leaves its connection in the pool; after that, or past `DRAIN_LIMIT` bytes, the body
 * is cancelled, which closes the connection. Nothing that happens then is reported. */
const GRACE_MS = 5;
const DRAIN_LIMIT = 65_536;

/**
 * Reads one attempt at a streaming endpoint: its NDJSON lines, whatever the Content-Type says
 * (ollama.com labels a streamed chat `application/json`; a single object without a line break is
 * simply the last line). It hands on the chunks of each read at once, as soon as their lines are
 * complete, and enforces Ollama's chunk rules: every chunk is a JSON object; an `{"error": …}`
 * chunk ends the stream with a `stream` error; the stream ends with the exchange's final chunk,
 * or else with a `protocol` error, never with a silent early end. An error found after chunks of
 * the same read is thrown by the next call, after those chunks were handed on.
 */
export async function readChunks<T>(exchange: Exchange, options: ResolvedOptions): Promise<Batches<T>> {
  return chunksOf<T>(await send(exchange, options), exchange.final ?? DONE, options);
}

function chunksOf<T>(opened: OpenExchange, final: FinalChunk, options: ResolvedOptions): Batches<T> {
  const { context, response } = opened;
  const { status } = response;
  const { readTimeout } = options;
  const reader = response.body?.getReader();
  const splitter = new LineSplitter({ maxLineLength: options.maxLineLength });
  const idle =
    reader !== undefined && readTimeout > 0
      ? idleTimer(readTimeout, () => void reader.cancel().catch(ignore))
      : undefined;
  /** Chunks read so far. */
  let received = 0;
  /** The last chunk read is the final one. */
  let last = false;
  /** The body is done with: read to its end, or left. */
  let closed = false;
  /** A terminal final chunk arrived, and what follows is let run out in the background (see
   * `settle`): nothing waits for it. */
  let settling = false;
  /** What went wrong after the chunks last handed on; thrown by the next call. */
  let pending: unknown;

  /** Done with the body: left as it is when it was read to its end (its connection is back in
   * the pool; releasing the lock would only cost a rejected promise), else cancelled (not
   * awaited, so a caller leaving gets control back at once; the connection closes in the
   * background). */
  const finish = (ended: boolean): void => {
    if (closed) return;
    closed = true;
    idle?.dispose();
    if (!ended) reader?.cancel().catch(ignore);
    opened.release();
  };

  /**
   * The answer is complete: whatever follows the final chunk (more bytes, a silence, a reset) is
   * not part of it and is never reported. The body is read on, in the background, for at most
   * `GRACE_MS` and `DRAIN_LIMIT` bytes, for its end to arrive; then it is released to the pool, or
   * cancelled. The answer does not wait for it: the caller has it at once.
   */
  const settle = (): void => {
    settling = true;
    idle?.dispose();
    if (reader === undefined) finish(true);
    else void runOut(reader).then(finish);
  };

  /** The values of `lines` under the chunk rules, up to the first that breaks one (kept in
   * `pending`) or up to a terminal final chunk (then what follows is let run out). */
  const take = (lines: readonly string[]): T[] => {
    const batch: T[] = [];
    for (const line of lines) {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        pending = notJsonLine(received + 1, context.url, line, error);
        break;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        pending = notAnObject(context, status, received + 1, value);
        break;
      }
      const chunk = value as Chunk;
      if ('error' in chunk) {
        pending = inBandError(context, status, received, chunk.error);
        break;
      }
      received++;
      batch.push(chunk as T);
      last = final.is(chunk);
      if (last && final.terminal) {
        settle();
        break;
      }
    }
    return batch;
  };

  return {
    async next(): Promise<T[] | undefined> {
      if (settling) return undefined;
      try {
        if (pending !== undefined) throw pending;
        if (closed) return undefined;
        for (;;) {
          let lines: readonly string[] = [];
          let ended = true;
          if (reader !== undefined) {
            idle?.begin();
            const { done, value } = await reader.read();
            idle?.end();
            if (idle?.fired === true) throw readTimeoutError(context, { limit: readTimeout, received });
            ended = done;
            lines = done ? splitter.end() : splitter.feed(value);
          }
          const batch = lines.length === 0 ? [] : take(lines);
          if (ended && !settling) {
            finish(true);
            if (!last && pending === undefined) pending = incomplete(context, status, received, final.name);
          }
          if (batch.length > 0) return batch;
          if (pending !== undefined) throw pending;
          if (ended) return undefined;
        }
      } catch (error) {
        pending = undefined;
        finish(false);
        throw opened.failure(located(error, context.url), received);
      }
    },
    /** After a terminal final chunk, leaves the body to run out in the background (so one that
     * ends normally keeps its connection pooled); otherwise cancels it at once. */
    close(): Promise<void> {
      if (!settling) finish(false);
      return Promise.resolve();
    },
  };
}

/**
 * Reads what follows the end of an answer for at most `GRACE_MS` and `DRAIN_LIMIT` bytes, for the
 * body's end to arrive; resolves whether it did (the connection can then go back to the pool).
 * Past the grace period the body is cancelled, which ends the read under way. Nothing that
 * happens here is reported: the answer is complete.
 */
export async function runOut(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<boolean> {
  let late = false;
  const timer = setTimeout(() => {
    late = true;
    reader.cancel().catch(ignore);
  }, GRACE_MS);
  // Nobody waits for the drain: it must not hold a process that has nothing else to do.
  (timer as { unref?: () => void }).unref?.();
  let ended = false;
  try {
    for (let bytes = 0; bytes <= DRAIN_LIMIT; ) {
      const { done, value } = await reader.read();
      if (done) {
        ended = !late;
        break;
      }
      bytes += value.length;
    }
  } catch {
    // A failure after the end of the answer changes nothing.
  }
  clearTimeout(timer);
  return ended;
}

/** The line splitter's errors know no URL: the reader's does. */
function located(error: unknown, url: string): unknown {
  return isOllamaError(error) && error.url === undefined ? withUrl(error, url) : error;
}

function ignore(): void {}
