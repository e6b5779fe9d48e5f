import { readJson } from './body.ts';
import { connectionError } from './connection-error.ts';
import { isOllamaError } from './errors.ts';
import { httpError } from './http-error.ts';
import type { ResolvedOptions } from './options.ts';
import { VERSION } from './version.ts';

export interface Exchange {
  method: 'GET' | 'POST' | 'DELETE' | 'HEAD';
  /** Path under the host, starting with `/api/`. */
  path: string;
  /** Sent as JSON when present. */
  body?: unknown;
  /** The model the request names, for the `ollama pull` hint of a 404. */
  model?: string | undefined;
  accept: 'application/x-ndjson' | 'application/json';
}

/** An answered request whose body is still to be read. */
export interface OpenExchange {
  response: Response;
  url: string;
  /** Turns a failure met while reading the body into what the caller should see. */
  failure(error: unknown, received: number): unknown;
  /** Ends the exchange; an unfinished body is aborted, which closes the connection and so
   * stops Ollama generating. */
  close(finished: boolean): void;
}

/**
 * Sends one request and waits for its status. A fetch failure becomes a `connection` error,
 * a non-2xx status an `http` error, and a user abort rejects with the signal's own reason.
 * The exchange has its own controller so that leaving a stream early can abort it without
 * touching the caller's signal.
 */
export async function open(exchange: Exchange, options: ResolvedOptions): Promise<OpenExchange> {
  const url = options.base + exchange.path;
  const user = options.signal;
  user?.throwIfAborted();
  const controller = new AbortController();
  const forward = (): void => controller.abort(user?.reason);
  user?.addEventListener('abort', forward, { once: true });
  const unlink = (): void => user?.removeEventListener('abort', forward);
  const context = { method: exchange.method, url, base: options.base, local: options.local };

  const headers = new Headers({ Accept: exchange.accept, 'User-Agent': `ollama-fetch/${VERSION}` });
  if (exchange.body !== undefined) headers.set('Content-Type', 'application/json');
  if (options.authorization !== undefined) headers.set('Authorization', options.authorization);
  options.headers.forEach((value, name) => headers.set(name, value));
  const init: RequestInit = { method: exchange.method, headers, signal: controller.signal };
  if (exchange.body !== undefined) init.body = JSON.stringify(exchange.body);

  // Called as a plain function: browsers reject a fetch invoked as a method of another object.
  const send = options.fetch;
  let response: Response;
  try {
    response = await send(url, init);
  } catch (error) {
    unlink();
    if (user?.aborted === true) throw user.reason;
    throw connectionError(error, context);
  }
  if (!response.ok) {
    try {
      throw await httpError(response, { method: exchange.method, url, model: exchange.model });
    } finally {
      unlink();
    }
  }
  return {
    response,
    url,
    failure(error, received) {
      if (user?.aborted === true) return user.reason;
      return isOllamaError(error) ? error : connectionError(error, { ...context, received });
    },
    close(finished) {
      unlink();
      if (!finished) controller.abort();
    },
  };
}

/** A call whose answer is one JSON object (embed, the model listing). */
export async function fetchJson(exchange: Exchange, options: ResolvedOptions): Promise<unknown> {
  const opened = await open(exchange, options);
  let finished = false;
  try {
    const value = await readJson(opened.response.body, options.maxLineLength, opened.url);
    finished = true;
    return value;
  } catch (error) {
    throw opened.failure(error, 0);
  } finally {
    opened.close(finished);
  }
}
