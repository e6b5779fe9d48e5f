import type { OllamaError } from '../../errors.ts';
import type { Exchange } from '../../internal/exchange.ts';
import type { ResolvedOptions } from '../../internal/resolve-options.ts';
import { requestJson } from '../../internal/serialise.ts';
import { v1HttpError, withFields } from './openai-error.ts';
import type { V1Options } from './resolve.ts';

/** How a /v1 call sends its request: `stream` streaming as it is, `fold` streaming with the
 * usage asked for (to fold into the `stream: false` answer), `plain` untouched. */
export type SendMode = 'stream' | 'fold' | 'plain';

/** The exchange of one /v1 call; it keeps the last `http` error it built (see `fails`). */
export interface V1Exchange extends Exchange {
  built?: OllamaError;
}

export function streamed<T extends { stream?: boolean | undefined; stream_options?: object | undefined }>(
  request: T,
  mode: SendMode,
): T {
  if (mode === 'plain') return request;
  if (mode === 'stream') return { ...request, stream: true };
  return { ...request, stream: true, stream_options: { ...request.stream_options, include_usage: true } };
}

/** The exchange of a /v1 call; its non-2xx answers are read by `v1HttpError`. */
export function v1(exchange: Exchange): V1Exchange {
  const own: V1Exchange = exchange;
  own.httpError = async (response, body, context) => (own.built = await v1HttpError(response, body, context));
  return own;
}

/** `exchange`, its path followed by the query of `options` (kept by every copy of them: the
 * shared layer, which builds the URL, knows nothing of it). */
export function queried<E extends Exchange>(exchange: E, options: ResolvedOptions): E {
  exchange.path += (options as V1Options).query ?? '';
  return exchange;
}

/** A POST of `body` (serialised once, here, so a body that cannot be sent fails before any
 * attempt, naming `call`). */
export function v1Exchange(call: string, path: string, body: unknown, model: string, events: boolean): V1Exchange {
  return v1({
    method: 'POST',
    path,
    json: requestJson(call, body),
    model,
    accept: events ? 'text/event-stream' : 'application/json',
  });
}

/** The result of a call over `exchange`, its `http` error with openai-node's fields. */
export function fails<T>(exchange: V1Exchange, result: Promise<T>): Promise<T> {
  return result.catch((error: unknown) => {
    throw withFields(error, exchange.built);
  });
}

/** A stream over `exchange` whose `http` error (thrown by its first `next()`, since one is
 * never met after a chunk) has openai-node's fields. Later reads go straight to the stream. */
export function failsStream<T>(
  exchange: V1Exchange,
  stream: AsyncGenerator<T, void, undefined>,
): AsyncGenerator<T, void, undefined> {
  const { next } = stream;
  stream.next = () => {
    stream.next = next;
    return fails(exchange, next());
  };
  return stream;
}
