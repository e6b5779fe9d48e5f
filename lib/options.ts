// The options every call takes, as the caller writes them. They are checked and filled in once,
// at the edge of each call, by internal/resolve-options.ts.
import type { RetryInfo } from './retry.ts';

/** The shape of `fetch` the library needs; the runtime's own `fetch` fits it. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/**
 * Request headers in any form `fetch` takes: a `Headers`, an object of names to values, or
 * `[name, value]` pairs. The DOM's `HeadersInit`, spelled out here so that the types need no DOM
 * library (a Node project with only `@types/node` has no `HeadersInit`), with one addition: in an
 * object, a header whose value is `undefined` is left out rather than sent as "undefined".
 */
export type HeadersInput = Headers | Record<string, string | undefined> | [string, string][];

/** Options accepted by every call, as its last argument. */
export interface CallOptions {
  /**
   * The Ollama server: `http://host:port`, with an optional path prefix for a reverse proxy
   * and optional `user:password@` (sent as Basic auth, never shown in errors). Parsed like
   * `OLLAMA_HOST`: `localhost` means `http://localhost:11434`, `:8080` means
   * `http://127.0.0.1:8080`. What is omitted takes its default; what is written must be
   * readable, or the call throws a `TypeError` naming `options.host` (or `OLLAMA_HOST`) before
   * any request: a port outside 1-65535, no host name after the scheme, a space, a query or
   * fragment, an unclosed `[`, a malformed `%` escape or an unescaped `/` in the password.
   * @default the `OLLAMA_HOST` environment variable, read at each call (Node, Bun, and Deno
   * when env access is granted), else `http://127.0.0.1:11434`
   */
  host?: string | undefined;
  /**
   * Sent as `Authorization: Bearer <apiKey>`, for ollama.com or a proxy that wants a key. It
   * takes the place of credentials in `host`; an `Authorization` in `headers` beats both.
   * Surrounding whitespace is trimmed; a control character, a line break or a character beyond
   * U+00FF inside it is a `TypeError` naming `apiKey` (the key itself is never shown). The same
   * holds for `OLLAMA_API_KEY`.
   * @default the `OLLAMA_API_KEY` environment variable, but only when the host is
   * `https://ollama.com`: a key is never sent to any other host unless you pass it here
   */
  apiKey?: string | undefined;
  /**
   * Extra request headers, merged over the library's defaults (`Content-Type`, `Accept`,
   * `User-Agent`); where both name a header, yours wins. Each is checked before fetch sees
   * it: a name that is not an HTTP token, or a value with a control character (a tab aside),
   * CR, LF, NUL or a character beyond U+00FF, is a `TypeError` naming the header
   * (`headers["authorization"]`) and never showing its value.
   * @default none
   */
  headers?: HeadersInput | undefined;
  /**
   * Cancels the call in any phase: connecting, waiting for the first byte (model load),
   * reading the stream. The call then rejects with `signal.reason`, as `fetch` does, and the
   * connection is closed so Ollama stops generating.
   * @default none
   */
  signal?: AbortSignal | undefined;
  /**
   * The `fetch` to use, for a proxy-aware or instrumented one. It returns a standard `Response`;
   * a body that is a Node stream (node-fetch 2) is read as one, and a Response without a body
   * (React Native's) is read whole through `arrayBuffer()`, so its chunks arrive at the end and
   * `readTimeout` then bounds the whole answer.
   * @default `globalThis.fetch`, looked up at each call
   */
  fetch?: FetchLike | undefined;
  /**
   * The longest NDJSON line or JSON body accepted, in bytes. A longer one fails with kind
   * `protocol` instead of exhausting memory.
   * @default 67108864 (64 MiB)
   */
  maxLineLength?: number | undefined;
  /**
   * The longest wait for the TCP (and TLS) connection to be established, and for nothing else:
   * a server that accepted the connection and is slow to answer is governed by `readTimeout`.
   * A connect timeout is retried. `0` or `Infinity` turns it off. Where the runtime's fetch
   * cannot tell connecting from waiting (browsers, Deno, a `fetch` option), it is added to
   * `readTimeout` to make one deadline for the response headers; the README says which runtime
   * gets what.
   * @default 5000 (2000 for `isRunning`)
   */
  connectTimeout?: number | undefined;
  /**
   * The longest silence allowed from the server, in milliseconds: while waiting for the first
   * byte (Ollama sends nothing until the model is loaded and the first token exists) and
   * between any two chunks after it. A long answer that keeps arriving never hits it. A read
   * timeout is not retried. `0` or `Infinity` turns it off. The body of an error answer (a
   * non-2xx status) gets a deadline of its own: it is read for at most this long or 10 s,
   * whichever is shorter (10 s when this is off), then the error reports what had arrived.
   * @default 120000 (3000 for `isRunning`, whose answer is a few bytes sent at once)
   */
  readTimeout?: number | undefined;
  /**
   * The whole call, from the first attempt to the last chunk, every retry and every wait
   * between them included. A retry whose wait would end after it is not started. `0` or
   * `Infinity` means no limit.
   * @default no limit (for `isRunning` without `retry`: `connectTimeout + readTimeout`, 5000
   * with both defaults)
   */
  totalTimeout?: number | undefined;
  /**
   * Retries of failures that happened before anything reached you: a connection that could not
   * be made or was dropped, a connect timeout, and the statuses in `statusCodes`. A number is
   * `{ retries: n }`; `false` is `{ retries: 0 }`. A stream is never retried once it has
   * yielded a chunk, so no token is ever repeated.
   * @default { retries: 2 } (`isRunning`: no retry unless this is given)
   */
  retry?: number | boolean | RetryPolicy | undefined;
}

/** How a call retries; every field is optional. */
export interface RetryPolicy {
  /**
   * Attempts after the first.
   * @default 2
   */
  retries?: number | undefined;
  /**
   * Backoff before the first retry; it doubles for each one after, with jitter.
   * @default 1000
   */
  baseDelay?: number | undefined;
  /**
   * No backoff is longer than this (a `Retry-After` the server sends is obeyed as sent, up to
   * `maxRetryAfter`).
   * @default 8000
   */
  maxDelay?: number | undefined;
  /**
   * The longest `Retry-After` obeyed, in milliseconds. When the server asks for a longer wait,
   * the call fails at once with that `http` error, the wait it asked for on `retryAfter`.
   * Read are `retry-after-ms` (milliseconds, sent by OpenAI-compatible servers; preferred when
   * valid) and `Retry-After` as delta-seconds (a fraction such as `1.5` honoured as seconds) or
   * an HTTP date in any of RFC 9110's three forms. Any other value (`-5`, `5,5`, `2, 3`, a
   * date in another format) is ignored, and the backoff applies.
   * @default 60000
   */
  maxRetryAfter?: number | undefined;
  /**
   * HTTP statuses worth another attempt. 500 is not among them by default: Ollama's 500s are
   * deterministic (a bad option, out of memory).
   * @default [408, 429, 502, 503, 504]
   */
  statusCodes?: readonly number[] | undefined;
  /**
   * Called before each wait with the attempt that failed (from 1), the retries left, the wait
   * in milliseconds and the error.
   * @default none
   */
  onRetry?: ((info: RetryInfo) => unknown) | undefined;
}
