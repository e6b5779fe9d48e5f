import type { Exchange } from '../../internal/exchange.ts';
import type { ResolvedOptions } from '../../internal/resolve-options.ts';
import { requestJson } from '../../internal/serialise.ts';
import { v1HttpError } from './openai-error.ts';
import type { V1Options } from './resolve.ts';

/** How a /v1 call sends its request: `stream` streaming as it is, `fold` streaming with the
 * usage asked for (to fold into the `stream: false` answer), `plain` untouched. */
export type SendMode = 'stream' | 'fold' | 'plain';

/**
 * How a call answered as one object sends `request`: as it is when it says `stream: false`, or
 * when it asks Ollama only to render the prompt (`_debug_render_only`), which is answered at
 * once, with the rendering (`_debug_info`) only in the one object; else streaming, folded.
 * `stream: true` is refused before this.
 */
export function wholeMode(request: unknown): SendMode {
  const { stream, _debug_render_only: render } = (request ?? {}) as { stream?: unknown; _debug_render_only?: unknown };
  return stream === false || render === true ? 'plain' : 'fold';
}

export function streamed<T extends { stream?: boolean | undefined; stream_options?: object | undefined }>(
  request: T,
  mode: SendMode,
): T {
  if (mode === 'plain') return request;
  if (mode === 'stream') return { ...request, stream: true };
  return { ...request, stream: true, stream_options: { ...request.stream_options, include_usage: true } };
}

/** `exchange`, its path followed by the query of `options` (kept by every copy of them: the
 * shared layer, which builds the URL, knows nothing of it). */
export function queried<E extends Exchange>(exchange: E, options: ResolvedOptions): E {
  exchange.path += (options as V1Options).query ?? '';
  return exchange;
}

/** A POST of `body` (serialised once, here, so a body that cannot be sent fails before any
 * attempt, naming `call`). */
export function v1Exchange(call: string, path: string, body: unknown, model: string, events: boolean): Exchange {
  const n = (body as { n?: unknown } | null)?.n;
  return {
    method: 'POST',
    path,
    json: requestJson(call, body),
    model,
    accept: events ? 'text/event-stream' : 'application/json',
    httpError: v1HttpError,
    choices: typeof n === 'number' && Number.isSafeInteger(n) && n > 1 ? n : undefined,
  };
}
