import { isOllamaError } from '../../errors.ts';
import { readJson } from '../../internal/attempt.ts';
import { contextOf, type Exchange, type Reader } from '../../internal/exchange.ts';
import type { ResolvedOptions } from '../../internal/resolve-options.ts';
import type { SendMode } from './exchange.ts';
import { saidBy, v1Answer } from './openai-error.ts';

/**
 * The reader of a /v1 call answered as one object. Sent as it is (`plain`), the server's own
 * object is the answer. Sent streaming to be folded (`fold`), a request the server refuses for
 * streaming, with a 400 or 422 whose words name `stream`, `stream_options` or streaming (a
 * model that cannot stream, a gateway that knows no `stream_options`), is sent again as the
 * caller wrote it, within the same call (its signal, its total timeout), and every later
 * attempt of the call is sent so at once. `plain` makes that exchange, only when it is needed.
 */
export function wholeReader<T>(mode: SendMode, fold: Reader<T>, plain: () => Exchange): Reader<T> {
  if (mode === 'plain') return readAnswer;
  let refused: Exchange | undefined;
  return async (exchange, options) => {
    if (refused !== undefined) return readAnswer<T>(refused, options);
    try {
      return await fold(exchange, options);
    } catch (error) {
      if (!refusesStreaming(error)) throw error;
      refused = plain();
      exchange.resent = (exchange.resent ?? 0) + 1;
      return readAnswer<T>(refused, options);
    }
  };
}

/** The server's own answer object, which has its `choices`. */
async function readAnswer<T>(exchange: Exchange, options: ResolvedOptions): Promise<T> {
  return v1Answer<T>(await readJson(exchange, options), 'choices', contextOf(exchange, options));
}

/** A 400 or 422 that says the request's streaming is what the server refuses: `param` names
 * `stream` or `stream_options`, a validation error's location does (FastAPI's `detail`, pydantic's
 * text in vLLM's message), or the words say so ("Unrecognized request argument supplied:
 * stream_options", "'stream' does not support true with this model", "does not support
 * streaming"). A body that merely echoes the request, `"stream": true` and all, is not that. */
function refusesStreaming(error: unknown): boolean {
  if (!isOllamaError(error) || error.kind !== 'http') return false;
  if (error.status !== 400 && error.status !== 422) return false;
  const { param } = error as { param?: unknown };
  if (param === 'stream' || param === 'stream_options') return true;
  let body: unknown;
  try {
    body = JSON.parse(error.body ?? '');
  } catch {
    return false;
  }
  const detail = (body as { detail?: unknown } | null)?.detail;
  if (Array.isArray(detail)) return detail.some((item) => locatesStream((item as { loc?: unknown } | null)?.loc));
  const words = saidBy(body)?.message ?? '';
  // Pydantic's errors as text: only where they point counts, not the input they quote.
  if (/'loc':|"loc":/.test(words))
    return /'loc': \([^)]*'stream(?:_options)?'[^)]*\)|"loc": ?\[[^\]]*"stream(?:_options)?"/.test(words);
  return REFUSED_BEFORE.test(words) || REFUSED_AFTER.test(words);
}

// The words and `stream` close together, with no quoted JSON between them (an echo of the request).
const REFUSED_BEFORE =
  /\b(?:unrecogni[sz]ed|unknown|unsupported|extra|does not support|cannot)\b[^.{}"]{0,40}?\bstream(?:_options|ing)?\b/i;
const REFUSED_AFTER =
  /\bstream(?:_options|ing)?\b[^.{}"]{0,40}?\b(?:not supported|unsupported|not permitted|not allowed|forbidden|unrecogni[sz]ed|unknown|invalid|does not support)\b/i;

function locatesStream(loc: unknown): boolean {
  return Array.isArray(loc) && loc.some((part) => part === 'stream' || part === 'stream_options');
}
