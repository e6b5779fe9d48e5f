import { isOllamaError, notJsonLine, withUrl } from '../errors.ts';
import { LineSplitter } from '../lines.ts';
import { type OpenExchange, send } from './attempt.ts';
import type { Batches, ChunkFields, Exchange, FinalChunk } from './exchange.ts';
import { inBandError, incomplete, notAnObject } from './protocol-error.ts';
import type { ResolvedOptions } from './resolve-options.ts';
import { batchesOf, mayEndAnswer, READ_ON, streamBody } from './stream-body.ts';
import { redact } from './header-values.ts';

type Chunk = ChunkFields;

// Each final chunk completes its answer the moment it arrives, whatever the connection does next.

/** The end of a chat or generate stream. */
export const DONE: FinalChunk = { is: (chunk) => chunk.done === true, name: '"done": true' };

/** The end of a pull or a push: its one success line. */
export const SUCCESS: FinalChunk = { is: (chunk) => chunk.status === 'success', name: '"status": "success"' };

/** The end of a create: its success line, but not the one that ends the pull of its base model
 * (Ollama pulls a base that is not installed first, from "pulling manifest" to a success line of
 * its own, then goes on with the create). */
export const CREATED: FinalChunk = { ...SUCCESS, opens: (chunk) => chunk.status === 'pulling manifest' };

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
  return chunksOf<T>(await send(exchange, options), exchange, options);
}

function chunksOf<T>(opened: OpenExchange, exchange: Exchange, options: ResolvedOptions): Batches<T> {
  const { final = DONE, silentStep } = exchange;
  const { context, response } = opened;
  const { status } = response;
  const body = streamBody(opened, options.readTimeout);
  const splitter = new LineSplitter({ maxLineLength: options.maxLineLength });
  /** Chunks read so far. */
  let received = 0;
  /** The last chunk read is the final one. */
  let last = false;
  /** A step inside the answer (see `FinalChunk.opens`) has begun and not yet ended. */
  let nested = false;
  /** What went wrong after the chunks last handed on; thrown by the next call. */
  let pending: unknown;
  let lastChunk: Chunk | undefined;

  /** The values of `lines` under the chunk rules, up to the first that breaks one (kept in
   * `pending`) or up to the final chunk (then what follows is let run out). They take the
   * place of the lines in the splitter's array, which is made afresh for each read and is ours:
   * a second array per read showed in the collector's share of a one-line read. */
  const take = (lines: readonly string[]): T[] => {
    const batch = lines as unknown[] as T[];
    const { opens } = final;
    let count = 0;
    for (; count < lines.length; count++) {
      const line = lines[count] as string;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        // Redacted before the error cuts it: a credential cut in two would no longer be found.
        pending = notJsonLine(received + 1, context.url, redact(line, context.secrets), error);
        break;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        pending = notAnObject(context, status, received + 1, value);
        break;
      }
      const chunk = value as Chunk;
      // An error field that is empty (`null`, `false`, `""`) reports nothing, as the /v1 reader and
      // openai-node read it: one lookup that finds nothing, on the hot path.
      if (chunk.error) {
        pending = inBandError(context, status, received, chunk.error);
        break;
      }
      received++;
      batch[count] = chunk as T;
      if (opens?.(chunk)) nested = true;
      last = final.is(chunk);
      if (last && nested) {
        // The end of the step inside the answer, not of the answer.
        nested = false;
        last = false;
      } else if (last) {
        count++;
        body.settle();
        break;
      }
    }
    batch.length = count;
    if (count > 0) {
      lastChunk = batch[count - 1] as Chunk;
      if (silentStep !== undefined) body.silent = silentStep(lastChunk);
    }
    return batch;
  };

  /** A failure, as the caller sees it; the connection is closed. */
  const failed = (error: unknown): unknown => {
    pending = undefined;
    body.finish(false);
    return opened.failure(located(error, context.url), received);
  };
  /** A failure, unless the answer's last line had arrived whole but for its line break: then
   * that line is read as the last one. The final chunk completes the answer (the connection's end
   * after it changes nothing); any other complete line is handed on, then the failure; a line
   * that reports an error is that error. */
  const fail = (error: unknown): T[] | undefined => {
    if (last || pending !== undefined || body.closed || !mayEndAnswer(error, opened.signal)) throw failed(error);
    let lines: readonly string[];
    try {
      lines = splitter.end();
    } catch {
      throw failed(error);
    }
    const batch = lines.length === 0 ? NO_ITEMS : take(lines);
    if (last) {
      body.finish(false);
      return batch.length > 0 ? (batch as T[]) : undefined;
    }
    // What the server said in that line (an `{"error": …}` chunk) is the failure to report; a line
    // cut short (not JSON) is not: the connection's failure is.
    const found = pending as unknown; // set by `take`, which TypeScript does not follow
    const said = isOllamaError(found) && found.kind === 'stream' ? found : undefined;
    if (batch.length === 0) throw failed(said ?? error);
    pending = said ?? error;
    return batch as T[];
  };
  const count = (): number => received;
  /** The line in progress may be the final chunk, whole but for its line break, and the server has
   * said nothing since (see `QUIET_MS`): if it is, the body ends here and that line ends the answer. */
  const probe = (): void => {
    if (last || nested || pending !== undefined || body.closed) return;
    try {
      const value: unknown = JSON.parse(splitter.peek());
      if (typeof value === 'object' && value !== null && final.is(value as Chunk)) body.endNow();
    } catch {
      // Not a whole line yet: its line break, or the rest of it, is still to come.
    }
  };
  const takeBytes = (bytes: Uint8Array | undefined): T[] | undefined | typeof READ_ON => {
    const ended = bytes === undefined;
    // Only the last bytes are looked at (`}`, or `}` and the CR of a CRLF): a line break ends
    // almost every read of a stream.
    if (
      !ended &&
      (bytes[bytes.length - 1] === 0x7d || (bytes[bytes.length - 1] === 0x0d && bytes[bytes.length - 2] === 0x7d))
    )
      body.probe = probe;
    const lines = ended ? splitter.end() : splitter.feed(bytes);
    const batch = lines.length === 0 ? NO_ITEMS : take(lines);
    if (ended && !body.settling) {
      body.finish(true);
      // Asked only to render its prompt (`_debug_render_only`), Ollama answers one chunk that
      // carries the rendering and is not `done`: that answer is whole.
      const rendered = received === 1 && lastChunk?._debug_info !== undefined;
      if (!last && pending === undefined && !rendered) pending = incomplete(context, status, received, final.name);
    }
    if (batch.length > 0) return batch as T[];
    if (pending !== undefined) throw pending;
    return ended ? undefined : READ_ON;
  };

  return batchesOf<T>(body, () => pending, failed, body.puller(takeBytes, count, fail));
}

const NO_ITEMS: readonly never[] = Object.freeze([]);

/** The line splitter's errors know no URL: the reader's does. */
function located(error: unknown, url: string): unknown {
  return isOllamaError(error) && error.url === undefined ? withUrl(error, url) : error;
}
