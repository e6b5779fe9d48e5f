import type { OllamaError } from '../errors.ts';
import type { ResolvedOptions } from './resolve-options.ts';

/** A chunk of a native stream as parsed: an object with any fields, of which those the readers
 * look at are named (so that a copy of `lib/` compiles under `noPropertyAccessFromIndexSignature`). */
export interface ChunkFields {
  done?: unknown;
  status?: unknown;
  total?: unknown;
  error?: unknown;
  _debug_info?: unknown;
  [field: string]: unknown;
}

/** The chunk that ends a stream, how an error message names it, and whether anything may
 * follow one. */
export interface FinalChunk {
  is(chunk: ChunkFields): boolean;
  name: string;
  /** A chunk that begins a step of its own inside the answer, which ends with a chunk that `is`
   * the final one too and is not (a create's pull of its base model, which ends with the pull's
   * own success line). The final chunk is the first one that no such step is waiting for. */
  opens?: ((chunk: ChunkFields) => boolean) | undefined;
}

/** What one endpoint sends and expects, fixed before the first attempt. */
export interface Exchange {
  method: 'GET' | 'POST' | 'DELETE' | 'HEAD';
  /** Path under the host's base, starting with `/api/` (or, for /v1 calls, under the /v1 base). */
  path: string;
  /** The request body as JSON, when there is one: serialised and checked once, as the Exchange is
   * built (`requestJson`), and sent as it is by every attempt. */
  json?: string | undefined;
  /** Sent as it is, as `application/octet-stream` (a blob upload). */
  bytes?: Uint8Array | Blob | undefined;
  /** The model the request names, for the hint of a 404. */
  model?: string | undefined;
  /** The next step to suggest when that model is not found, when `ollama pull` is not it. */
  notFound?: string | undefined;
  accept: 'application/x-ndjson' | 'application/json' | 'text/event-stream';
  /** Reads a non-2xx answer as an error, when the server speaks another dialect than Ollama's
   * native one (the /v1 calls). */
  httpError?: HttpErrorReader | undefined;
  /** Streaming endpoints: the chunk that ends the stream. */
  final?: FinalChunk | undefined;
  /** Streaming endpoints: a chunk that announces a step the server takes without a word (a
   * pull's check of what it downloaded, which for a large model takes minutes). `readTimeout`
   * does not apply to the wait for the chunk after it. */
  silentStep?: ((chunk: ChunkFields) => boolean) | undefined;
  /** /v1 streams: how many choices the request asked for (`n`), so that an answer is not taken
   * as complete when only the first choices have finished. */
  choices?: number | undefined;
  /** Requests a read of this exchange sent again within itself (a /v1 answer asked for again as
   * the caller wrote it): the call counts them among its attempts. */
  resent?: number | undefined;
}

/**
 * The request as every error describes it: what was asked of which server. Built once per call
 * and handed to the error builders, so that no two of them describe a request differently.
 */
export interface RequestContext {
  method: string;
  /** The full URL, without credentials. */
  url: string;
  /** The server's base URL, as the host option resolved. */
  base: string;
  /** Loopback or unspecified address: a refused connection means Ollama is not started. */
  local: boolean;
  model: string | undefined;
  notFound: string | undefined;
  /** The credentials the request carries: what the server says is shown without them. */
  secrets?: readonly string[] | undefined;
}

export function contextOf(exchange: Exchange, options: ResolvedOptions): RequestContext {
  return {
    method: exchange.method,
    url: options.base + exchange.path,
    base: options.base,
    local: options.local,
    model: exchange.model,
    notFound: exchange.notFound,
    secrets: options.secrets,
  };
}

/** Turns a non-2xx answer into the error to throw; it reads (and so releases) the body. */
export type HttpErrorReader = (
  response: Response,
  body: ReadableStream<Uint8Array> | null,
  context: RequestContext,
) => Promise<OllamaError>;

/** Reads one attempt's answer: what an endpoint hands to the call layer. */
export type Reader<T> = (exchange: Exchange, options: ResolvedOptions) => Promise<T>;

/**
 * One attempt's answer as it arrives: the items of each network read together, so that no item
 * waits for a promise of its own. What the call layer hands out one by one.
 */
export interface Batches<T> {
  /** The items of the next read (never an empty array), or undefined at the end. An error found
   * after items of one read is thrown by the call after the one that returned them. */
  next(): Promise<T[] | undefined>;
  /** Leaves the answer before its end; closes the connection unless the answer is complete. */
  close(): Promise<void>;
  /** The answer is complete (its final chunk was read): what is left to hand on needs no more
   * reading, so nothing of the call has to wait for the consumer any longer. */
  readonly complete?: boolean;
}

/** Opens one attempt's answer as a stream of items. */
export type StreamReader<T> = (exchange: Exchange, options: ResolvedOptions) => Promise<Batches<T>>;
