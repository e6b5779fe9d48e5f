import { callOnce, callStream } from '../internal/call.ts';
import type { Exchange } from '../internal/exchange.ts';
import type { ResolvedOptions } from '../internal/resolve-options.ts';
import { requireModel } from '../internal/validate.ts';
import { readEvents, readEventsOrAnswer } from './internal/events.ts';
import { foldChatCompletion } from './internal/fold.ts';
import { queried, type SendMode, streamed, v1Exchange, wholeMode } from './internal/exchange.ts';
import { resolveV1 } from './internal/resolve.ts';
import { wholeReader } from './internal/whole.ts';
import type { ChatCompletion, ChatCompletionChunk, ChatCompletionRequest, OpenAIOptions } from './types.ts';

// POST /v1/chat/completions, as a stream of chunks exactly as the server sent them and as the
// one object the server answers for `stream: false`.

/**
 * POST {base}/chat/completions with `stream: true`: every chunk as sent, not `[DONE]`. A
 * stream that ends without `[DONE]` and without any `finish_reason` is a `protocol` error
 * after the chunks delivered, and an error the server reports in the stream, in any shape,
 * is a `stream` error. Leaving the loop early closes the connection, so the server stops.
 * Options are checked at once; the request is sent when iteration starts.
 */
export function chatCompletionsStream(
  request: ChatCompletionRequest,
  options?: OpenAIOptions,
): AsyncGenerator<ChatCompletionChunk, void, undefined> {
  return chatStream(request, resolveV1(options));
}

/** `chatCompletionsStream` with options already resolved (the client's streams give it a
 * signal of their own). */
export function chatStream(
  request: ChatCompletionRequest,
  options: ResolvedOptions,
): AsyncGenerator<ChatCompletionChunk, void, undefined> {
  const exchange = chatExchange('chatCompletionsStream', request, 'stream');
  return callStream<ChatCompletionChunk>(queried(exchange, options), options, readEvents);
}

/**
 * POST {base}/chat/completions, answered as one object: what the server answers for
 * `stream: false`. It streams on the wire (with `stream_options.include_usage`, for the
 * usage) and folds the chunks, so that a long answer keeps bytes flowing and `readTimeout`
 * keeps meaning "the server went silent". With `stream: false` in the request, it is sent as
 * it is and the server's own object is returned.
 */
export async function chatCompletions(
  request: ChatCompletionRequest,
  options?: OpenAIOptions,
): Promise<ChatCompletion> {
  const stream = (request as { stream?: unknown } | null | undefined)?.stream;
  if (stream === true) {
    throw new TypeError('chatCompletions: for stream: true use chatCompletionsStream, which yields the chunks');
  }
  const mode = wholeMode(request);
  const exchange = chatExchange('chatCompletions', request, mode);
  const resolved = resolveV1(options);
  const plain = (): Exchange => queried(chatExchange('chatCompletions', request, 'plain'), resolved);
  return callOnce(queried(exchange, resolved), resolved, wholeReader(mode, readChatCompletion, plain));
}

async function readChatCompletion(exchange: Exchange, options: ResolvedOptions): Promise<ChatCompletion> {
  return foldChatCompletion(await readEventsOrAnswer<ChatCompletionChunk>(exchange, options));
}

/** The exchange of a chat call: `stream` sends the request streaming, `fold` also asks for the
 * usage, `plain` sends the caller's request untouched. */
function chatExchange(call: string, request: ChatCompletionRequest, mode: SendMode): Exchange {
  const model = requireModel(call, request);
  if (!Array.isArray(request.messages)) {
    throw new TypeError(`${call}: request.messages must be an array such as [{ role: 'user', content: 'Hi' }]`);
  }
  return v1Exchange(call, '/chat/completions', streamed(request, mode), model, mode !== 'plain');
}
