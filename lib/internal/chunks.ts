import { isOllamaError, notJsonLine, withUrl } from '../errors.ts';
import { LineSplitter } from '../lines.ts';
import { type OpenExchange, send } from './attempt.ts';
import type { Batches, ChunkFields, Exchange, FinalChunk, RequestContext } from './exchange.ts';
import { inBandError, incomplete, notAnObject } from './protocol-error.ts';
import type { ResolvedOptions } from './resolve-options.ts';
import { type BodySource, mayEndAnswer, READ_ON, type StreamBody, streamBody } from './stream-body.ts';
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
  return new ChunkReader<T>(await send(exchange, options), exchange, options).batches();
}

/** One body's chunks (see `readChunks`). A class rather than closures made per answer, for the
 * reason given in stream-body.ts. */
class ChunkReader<T> implements BodySource<T> {
  readonly #body: StreamBody;
  readonly #opened: OpenExchange;
  readonly #context: RequestContext;
  readonly #status: number;
  readonly #final: FinalChunk;
  readonly #silentStep: ((chunk: Chunk) => boolean) | undefined;
  readonly #splitter: LineSplitter;
  /** Chunks read so far. */
  #count = 0;
  /** The last chunk read is the final one. */
  #last = false;
  /** A step inside the answer (see `FinalChunk.opens`) has begun and not yet ended. */
  #nested = false;
  /** What went wrong after the chunks last handed on; thrown by the next call. */
  #pending: unknown;
  #lastChunk: Chunk | undefined;
  /** `probe`, bound the first time a read may have brought the whole answer but for its end. */
  #probing: (() => void) | undefined;

  constructor(opened: OpenExchange, exchange: Exchange, options: ResolvedOptions) {
    this.#opened = opened;
    this.#context = opened.context;
    this.#status = opened.response.status;
    this.#final = exchange.final ?? DONE;
    this.#silentStep = exchange.silentStep;
    this.#body = streamBody(opened, options.readTimeout);
    this.#splitter = new LineSplitter({ maxLineLength: options.maxLineLength });
  }

  batches(): Batches<T> {
    return this.#body.batches(this);
  }

  count(): number {
    return this.#count;
  }

  kept(): unknown {
    return this.#pending;
  }

  /** A failure, as the caller sees it; the connection is closed. */
  failed(error: unknown): unknown {
    this.#pending = undefined;
    this.#body.finish(false);
    return this.#opened.failure(located(error, this.#context.url), this.#count);
  }

  /** A failure, unless the answer's last line had arrived whole but for its line break: then
   * that line is read as the last one. The final chunk completes the answer (the connection's end
   * after it changes nothing); any other complete line is handed on, then the failure; a line
   * that reports an error is that error. */
  fail(error: unknown): T[] | undefined {
    if (this.#last || this.#pending !== undefined || this.#body.closed || !mayEndAnswer(error, this.#opened.signal))
      throw this.failed(error);
    let lines: readonly string[];
    try {
      lines = this.#splitter.end();
    } catch {
      throw this.failed(error);
    }
    const batch = lines.length === 0 ? NO_ITEMS : this.#items(lines);
    if (this.#last) {
      this.#body.finish(false);
      return batch.length > 0 ? (batch as T[]) : undefined;
    }
    // What the server said in that line (an `{"error": …}` chunk) is the failure to report; a line
    // cut short (not JSON) is not: the connection's failure is.
    const found = this.#pending as unknown; // set by `items`, which TypeScript does not follow
    const said = isOllamaError(found) && found.kind === 'stream' ? found : undefined;
    if (batch.length === 0) throw this.failed(said ?? error);
    this.#pending = said ?? error;
    return batch as T[];
  }

  take(bytes: Uint8Array | undefined): T[] | undefined | typeof READ_ON {
    const body = this.#body;
    const ended = bytes === undefined;
    // Only the last bytes are looked at (`}`, or `}` and the CR of a CRLF): a line break ends
    // almost every read of a stream.
    if (
      !ended &&
      (bytes[bytes.length - 1] === 0x7d || (bytes[bytes.length - 1] === 0x0d && bytes[bytes.length - 2] === 0x7d))
    )
      body.probe = this.#probing ??= this.#probe.bind(this);
    const lines = ended ? this.#splitter.end() : this.#splitter.feed(bytes);
    const batch = lines.length === 0 ? NO_ITEMS : this.#items(lines);
    if (ended && !body.complete) {
      body.finish(true);
      // Asked only to render its prompt (`_debug_render_only`), Ollama answers one chunk that
      // carries the rendering and is not `done`: that answer is whole.
      const rendered = this.#count === 1 && this.#lastChunk?._debug_info !== undefined;
      if (!this.#last && this.#pending === undefined && !rendered)
        this.#pending = incomplete(this.#context, this.#status, this.#count, this.#final.name);
    }
    if (batch.length > 0) return batch as T[];
    if (this.#pending !== undefined) throw this.#pending;
    return ended ? undefined : READ_ON;
  }

  /** The values of `lines` under the chunk rules, up to the first that breaks one (kept in
   * `pending`) or up to the final chunk (then what follows is let run out). They take the
   * place of the lines in the splitter's array, which is made afresh for each read and is ours:
   * a second array per read showed in the collector's share of a one-line read. */
  #items(lines: readonly string[]): T[] {
    const batch = lines as unknown[] as T[];
    const final = this.#final;
    const context = this.#context;
    const { opens } = final;
    let count = 0;
    for (; count < lines.length; count++) {
      const line = lines[count] as string;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        // Redacted before the error cuts it: a credential cut in two would no longer be found.
        this.#pending = notJsonLine(this.#count + 1, context.url, redact(line, context.secrets), error);
        break;
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        this.#pending = notAnObject(context, this.#status, this.#count + 1, value);
        break;
      }
      const chunk = value as Chunk;
      // An error field that is empty (`null`, `false`, `""`) reports nothing, as the /v1 reader and
      // openai-node read it: one lookup that finds nothing, on the hot path.
      if (chunk.error) {
        this.#pending = inBandError(context, this.#status, this.#count, chunk.error);
        break;
      }
      this.#count++;
      batch[count] = chunk as T;
      if (opens?.(chunk)) this.#nested = true;
      this.#last = final.is(chunk);
      if (this.#last && this.#nested) {
        // The end of the step inside the answer, not of the answer.
        this.#nested = false;
        this.#last = false;
      } else if (this.#last) {
        count++;
        this.#body.settle();
        break;
      }
    }
    batch.length = count;
    if (count > 0) {
      this.#lastChunk = batch[count - 1] as Chunk;
      if (this.#silentStep !== undefined) this.#body.silent = this.#silentStep(this.#lastChunk);
    }
    return batch;
  }

  /** The line in progress may be the final chunk, whole but for its line break, and the server has
   * said nothing since (see `QUIET_MS`): if it is, the body ends here and that line ends the answer. */
  #probe(): void {
    if (this.#last || this.#nested || this.#pending !== undefined || this.#body.closed) return;
    try {
      const value: unknown = JSON.parse(this.#splitter.peek());
      if (typeof value === 'object' && value !== null && this.#final.is(value as Chunk)) this.#body.endNow();
    } catch {
      // Not a whole line yet: its line break, or the rest of it, is still to come.
    }
  }
}

const NO_ITEMS: readonly never[] = Object.freeze([]);

/** The line splitter's errors know no URL: the reader's does. */
function located(error: unknown, url: string): unknown {
  return isOllamaError(error) && error.url === undefined ? withUrl(error, url) : error;
}
