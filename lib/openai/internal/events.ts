import { isOllamaError, withNote, withUrl } from '../../errors.ts';
import { type OpenExchange, send } from '../../internal/attempt.ts';
import type { Batches, Exchange, RequestContext } from '../../internal/exchange.ts';
import { incomplete, notAnObject } from '../../internal/protocol-error.ts';
import { endedShort, joined, parseJson, readText } from '../../internal/read-body.ts';
import type { ResolvedOptions } from '../../internal/resolve-options.ts';
import { mayEndAnswer, READ_ON, streamBody } from '../../internal/stream-body.ts';
import { readTimeoutError } from '../../internal/timeout-error.ts';
import { type SseEvent, SseParser } from '../sse.ts';
import { notAnEventStream, notJsonEvent, v1StreamError } from './openai-error.ts';

/** A chunk or an answer as parsed: any fields, of which those read here are named (so that a copy
 * of `lib/` compiles under `noPropertyAccessFromIndexSignature`); a choice and its delta alike. */
interface Chunk {
  choices?: unknown;
  error?: unknown;
  object?: unknown;
  finish_reason?: unknown;
  index?: unknown;
  delta?: unknown;
  [field: string]: unknown;
}

const END = '[DONE]';

interface State {
  received: number;
  /** The choices asked for (`n`), or one more than the highest `index` seen when that is more. */
  width: number;
  /** The `index` of each choice that carried a `finish_reason`, once one did (none: undefined). */
  ended?: Set<unknown> | undefined;
  /** `data: [DONE]` arrived. */
  done: boolean;
  /** The last chunk read. */
  last?: Chunk | undefined;
  /** An event with data or a name arrived: the body is an event stream. */
  events?: boolean | undefined;
}

/**
 * Reads one attempt at a streaming /v1 endpoint: the JSON of every event, without `[DONE]`,
 * handed on in one batch per network read. The rules that keep an answer from being lost in
 * silence: an error in any shape servers use (`data: {"error":…}`, vLLM's flat
 * `{"object":"error",…}`, a choice with `finish_reason: "error"`, llama.cpp's `error:` field)
 * ends the stream with a `stream` error after the chunks delivered; an event that is not a
 * JSON object is a `protocol` error; and a stream that ends with neither `[DONE]` nor any
 * `finish_reason` is a `protocol` error, never a normal end. Events with empty data and
 * comments (`: OPENROUTER PROCESSING`) are skipped. `[DONE]` completes the answer: what follows
 * it (more bytes, a silence, a reset) is never reported, and the body is let run out for a
 * moment so that its connection stays pooled.
 */
export async function readEvents<T>(exchange: Exchange, options: ResolvedOptions): Promise<Batches<T>> {
  return eventsOf<T>(await send(exchange, options), options, false, exchange.choices);
}

/** `readEvents` for a stream that is to be folded into one answer: a server that answers the
 * streaming request with that answer itself, as one JSON object (it ignored `stream`), gives it
 * as the one item, for the fold to return as it is. */
export async function readEventsOrAnswer<T>(exchange: Exchange, options: ResolvedOptions): Promise<Batches<T>> {
  return eventsOf<T>(await send(exchange, options), options, true, exchange.choices);
}

function eventsOf<T>(opened: OpenExchange, options: ResolvedOptions, answerAllowed: boolean, choices = 1): Batches<T> {
  const { context, response } = opened;
  const { readTimeout } = options;
  const type = response.headers.get('content-type') ?? '';
  const state: State = { received: 0, done: false, width: choices };
  const jsonInstead = type.includes('application/json');
  const body = streamBody(opened, readTimeout, !jsonInstead);
  const parser = new SseParser({ maxEventSize: options.maxLineLength });
  let pending: unknown;

  /** A server that reports its failure as one JSON object with a 200, not as events; or, where
   * that is allowed, that answers with the whole answer. */
  // Read once: the body is finished by then, and a finished body's `next()` asks for nothing more.
  const whole = async (): Promise<T[] | undefined> => {
    const text = await readText(opened.body, options.maxLineLength, readTimeout, opened.signal, true, true);
    body.finish(true);
    // An event stream under a JSON label (openai-node reads a stream whatever its label): its
    // events, all at once, rather than a finished answer thrown away as "not JSON".
    if (!text.truncated && text.invalid !== true && EVENTS.test(text.text)) {
      const read = takeBytes(new TextEncoder().encode(text.text));
      const batch = [...(read === READ_ON || read === undefined ? [] : read)];
      if (pending === undefined) {
        const rest = takeBytes(undefined);
        if (rest !== READ_ON && rest !== undefined) batch.push(...rest);
      }
      if (batch.length > 0) return batch;
      if (pending !== undefined) throw pending;
      return undefined;
    }
    endedShort(text, true, () => readTimeoutError(context, { limit: readTimeout, received: 0 }));
    const answer = check(
      context,
      parseJson(text, options.maxLineLength, context.url, context.secrets),
      state,
      response,
    );
    const isAnswer = Array.isArray(answer.choices);
    if (!answerAllowed || !isAnswer) throw notAnEventStream(context, type, isAnswer);
    state.received = 1;
    return [answer as T];
  };

  /** The chunks of `events`, up to the first that breaks a rule (kept in `pending`) or `[DONE]`. */
  const take = (events: readonly SseEvent[]): T[] => {
    const batch: T[] = [];
    for (const event of events) {
      if (event.data !== '' || event.event !== undefined) state.events = true;
      try {
        const chunk = chunkOf(context, event, state, response);
        if (state.done) break;
        if (chunk !== undefined) batch.push(chunk as T);
      } catch (error) {
        // `chunkOf` throws only its own errors and JSON.parse's (no try around each parse: it
        // would slow every parse down by a third).
        if (!isOllamaError(error) && isEnd(event.data)) {
          state.done = true;
          break;
        }
        pending = isOllamaError(error) ? error : notJsonEvent(context, state.received + 1, event.data, error);
        break;
      }
    }
    return batch;
  };

  /** A failure, as the caller sees it; the connection is closed. */
  const failed = (error: unknown): unknown => {
    pending = undefined;
    body.finish(false);
    return opened.failure(error, state.received);
  };
  /**
   * The event the end of the body cut off before its blank line, taken as whole where its data is:
   * `[DONE]`, a chunk, or the server's report of a failure (a `stream` error, what it said). A data
   * line cut short is nobody's: the way the body ended is what is reported then.
   */
  const cutOff = (): T[] => {
    const event = parser.unfinished;
    if (event === undefined || event.data === '') return [];
    if (isEnd(event.data)) {
      state.done = true;
      return [];
    }
    const before = pending;
    const batch = take([event]);
    if (pending !== before && !(isOllamaError(pending) && pending.kind === 'stream')) pending = before;
    return batch;
  };
  /** A failure, unless the answer was complete: `[DONE]` had arrived but for the blank line that
   * ends its event, or every choice had its `finish_reason` (the usage chunk and `[DONE]` were
   * still to come). What had arrived is the answer then; the connection's end changes nothing. */
  const fail = (error: unknown): T[] | undefined => {
    if (pending !== undefined || body.closed || !mayEndAnswer(error, opened.signal)) throw failed(error);
    let batch: T[];
    try {
      batch = [...take(parser.end()), ...cutOff()];
    } catch {
      throw failed(error);
    }
    const said = pending as unknown; // set by `take`, which TypeScript does not follow
    if (said !== undefined) {
      if (batch.length === 0) throw failed(said);
      return batch;
    }
    const complete = state.done || allFinished(state);
    if (!complete && batch.length === 0) throw failed(error);
    if (!complete) pending = error;
    else body.finish(false);
    return batch.length > 0 ? batch : undefined;
  };
  const count = (): number => state.received;
  /** The body's first bytes while no event has come: what to quote if none ever does. */
  let head: Uint8Array[] | undefined = [];
  /** `data: [DONE]` arrived but for the blank line that ends its event, and the server has said
   * nothing since (see `QUIET_MS`): the body ends here, and that event ends the answer. */
  const probe = (): void => {
    if (!state.done && pending === undefined && !body.closed && isEnd(parser.peekData())) body.endNow();
  };
  const takeBytes = (bytes: Uint8Array | undefined): T[] | undefined | typeof READ_ON => {
    const ended = bytes === undefined;
    if (!ended && endsDone(bytes)) body.probe = probe;
    if (head !== undefined && bytes !== undefined && head.length < 4) head.push(bytes.subarray(0, HEAD_BYTES));
    const events = feed(parser, bytes, context.url);
    let batch: readonly T[] = events.length === 0 ? NO_ITEMS : take(events);
    if (state.done && !body.complete && pending === undefined) {
      if (ended) body.finish(true);
      else body.settle();
    } else if (ended && !body.complete) {
      body.finish(true);
      if (pending === undefined) {
        const tail = cutOff();
        if (tail.length > 0) batch = batch.length === 0 ? tail : [...batch, ...tail];
      }
      if (!state.done && !allFinished(state) && pending === undefined) {
        // Not one event in the whole body (a web page, a text, a JSON error): not a stream cut short.
        if (!state.events) pending = notEvents(head ?? [], context, type, response);
        if (pending === undefined) {
          const cut = incomplete(
            context,
            response.status,
            state.received,
            'data: [DONE], or a finish_reason for every choice',
          );
          pending = saysNothing(state.last) ? withNote(cut, FAILED_MID_ANSWER) : cut;
        }
      }
    }
    if (state.events) head = undefined;
    if (batch.length > 0) return batch as T[];
    if (pending !== undefined) throw pending;
    return ended || state.done ? undefined : READ_ON;
  };

  const source = { take: takeBytes, count, fail, kept: () => pending, failed };
  return body.batches(source, jsonInstead ? () => whole().catch(fail) : undefined);
}

const NO_ITEMS: readonly never[] = Object.freeze([]);

const HEAD_BYTES = 1024;

/** A 200 whose body held no event: the server's words if it is a JSON error, else what it is;
 * undefined for an event stream that only ended before its first event (comments, fields with no
 * data): that is a stream cut short. */
function notEvents(head: Uint8Array[], context: RequestContext, type: string, response: Response): unknown {
  const bytes = joined(head, Number.POSITIVE_INFINITY);
  const text = new TextDecoder().decode(bytes).trim();
  if (EVENTS.test(text)) return undefined;
  try {
    const said = JSON.parse(text) as { error?: unknown } | null;
    if (said?.error) return v1StreamError(context, 0, said, response);
  } catch {
    // Not JSON: what kind of body it is says enough.
  }
  return notAnEventStream(context, type);
}

/** The start of an event stream: a field of an event, or a comment. */
const EVENTS = /^\s*(?:(?:data|event|id|retry):|:)/;

/** `[DONE]`, also with whitespace around it or after it (openai-node ends at any data that begins
 * with it). Asked only of data that is not JSON, and of an event the body's end cut off. */
function isEnd(data: string): boolean {
  return data.trimStart().startsWith(END);
}

/** The read ends with `]` and at most one line break (LF, CR or CRLF): it may end `data: [DONE]`.
 * A read of a stream that flows ends with a blank line, so this is seldom true. */
function endsDone(bytes: Uint8Array): boolean {
  let i = bytes.length - 1;
  if (bytes[i] === 0x0a) i--;
  if (bytes[i] === 0x0d) i--;
  return bytes[i] === 0x5d;
}

/** Every choice the request asked for, and every one seen, had its `finish_reason`. */
function allFinished(state: State): boolean {
  return (state.ended?.size ?? 0) >= state.width;
}

/** The chunk an event carries; undefined for an event with no data, and for `[DONE]`. */
function chunkOf(context: RequestContext, event: SseEvent, state: State, response: Response): Chunk | undefined {
  if (event.error !== undefined) {
    throw v1StreamError(context, state.received, parseOr(event.error), response);
  }
  const { data } = event;
  // An event named `error` is the server's report of a failure, whatever its data holds (openai-node
  // throws on it too): never a chunk.
  if (event.event === 'error') throw v1StreamError(context, state.received, parseOr(data), response);
  if (data === '') return undefined;
  if (data === END) {
    state.done = true;
    return undefined;
  }
  const chunk = check(context, JSON.parse(data), state, response);
  state.received++;
  state.last = chunk;
  return chunk;
}

/** The chunk, unless it reports a failure. */
function check(context: RequestContext, value: unknown, state: State, response: Response): Chunk {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw notAnObject(context, 200, state.received + 1, value);
  }
  const chunk = value as Chunk;
  // An error field that is empty (`false`, `""`, `null`) reports nothing, as openai-node reads it.
  if (chunk.error) throw v1StreamError(context, state.received, chunk, response);
  if (chunk.object === 'error') throw v1StreamError(context, state.received, chunk, response);
  const { choices } = chunk;
  if (Array.isArray(choices)) {
    for (const choice of choices as Chunk[]) {
      const reason = choice?.finish_reason;
      if (reason === 'error') {
        throw v1StreamError(
          context,
          state.received,
          choice.error ?? 'finish_reason "error" without a message',
          response,
        );
      }
      const index = choice?.index;
      if (typeof index === 'number' && index >= state.width) state.width = index + 1;
      // A finish reason is a word: `null`, and an empty string that some servers send on every
      // chunk, say the choice goes on.
      if (typeof reason === 'string' ? reason !== '' : reason !== null && reason !== undefined) {
        state.ended ??= new Set();
        state.ended.add(index ?? 0);
      }
    }
  }
  return chunk;
}

/** How Ollama's /v1 ends the stream of an answer that failed in the middle: the native error
 * line becomes a chunk without a word, and the stream stops; the error's text is not passed on. */
const FAILED_MID_ANSWER =
  "A last chunk without a word, then the end, is how Ollama's /v1 ends an answer that failed midway " +
  "(a model runner that stopped, memory run out) without passing on the error: Ollama's log, or the native " +
  '/api/chat, says what it was.';

/** Every choice of `chunk` has an empty delta (no text, no reasoning, no tool call) and no finish. */
function saysNothing(chunk: Chunk | undefined): boolean {
  const choices = chunk?.choices;
  if (!Array.isArray(choices) || choices.length === 0) return false;
  return (choices as Chunk[]).every((choice) => {
    const { content, reasoning, reasoning_content, tool_calls, ...rest } = (choice?.delta ?? {}) as Chunk;
    const quiet = (text: unknown) => text === undefined || text === null || text === '';
    return (
      quiet(content) &&
      quiet(reasoning) &&
      quiet(reasoning_content) &&
      (tool_calls === undefined || (Array.isArray(tool_calls) && tool_calls.length === 0)) &&
      Object.keys(rest).every((key) => key === 'role')
    );
  });
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
