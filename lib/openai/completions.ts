import { callOnce, callStream } from '../internal/call.ts';
import type { Exchange } from '../internal/exchange.ts';
import type { ResolvedOptions } from '../internal/resolve-options.ts';
import { requireModel } from '../internal/validate.ts';
import { readEvents, readEventsOrAnswer } from './internal/events.ts';
import { queried, type SendMode, streamed, v1Exchange, wholeMode } from './internal/exchange.ts';
import { foldCompletion } from './internal/fold.ts';
import { resolveV1 } from './internal/resolve.ts';
import { wholeReader } from './internal/whole.ts';
import type { Completion, CompletionRequest, OpenAIOptions } from './types.ts';

// POST /v1/completions (`text_completion`): the same pair as chat, for a bare prompt.

/** POST {base}/completions with `stream: true`: every chunk as sent, under the same rules as
 * `chatCompletionsStream`. */
export function completionsStream(
  request: CompletionRequest,
  options?: OpenAIOptions,
): AsyncGenerator<Completion, void, undefined> {
  return completionStream(request, resolveV1(options));
}

/** `completionsStream` with options already resolved. */
export function completionStream(
  request: CompletionRequest,
  options: ResolvedOptions,
): AsyncGenerator<Completion, void, undefined> {
  const exchange = completionExchange('completionsStream', request, 'stream');
  return callStream<Completion>(queried(exchange, options), options, readEvents);
}

/** POST {base}/completions, answered as one object, folded from the stream as
 * `chatCompletions` does (or sent as it is with `stream: false`). */
export async function completions(request: CompletionRequest, options?: OpenAIOptions): Promise<Completion> {
  const stream = (request as { stream?: unknown } | null | undefined)?.stream;
  if (stream === true) {
    throw new TypeError('completions: for stream: true use completionsStream, which yields the chunks');
  }
  const mode = wholeMode(request);
  const exchange = completionExchange('completions', request, mode);
  const resolved = resolveV1(options);
  const plain = (): Exchange => queried(completionExchange('completions', request, 'plain'), resolved);
  return callOnce(queried(exchange, resolved), resolved, wholeReader(mode, readCompletion, plain));
}

async function readCompletion(exchange: Exchange, options: ResolvedOptions): Promise<Completion> {
  return foldCompletion(await readEventsOrAnswer<Completion>(exchange, options));
}

function completionExchange(call: string, request: CompletionRequest, mode: SendMode): Exchange {
  const model = requireModel(call, request);
  const { prompt } = request;
  if (typeof prompt !== 'string' && !(Array.isArray(prompt) && prompt.every((item) => typeof item === 'string'))) {
    throw new TypeError(
      `${call}: request.prompt must be a string (or, where the server allows it, an array of strings)`,
    );
  }
  return v1Exchange(call, '/completions', streamed(request, mode), model, mode !== 'plain');
}
