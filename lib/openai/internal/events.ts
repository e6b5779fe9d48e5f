import { isOllamaError, withUrl } from '../../errors.ts';
import { send } from '../../internal/attempt.ts';
import type { Exchange, RequestContext } from '../../internal/exchange.ts';
import { afterFinal, incomplete, notAnObject } from '../../internal/protocol-error.ts';
import { readJsonBody } from '../../internal/read-body.ts';
import type { ResolvedOptions } from '../../internal/resolve-options.ts';
import { type SseEvent, SseParser } from '../sse.ts';
import { notAnEventStream, notJsonEvent, v1StreamError } from './openai-error.ts';

type Chunk = Record<string, unknown>;

const END = '[DONE]';

/**
 * Reads one attempt at a streaming /v1 endpoint: the JSON of every event, without `[DONE]`,
 * yielded as soon as the read that completed it, in one batch per read. The rules that keep an answer from being lost in
 * silence: an error in any shape servers use (`data: {"error":…}`, vLLM's flat
 * `{"object":"error",…}`, a choice with `finish_reason: "error"`, llama.cpp's `error:` field)
 * ends the stream with a `stream` error after the chunks delivered; an event that is not a
 * JSON object is a `protocol` error; and a stream that ends with neither `[DONE]` nor any
 * `finish_reason` is a `protocol` error, never a normal end. Events with empty data and
 * comments (`: OPENROUTER PROCESSING`) are skipped. Reading stops at `[DONE]` (what the same
 * read carries after it is still checked).
 */
export async function* readEvents<T>(
  exchange: Exchange,
  options: ResolvedOptions,
): AsyncGenerator<T[], void, undefined> {
  const opened = await send(exchange, options);
  const { response, body, context } = opened;
  const requestId = response.headers.get('x-request-id') ?? undefined;
  const state = { received: 0, finished: false, done: false };
  let ended = false;
  try {
    if (body === null) {
      ended = true;
    } else {
      const type = response.headers.get('content-type') ?? '';
      if (type.includes('application/json')) {
        // A server that reports its failure as a JSON object with a 200, not as an event.
        const value = await readJsonBody(body, options.maxLineLength, context.url);
        ended = true;
        check(context, value, state, requestId);
        throw notAnEventStream(context, type);
      }
      const parser = new SseParser({ maxEventSize: options.maxLineLength });
      const reader = body.getReader();
      let eof = false;
      try {
        for (;;) {
          const { done, value } = await reader.read();
          const events = feed(parser, done ? undefined : value, context.url);
          // The chunks of one read go out together; a failure among them comes after the
          // chunks before it.
          let batch: T[] | undefined;
          let at: SseEvent | undefined;
          try {
            for (const event of events) {
              at = event;
              const chunk = take(context, event, state, requestId);
              if (chunk === undefined) continue;
              if (batch === undefined) batch = [chunk as T];
              else batch.push(chunk as T);
            }
          } catch (error) {
            if (batch !== undefined) yield batch;
            // `take` throws only its own errors and JSON.parse's (no try around each parse: it
            // would slow every parse down by a third).
            throw isOllamaError(error) ? error : notJsonEvent(context, state.received + 1, at?.data ?? '', error);
          }
          if (batch !== undefined) yield batch;
          if (done) {
            eof = true;
            break;
          }
          // `[DONE]` ends the answer: a server that keeps the connection open after it must
          // not turn a finished answer into a read timeout.
          if (state.done) break;
        }
        ended = true;
      } finally {
        if (eof) reader.releaseLock();
        // Not awaited: a consumer that breaks out gets control back at once.
        else reader.cancel().catch(ignore);
      }
      if (parser.unfinished?.data === END) state.done = true;
    }
  } catch (error) {
    throw opened.failure(error, state.received);
  } finally {
    opened.close(ended);
  }
  if (!state.done && !state.finished) {
    throw incomplete(context, response.status, state.received, 'data: [DONE], or a chunk with a finish_reason');
  }
}

interface State {
  received: number;
  finished: boolean;
  done: boolean;
}

function take(
  context: RequestContext,
  event: SseEvent,
  state: State,
  requestId: string | undefined,
): Chunk | undefined {
  if (event.error !== undefined) {
    throw v1StreamError(context, state.received, parseOr(event.error), requestId);
  }
  const { data } = event;
  if (data === '') return undefined;
  if (state.done) throw afterFinal(context, 200, data);
  if (data === END) {
    state.done = true;
    return undefined;
  }
  const chunk = check(context, JSON.parse(data), state, requestId);
  state.received++;
  return chunk;
}

/** The chunk, unless it reports a failure. */
function check(context: RequestContext, value: unknown, state: State, requestId: string | undefined): Chunk {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw notAnObject(context, 200, state.received + 1, value);
  }
  const chunk = value as Chunk;
  const { error } = chunk;
  if (error !== undefined && error !== null) throw v1StreamError(context, state.received, chunk, requestId);
  if (chunk.object === 'error') throw v1StreamError(context, state.received, chunk, requestId);
  const { choices } = chunk;
  if (Array.isArray(choices)) {
    for (const choice of choices as Chunk[]) {
      const reason = choice?.finish_reason;
      if (reason === 'error') {
        throw v1StreamError(
          context,
          state.received,
          choice.error ?? 'finish_reason "error" without a message',
          requestId,
        );
      }
      if (reason !== null && reason !== undefined) state.finished = true;
    }
  }
  return chunk;
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function feed(parser: SseParser, chunk: Uint8Array | undefined, url: string): readonly SseEvent[] {
  try {
    return chunk === undefined ? parser.end() : parser.feed(chunk);
  } catch (error) {
    throw isOllamaError(error) ? withUrl(error, url) : error;
  }
}

function ignore(): void {}
