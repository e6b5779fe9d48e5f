import { isOllamaError } from '../../errors.ts';
import { readJson } from '../../internal/attempt.ts';
import type { Exchange, Reader } from '../../internal/exchange.ts';
import type { SendMode } from './exchange.ts';

/**
 * The reader of a /v1 call answered as one object. Sent as it is (`plain`), the server's own
 * object is the answer. Sent streaming to be folded (`fold`), a request the server refuses for
 * streaming, with a 400 or 422 whose words name `stream`, `stream_options` or streaming (a
 * model that cannot stream, a gateway that knows no `stream_options`), is sent again as the
 * caller wrote it, within the same call (its signal, its total timeout), and every later
 * attempt of the call is sent so at once. `plain` makes that exchange, only when it is needed.
 */
export function wholeReader<T>(mode: SendMode, fold: Reader<T>, plain: () => Exchange): Reader<T> {
  if (mode === 'plain') return readJson;
  let refused: Exchange | undefined;
  return async (exchange, options) => {
    if (refused !== undefined) return readJson<T>(refused, options);
    try {
      return await fold(exchange, options);
    } catch (error) {
      if (!refusesStreaming(error)) throw error;
      refused = plain();
      return readJson<T>(refused, options);
    }
  };
}

function refusesStreaming(error: unknown): boolean {
  if (!isOllamaError(error) || error.kind !== 'http') return false;
  if (error.status !== 400 && error.status !== 422) return false;
  return /\bstream(?:_options|ing)?\b/i.test(error.body ?? '');
}
