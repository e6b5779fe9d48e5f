import { isOllamaError, withStatus } from '../errors.ts';
import { VERSION } from '../version.ts';
import { connectionError, failureCode } from './connection-error.ts';
import { contextOf, type Exchange, type RequestContext } from './exchange.ts';
import { httpError } from './http-error.ts';
import { watchIdle } from './idle.ts';
import { readJsonBody, readText } from './read-body.ts';
import type { ResolvedOptions } from './resolve-options.ts';
import { link } from './signals.ts';
import { connectTimeoutError, readTimeoutError } from './timeout-error.ts';
import { transportFor } from './transport.ts';

/** An answered request whose body is still to be read. */
export interface OpenExchange {
  response: Response;
  /** The response body, to be read instead of `response.body`: it is watched by the read
   * timeout. */
  body: ReadableStream<Uint8Array> | null;
  context: RequestContext;
  /** Turns a failure met while reading the body into what the caller should see. */
  failure(error: unknown, received: number): unknown;
  /** Ends the exchange; an unfinished body is aborted, which closes the connection and so
   * stops Ollama generating. */
  close(finished: boolean): void;
}

/** Marks the exchange's own abort when the read timer ran out, to tell it from any other. */
const SILENT = Symbol('read timeout');

/**
 * One attempt: sends one request and waits for its status. A fetch failure becomes a
 * `connection` error (or a timeout), a non-2xx status an `http` error, and an abort of
 * `options.signal` rejects with the signal's own reason. The exchange has its own controller,
 * so that leaving a stream early or a timer running out can abort it without touching the
 * caller's signal.
 */
export async function send(exchange: Exchange, options: ResolvedOptions): Promise<OpenExchange> {
  const context = contextOf(exchange, options);
  const { url } = context;
  const user = options.signal;
  user?.throwIfAborted();
  const controller = new AbortController();
  const unlink = link(user, controller);

  const headers = new Headers({ Accept: exchange.accept, 'User-Agent': `ollama-fetch/${VERSION}` });
  if (exchange.json !== undefined) headers.set('Content-Type', 'application/json');
  if (exchange.bytes !== undefined) headers.set('Content-Type', 'application/octet-stream');
  if (options.authorization !== undefined) headers.set('Authorization', options.authorization);
  options.headers.forEach((value, name) => {
    headers.set(name, value);
  });
  const transport = transportFor(options.connectTimeout, options.readTimeout, options.builtinFetch);
  const init: RequestInit = { ...transport.init, method: exchange.method, headers, signal: controller.signal };
  if (exchange.json !== undefined) init.body = exchange.json;
  if (exchange.bytes !== undefined) init.body = exchange.bytes as NonNullable<RequestInit['body']>; // the DOM's BodyInit, by another name

  // Where the runtime cannot time the connection apart, one deadline covers connecting and
  // waiting for the headers together; otherwise the runtime times both phases itself.
  const { connectTimeout, readTimeout } = options;
  const deadline = !transport.timesConnect && readTimeout > 0 ? connectTimeout + readTimeout : 0;
  const headerTimer = deadline > 0 ? setTimeout(() => controller.abort(SILENT), deadline) : undefined;

  // Called as a plain function: browsers reject a fetch invoked as a method of another object.
  const fetchOne = options.fetch;
  let response: Response;
  try {
    response = await fetchOne(url, init);
  } catch (error) {
    unlink();
    if (user?.aborted === true) throw user.reason;
    if (controller.signal.reason === SILENT) {
      throw readTimeoutError(context, { limit: deadline, received: undefined, connectIncluded: connectTimeout }, error);
    }
    const code = failureCode(error);
    if (code === 'UND_ERR_CONNECT_TIMEOUT') {
      throw connectTimeoutError(context, transport.timesConnect ? connectTimeout : undefined, error);
    }
    if (code === 'UND_ERR_HEADERS_TIMEOUT') {
      throw readTimeoutError(
        context,
        { limit: transport.timesConnect ? readTimeout : undefined, received: undefined },
        error,
      );
    }
    throw connectionError(error, context);
  } finally {
    clearTimeout(headerTimer);
  }

  const body =
    response.body !== null && readTimeout > 0
      ? watchIdle(response.body, readTimeout, () => {
          controller.abort(SILENT);
          return SILENT;
        })
      : response.body;
  const failure = (error: unknown, received: number | undefined): unknown => {
    if (user?.aborted === true) return user.reason;
    if (controller.signal.reason === SILENT)
      return readTimeoutError(context, { limit: readTimeout, received: received ?? 0 });
    // Whatever the reader found wrong, a response had arrived: its status goes on the error.
    if (isOllamaError(error)) return error.kind === 'protocol' ? withStatus(error, response.status) : error;
    if (failureCode(error) === 'UND_ERR_BODY_TIMEOUT')
      return readTimeoutError(context, { limit: undefined, received: received ?? 0 }, error);
    return connectionError(error, context, received);
  };

  if (!response.ok) {
    let error: unknown;
    try {
      error = await (exchange.httpError ?? httpError)(response, body, context);
    } catch (failed) {
      error = failure(failed, undefined);
    } finally {
      unlink();
    }
    if (user?.aborted === true) throw user.reason;
    throw error;
  }
  return {
    response,
    body,
    context,
    failure,
    close(finished) {
      unlink();
      if (!finished) controller.abort();
    },
  };
}

/** Reads an attempt whose answer is one JSON object (embed, the model listing). */
export function readJson<T>(exchange: Exchange, options: ResolvedOptions): Promise<T> {
  return readWhole(exchange, options, (body, url) => readJsonBody(body, options.maxLineLength, url) as Promise<T>);
}

/** Reads an attempt answered with text or nothing (`/`, copy, delete, blobs). A body over
 * `maxLineLength` is cut there: nothing such an answer says needs more. */
export function readTextAnswer(exchange: Exchange, options: ResolvedOptions): Promise<string> {
  return readWhole(exchange, options, async (body) => (await readText(body, options.maxLineLength)).text);
}

async function readWhole<T>(
  exchange: Exchange,
  options: ResolvedOptions,
  read: (body: ReadableStream<Uint8Array> | null, url: string) => Promise<T>,
): Promise<T> {
  const opened = await send(exchange, options);
  let finished = false;
  try {
    const value = await read(opened.body, opened.context.url);
    finished = true;
    return value;
  } catch (error) {
    throw opened.failure(error, 0);
  } finally {
    opened.close(finished);
  }
}
