import { callOnce } from './call.ts';
import { isOllamaError } from './errors.ts';
import { resolveOptions, type CallOptions } from './options.ts';
import { fetchText, type Exchange } from './request.ts';

const NOBODY_ANSWERED = new Set(['connection', 'connect-timeout', 'read-timeout', 'total-timeout']);

/**
 * GET /: whether an Ollama server answers at the host. Resolves `false` when nothing answers
 * (refused, unreachable, a name that does not resolve, a timeout) or when what answers is not
 * Ollama; it never throws for those. It does throw for an HTTP error status, because something
 * did answer and its reason is worth reading (a 401 from a proxy wants credentials), for an
 * invalid option, and with `signal.reason` when the caller aborts. It makes one attempt
 * unless `retry` is given: a probe that waits through backoff is not a probe.
 */
export async function isRunning(options?: CallOptions): Promise<boolean> {
  const resolved = resolveOptions(options);
  const once = options?.retry === undefined ? { ...resolved, retry: { ...resolved.retry, retries: 0 } } : resolved;
  const exchange: Exchange = { method: 'GET', path: '/', accept: 'application/json' };
  try {
    const text = await callOnce(exchange, once, (attempt) => fetchText(exchange, attempt));
    return text.includes('Ollama is running');
  } catch (error) {
    if (isOllamaError(error) && NOBODY_ANSWERED.has(error.kind)) return false;
    throw error;
  }
}
