import type { Message } from './types.ts';

/**
 * What went wrong, as a plain fact a caller can switch on:
 * - `http`: the server answered with a non-2xx status;
 * - `stream`: the server reported an error inside a 200 stream (`{"error": …}` line);
 * - `protocol`: the bytes received are not a valid Ollama answer (not JSON, a line over the
 *   limit, invalid UTF-8, a stream that ended without its final `done: true` chunk);
 * - `connection`: no answer could be had (refused, reset, closed, DNS failure);
 * - `connect-timeout`: the connection was not established within `connectTimeout`;
 * - `read-timeout`: the server was silent for longer than `readTimeout`, before its first byte
 *   or between two chunks;
 * - `total-timeout`: the whole call, retries included, did not finish within `totalTimeout`;
 * - `tool`: the tool loop (`runTools`) could not go on: `maxRounds` was reached, or the model
 *   called a tool that does not exist while `onToolError` is `'stop'`.
 */
export type OllamaErrorKind =
  | 'http'
  | 'stream'
  | 'protocol'
  | 'connection'
  | 'connect-timeout'
  | 'read-timeout'
  | 'total-timeout'
  | 'tool';

export interface OllamaErrorInit {
  kind: OllamaErrorKind;
  message: string;
  status?: number | undefined;
  url?: string | undefined;
  body?: string | undefined;
  line?: string | undefined;
  code?: string | undefined;
  retryAfter?: number | undefined;
  attempts?: number | undefined;
  requestId?: string | undefined;
  rateLimit?: RateLimit | undefined;
  shouldRetry?: boolean | undefined;
  cause?: unknown;
}

/** The `x-ratelimit-*` headers of an answer, parsed: counts as numbers, resets in milliseconds. */
export interface RateLimit {
  limitRequests?: number;
  limitTokens?: number;
  remainingRequests?: number;
  remainingTokens?: number;
  /** Milliseconds until the request budget is full again (`6m0s` → 360000). */
  resetRequests?: number;
  resetTokens?: number;
}

/** The one error class of the library. Every failure of a call rejects with it, except a
 * user abort, which rejects with the signal's own `reason` exactly as `fetch` does. */
export class OllamaError extends Error {
  // The published build is minified, which renames classes; a stack trace or `util.inspect`
  // should still say OllamaError.
  static {
    Object.defineProperty(OllamaError, 'name', { value: 'OllamaError' });
  }
  override readonly name = 'OllamaError';
  readonly kind: OllamaErrorKind;
  /** The HTTP status, when a response was received (200 for an error inside a stream). */
  readonly status: number | undefined;
  /** The request URL, with any credentials removed. */
  readonly url: string | undefined;
  /** `http` errors: the response body as text (at most 64 KiB of it). `stream` errors: the
   * server's own words from its `{"error": …}` line. */
  readonly body: string | undefined;
  /** `protocol` errors about one line: that line, cut to 200 characters. */
  readonly line: string | undefined;
  /** `connection` errors: the system's name for the failure when one is known
   * (`ECONNREFUSED`, `ECONNRESET`, `ENOTFOUND`, `EAI_AGAIN`, `UND_ERR_SOCKET`, …); /v1 `http`
   * and `stream` errors: the server's own error `code` (`rate_limit_exceeded`, `402`, …). */
  readonly code: string | undefined;
  /** `http` errors: the wait the server asked for with `Retry-After`, in milliseconds. */
  readonly retryAfter: number | undefined;
  /** How many requests the call made before it gave up; 0 when it failed before sending. */
  readonly attempts: number;
  // The /v1 fields are set by the constructor alone (`declare`: no class-field definitions in
  // the root bundle, which has a byte budget).
  /** /v1 calls: the server's `x-request-id`, to quote to its operator. */
  declare readonly requestId: string | undefined;
  /** /v1 `http` errors: the `x-ratelimit-*` headers the answer carried, when it had any. */
  declare readonly rateLimit: RateLimit | undefined;
  /** /v1 `http` errors: the server's `x-should-retry` (true or false), which beats the status list. */
  declare readonly shouldRetry: boolean | undefined;
  /**
   * Errors that end the tool loop (`runTools`, `runToolsStream`): the conversation as far as it
   * got, to go on from, so that nothing the tools did is lost: the request's messages, then each
   * finished round's assistant message and tool results. When the loop ended while a round's tools
   * ran, or at `maxRounds`, it ends with that round's assistant message, whose calls have no
   * results yet. Not set on what the caller's own code threw (a tool's error, an abort reason).
   */
  declare readonly messages: Message[] | undefined;
  /** Errors that end the tool loop: the chat requests it made, the last one included. */
  declare readonly rounds: number | undefined;

  constructor(init: OllamaErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    this.status = init.status;
    this.url = init.url;
    this.body = init.body;
    this.line = init.line;
    this.code = init.code;
    this.retryAfter = init.retryAfter;
    this.attempts = init.attempts ?? 0;
    this.requestId = init.requestId;
    this.rateLimit = init.rateLimit;
    this.shouldRetry = init.shouldRetry;
  }
}

/** `instanceof` fails when two copies of the library meet (a vendored one and a package);
 * this check does not. */
export function isOllamaError(value: unknown): value is OllamaError {
  if (value instanceof OllamaError) return true;
  const candidate = value as { name?: unknown; kind?: unknown } | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    candidate.name === 'OllamaError' &&
    typeof candidate.kind === 'string'
  );
}

/** The same error seen from a known URL: the pure line splitter has no URL to name. */
export function withUrl(error: OllamaError, url: string): OllamaError {
  if (error.url !== undefined) return error;
  return copy(error, { message: `${error.message} (from ${url})`, url });
}

/** The error as the caller finally sees it: it says how many attempts were made. */
export function withAttempts(error: OllamaError, attempts: number): OllamaError {
  if (error.attempts === attempts) return error;
  const said = attempts > 1 ? ` Gave up after ${attempts} attempts.` : '';
  return copy(error, { message: error.message + said, attempts });
}

/** The same error with the status of the response it was found in. */
export function withStatus(error: OllamaError, status: number): OllamaError {
  return error.status === undefined ? copy(error, { status }) : error;
}

/** The same error with `scrub` applied to each text a server may have written into it (the
 * message, the line, the body); the error itself when that changes nothing. */
export function scrubbed(error: OllamaError, scrub: (text: string) => string): OllamaError {
  const message = scrub(error.message);
  const line = error.line === undefined ? undefined : scrub(error.line);
  const body = error.body === undefined ? undefined : scrub(error.body);
  const cause = scrubbedCause(error.cause, scrub);
  if (message === error.message && line === error.line && body === error.body && cause === error.cause) return error;
  return copy(error, { message, line, body, cause });
}

/** A cause that quotes what the server sent (JSON.parse's message quotes the start of the text
 * it could not read; undici's parser errors keep the bytes they choked on in `data`), at any depth
 * of the chain, is replaced by a copy of the same class with its text fields scrubbed. */
function scrubbedCause(cause: unknown, scrub: (text: string) => string, depth = 0): unknown {
  if (!(cause instanceof Error) || depth > 4) return cause;
  const message = scrub(cause.message);
  const inner = scrubbedCause(cause.cause, scrub, depth + 1);
  const fields: Record<string, unknown> = {};
  let changed = message !== cause.message || inner !== cause.cause;
  for (const [name, value] of Object.entries(cause)) {
    const clean = typeof value === 'string' ? scrub(value) : value;
    if (clean !== value) changed = true;
    fields[name] = clean;
  }
  if (!changed) return cause;
  const copy = Object.create(Object.getPrototypeOf(cause) as object) as Error;
  Object.defineProperty(copy, 'message', { value: message, writable: true, configurable: true });
  if (inner !== undefined) Object.defineProperty(copy, 'cause', { value: inner, writable: true, configurable: true });
  Object.assign(copy, fields);
  Object.defineProperty(copy, 'stack', {
    value: cause.stack === undefined ? undefined : scrub(cause.stack),
    writable: true,
    configurable: true,
  });
  return copy;
}

/** The same error with one more sentence. */
export function withNote(error: OllamaError, note: string): OllamaError {
  return copy(error, { message: `${error.message} ${note}` });
}

function copy(error: OllamaError, change: Partial<OllamaErrorInit>): OllamaError {
  // Every field is an own enumerable property; `message` and `cause` (Error's own) are not.
  const fresh = new OllamaError({ ...error, message: error.message, cause: error.cause, ...change });
  // Fields an entry point added without making them enumerable (`/v1`'s `headers`, `error`, …)
  // belong to the copy too.
  for (const name of Object.getOwnPropertyNames(error)) {
    if (name === 'stack' || name === 'message' || name === 'cause' || Object.hasOwn(fresh, name)) continue;
    const field = Object.getOwnPropertyDescriptor(error, name);
    if (field !== undefined && !field.enumerable) Object.defineProperty(fresh, name, field);
  }
  // The place it was first thrown says more than the place it was relabelled.
  if (error.stack !== undefined) fresh.stack = error.stack.replace(error.message, fresh.message);
  return fresh;
}

/** A short, single-line rendering of untrusted text for an error message: a server may send
 * megabytes or markup, and the message must stay readable. */
export function preview(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max)}… (${text.length} characters in all)`;
}

// The `protocol` errors of the public readers (LineSplitter, readNdjson), which know no request:
// the machinery adds the URL with `withUrl`.

export function invalidText(cutOff: boolean, cause: unknown): OllamaError {
  return new OllamaError({
    kind: 'protocol',
    message: cutOff
      ? 'The stream ended in the middle of a multi-byte UTF-8 character; the answer was cut off.'
      : 'The stream is not valid UTF-8 text; the server or a proxy sent corrupted bytes.',
    cause,
  });
}

export function lineTooLong(max: number, length: number): OllamaError {
  return new OllamaError({
    kind: 'protocol',
    message:
      `A line of the stream grew past the limit of ${max} bytes (at least ${length} before its line break). ` +
      'Raise maxLineLength if such a long line is expected; otherwise the server ' +
      'is not sending NDJSON.',
  });
}

export function notJsonLine(index: number, url: string | undefined, line: string, cause: unknown): OllamaError {
  return new OllamaError({
    kind: 'protocol',
    message:
      `Line ${index} of the stream${url === undefined ? '' : ` from ${url}`} ` +
      `is not JSON: "${preview(line, 120)}". The server is not speaking Ollama's NDJSON, or a proxy ` +
      'rewrote the response.',
    url,
    line: line.length > 200 ? line.slice(0, 200) : line,
    cause,
  });
}

/** The event splitter's limit (lib/openai/sse.ts): an event that never ends. */
export function eventTooLarge(max: number, size: number): OllamaError {
  return new OllamaError({
    kind: 'protocol',
    message:
      `An event of the stream grew past the limit of ${max} characters (at least ${size} so far) without ` +
      'the blank line that ends it. Raise maxLineLength if such a large event is expected; otherwise the ' +
      'server is not sending a valid event stream.',
  });
}
