import { isOllamaError, type OllamaError, scrubbed, withNote, withStatus } from '../errors.ts';
import { MAX_DELAY_MS } from '../retry.ts';
import { VERSION } from '../version.ts';
import { connectionError, failureCode, malformedResponse } from './connection-error.ts';
import { contextOf, type Exchange, type RequestContext } from './exchange.ts';
import { isNoHeaders, redact } from './header-values.ts';
import { httpError } from './http-error.ts';
import { malformed } from './protocol-error.ts';
import { type BodyText, endedAfter, endedShort, parseJson, readText } from './read-body.ts';
import type { ResolvedOptions } from './resolve-options.ts';
import { link } from './signals.ts';
import { connectTimeoutError, readTimeoutError } from './timeout-error.ts';
import { transportFor } from './transport.ts';
import { webBody } from './web-body.ts';

/** An answered request whose body is still to be read (from `body`). */
export interface OpenExchange {
  response: Response;
  /** The response's body as a web stream (see `webBody`): what the readers read, never
   * `response.body` itself, which a `fetch` option may have made otherwise. */
  body: ReadableStream<Uint8Array> | null;
  context: RequestContext;
  /** Turns a failure met while reading the body into what the caller should see; `received`
   * is the number of chunks read before it. */
  failure(error: unknown, received: number): unknown;
  /** Ends what the attempt holds besides the body (a timer's link to the call's signal, where
   * the runtime needs one). Leaving a body early is its reader's to do: cancelling it closes the
   * connection, which stops Ollama generating. */
  release(): void;
  /** The runtime's own fetch carried it: its connection keeps the process alive while a read of
   * the body waits, so the body's timers need not. */
  runtimeFetch: boolean;
  /** The signal the attempt was sent with. Its body's reader must be cancelled when it aborts:
   * Node's fetch stops following it once its `Request` is collected, which a long stream
   * outlives, and an abort would then no longer close the connection (nodejs/node#55428). */
  signal: AbortSignal | undefined;
}

/** Marks the attempt's own abort when its deadline for the headers ran out. */
const SILENT = Symbol('read timeout');

/** The longest an error answer's body is read, from its headers on: enough for any real error
 * body, which arrives at once, and short enough that a server trickling one cannot hold a call.
 * A shorter `readTimeout` is the deadline instead. */
export const ERROR_BODY_DEADLINE = 10_000;

/** How long before the call's deadline an error body stops being read: time enough for the error
 * to be made and a retry refused before the total timer aborts the call. */
const DEADLINE_MARGIN = 5;

const USER_AGENT = `ollama-fetch/${VERSION}`;

/**
 * One attempt: sends one request and waits for its status. A fetch failure becomes a
 * `connection` error (or a timeout, or a `protocol` error for a response fetch could not take as
 * HTTP), a non-2xx status an `http` error, and an abort of `options.signal` (the call's signal:
 * the caller's and the total timeout) rejects with the signal's own reason.
 */
export async function send(exchange: Exchange, options: ResolvedOptions): Promise<OpenExchange> {
  const context = contextOf(exchange, options);
  const { signal, connectTimeout, readTimeout } = options;
  signal?.throwIfAborted();
  const transport = transportFor(connectTimeout, readTimeout, options.builtinFetch);

  // Where the runtime cannot time the connection apart, one deadline covers connecting and
  // waiting for the headers together, and the attempt needs a controller of its own for it;
  // otherwise the runtime times both phases, and the call's signal is all fetch needs.
  // Past setTimeout's ceiling (about 24.8 days) the sum of two long limits is no limit at all; a
  // timer given it would fire at once, with a warning.
  const sum = connectTimeout + readTimeout;
  const deadline = !transport.timesConnect && readTimeout > 0 && sum <= MAX_DELAY_MS ? sum : 0;
  let controller: AbortController | undefined;
  let release = noop;
  let headerTimer: ReturnType<typeof setTimeout> | undefined;
  if (deadline > 0) {
    const own = new AbortController();
    controller = own;
    release = link(signal, own);
    headerTimer = setTimeout(() => own.abort(SILENT), deadline);
  }
  const init: RequestInit = {
    ...transport.init,
    method: exchange.method,
    headers: headersFor(exchange, options),
    signal: controller?.signal ?? signal ?? null,
    // A redirect is an error, not followed: the request goes to the server named, or nowhere (a
    // POST redirected would arrive as a GET). It is also the one mode in which undici sends a
    // request without first copying it, body and all: a fifth of the CPU of a small call.
    redirect: 'error',
  };
  if (exchange.json !== undefined) init.body = exchange.json;
  if (exchange.bytes !== undefined) init.body = exchange.bytes as NonNullable<RequestInit['body']>; // the DOM's BodyInit, by another name

  // Called as a plain function: browsers reject a fetch invoked as a method of another object.
  const fetchOne = options.fetch;
  let response: Response;
  try {
    response = await fetchOne(context.url, init);
  } catch (error) {
    release();
    if (signal?.aborted === true) throw signal.reason;
    throw clean(fetchFailure(error, context, options, transport.timesConnect, deadline, controller), context);
  } finally {
    clearTimeout(headerTimer);
  }

  let body: ReadableStream<Uint8Array> | null;
  try {
    body = options.builtinFetch ? response.body : webBody(response);
  } catch (error) {
    release();
    throw error;
  }
  const { status } = response;
  const failure = (error: unknown, received: number): unknown => {
    if (signal?.aborted === true) return signal.reason;
    // Whatever the reader found wrong, a response had arrived: its status goes on the error. What
    // the server wrote into it (a line quoted in a message, bytes kept by a parser's error in the
    // cause) may quote the credential back.
    if (isOllamaError(error)) {
      const found = clean(error, context);
      return found.kind === 'protocol' ? withStatus(found, status) : found;
    }
    if (failureCode(error) === 'UND_ERR_BODY_TIMEOUT')
      return clean(readTimeoutError(context, { limit: undefined, received }, error), context);
    const found = malformedResponse(error);
    if (found !== undefined) return clean(malformed(context, found, status, error), context);
    return clean(connectionError(error, context, received), context);
  };

  if (!response.ok) {
    const own = readTimeout > 0 ? Math.min(readTimeout, ERROR_BODY_DEADLINE) : ERROR_BODY_DEADLINE;
    // Cut before the call's deadline, the error (and a retry refused for want of time) names the
    // status; cut by the deadline's abort, it would name the time only.
    const left = options.deadline === undefined ? own : options.deadline - performance.now() - DEADLINE_MARGIN;
    const limit = Math.max(0, Math.min(own, left));
    let cut = false;
    const bounded = endedAfter(body, limit, () => {
      cut = true;
    });
    let error: unknown;
    try {
      error = await (exchange.httpError ?? httpError)(response, bounded.body, context);
    } catch (failed) {
      error = failure(failed, 0);
    } finally {
      bounded.stop();
      release();
    }
    if (signal?.aborted === true) throw signal.reason;
    if (cut && isOllamaError(error)) {
      const when =
        limit < own ? 'when the call was about to run out of totalTimeout' : `${limit / 1000} s after the status`;
      error = withNote(error, `(The rest of its body had not arrived ${when}, so only what had is shown.)`);
    }
    throw error;
  }
  options.onResponse?.(response);
  return {
    response,
    body,
    context,
    failure,
    release,
    runtimeFetch: options.builtinFetch,
    signal: init.signal ?? undefined,
  };
}

/** What a failed fetch (no response) is, as the caller sees it. */
function fetchFailure(
  error: unknown,
  context: RequestContext,
  options: ResolvedOptions,
  timesConnect: boolean,
  deadline: number,
  controller: AbortController | undefined,
): OllamaError {
  const { connectTimeout, readTimeout } = options;
  if (controller?.signal.reason === SILENT) {
    return readTimeoutError(context, { limit: deadline, received: undefined, connectIncluded: connectTimeout }, error);
  }
  const code = failureCode(error);
  if (code === 'UND_ERR_CONNECT_TIMEOUT')
    return connectTimeoutError(context, timesConnect ? connectTimeout : undefined, error);
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    return readTimeoutError(context, { limit: timesConnect ? readTimeout : undefined, received: undefined }, error);
  }
  const found = malformedResponse(error);
  if (found !== undefined) return malformed(context, found, undefined, error);
  return connectionError(error, context);
}

/** `error` with every credential of the request taken out of what it quotes, its causes included:
 * a server may echo one back in the bytes a parser's error keeps, or in a line it sent. */
function clean(error: OllamaError, context: RequestContext): OllamaError {
  const { secrets } = context;
  return secrets === undefined || secrets.length === 0 ? error : scrubbed(error, (text) => redact(text, secrets));
}

function headersFor(exchange: Exchange, options: ResolvedOptions): Record<string, string> {
  // Lower-case names throughout, so that the caller's header replaces the library's own.
  const headers: Record<string, string> = { accept: exchange.accept, 'user-agent': USER_AGENT };
  if (exchange.json !== undefined) headers['content-type'] = 'application/json';
  if (exchange.bytes !== undefined) headers['content-type'] = 'application/octet-stream';
  if (options.authorization !== undefined) headers['authorization'] = options.authorization;
  if (!isNoHeaders(options.headers)) {
    options.headers.forEach((value, name) => {
      headers[name] = value;
    });
  }
  return headers;
}

/** Reads an attempt whose answer is one JSON object (embed, the model listing). */
export function readJson<T>(exchange: Exchange, options: ResolvedOptions): Promise<T> {
  return readWhole(
    exchange,
    options,
    (body, url) => parseJson(body, options.maxLineLength, url, options.secrets) as T,
    true,
  );
}

/** Reads an attempt answered with text or nothing (`/`, copy, delete, blobs). A body over
 * `maxLineLength` is cut there: nothing such an answer says needs more. */
export function readTextAnswer(exchange: Exchange, options: ResolvedOptions): Promise<string> {
  return readWhole(exchange, options, (body) => body.text);
}

async function readWhole<T>(
  exchange: Exchange,
  options: ResolvedOptions,
  parse: (body: BodyText, url: string) => T,
  json = false,
): Promise<T> {
  const opened = await send(exchange, options);
  try {
    const body = await readText(opened.body, options.maxLineLength, options.readTimeout, opened.signal, true, json);
    endedShort(body, json, () => readTimeoutError(opened.context, { limit: options.readTimeout, received: 0 }));
    return parse(body, opened.context.url);
  } catch (error) {
    throw opened.failure(error, 0);
  } finally {
    opened.release();
  }
}

function noop(): void {}
