import { readEnv } from './env.ts';
import { parseHost } from './host.ts';
import { DEFAULT_MAX_LINE_LENGTH } from './lines.ts';
import { count, delayValue, isDelay, MAX_DELAY_MS, type RetryInfo } from './retry.ts';

/** The shape of `fetch` the library needs; the runtime's own `fetch` fits it. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** Options accepted by every call, as its last argument. */
export interface CallOptions {
  /**
   * The Ollama server: `http://host:port`, with an optional path prefix for a reverse proxy
   * and optional `user:password@` (sent as Basic auth, never shown in errors). Parsed like
   * `OLLAMA_HOST`: `localhost` means `http://localhost:11434`, `:8080` means
   * `http://127.0.0.1:8080`.
   * @default the `OLLAMA_HOST` environment variable, read at each call (Node, Bun, and Deno
   * when env access is granted), else `http://127.0.0.1:11434`
   */
  host?: string | undefined;
  /**
   * Sent as `Authorization: Bearer <apiKey>`, for ollama.com or a proxy that wants a key. It
   * takes the place of credentials in `host`; an `Authorization` in `headers` beats both.
   * @default the `OLLAMA_API_KEY` environment variable, but only when the host is
   * `https://ollama.com`: a key is never sent to any other host unless you pass it here
   */
  apiKey?: string | undefined;
  /**
   * Extra request headers, merged over the library's defaults (`Content-Type`, `Accept`,
   * `User-Agent`); where both name a header, yours wins.
   * @default none
   */
  headers?: HeadersInit | undefined;
  /**
   * Cancels the call in any phase: connecting, waiting for the first byte (model load),
   * reading the stream. The call then rejects with `signal.reason`, as `fetch` does, and the
   * connection is closed so Ollama stops generating.
   * @default none
   */
  signal?: AbortSignal | undefined;
  /**
   * The `fetch` to use, for a proxy-aware or instrumented one. It must return a standard
   * `Response` with a streaming `body`.
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
   * @default 5000
   */
  connectTimeout?: number | undefined;
  /**
   * The longest silence allowed from the server, in milliseconds: while waiting for the first
   * byte (Ollama sends nothing until the model is loaded and the first token exists) and
   * between any two chunks after it. A long answer that keeps arriving never hits it. A read
   * timeout is not retried. `0` or `Infinity` turns it off.
   * @default 120000
   */
  readTimeout?: number | undefined;
  /**
   * The whole call, from the first attempt to the last chunk, every retry and every wait
   * between them included. A retry whose wait would end after it is not started. `0` or
   * `Infinity` means no limit.
   * @default no limit
   */
  totalTimeout?: number | undefined;
  /**
   * Retries of failures that happened before anything reached you: a connection that could not
   * be made or was dropped, a connect timeout, and the statuses in `statusCodes`. A number is
   * `{ retries: n }`; `false` is `{ retries: 0 }`. A stream is never retried once it has
   * yielded a chunk, so no token is ever repeated.
   * @default { retries: 2 }
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

/** A retry policy with every field filled in. */
export interface ResolvedRetry {
  retries: number;
  baseDelay: number;
  maxDelay: number;
  maxRetryAfter: number;
  statusCodes: ReadonlySet<number>;
  onRetry: ((info: RetryInfo) => unknown) | undefined;
}

export const DEFAULT_CONNECT_TIMEOUT = 5_000;
export const DEFAULT_READ_TIMEOUT = 120_000;
const DEFAULT_STATUS_CODES: readonly number[] = [408, 429, 502, 503, 504];

/** Every option checked and filled in, once, at the edge of a call. */
export interface ResolvedOptions {
  base: string;
  local: boolean;
  authorization: string | undefined;
  headers: Headers;
  signal: AbortSignal | undefined;
  fetch: FetchLike;
  /** The runtime's own fetch is in use, so runtime-specific request members can be passed. */
  builtinFetch: boolean;
  maxLineLength: number;
  /** Milliseconds; 0 means no limit. */
  connectTimeout: number;
  readTimeout: number;
  totalTimeout: number;
  retry: ResolvedRetry;
}

export function resolveOptions(options: CallOptions | undefined): ResolvedOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(
      `options must be an object such as { host: 'http://127.0.0.1:11434' }, got ${describe(options)}`,
    );
  }
  const { host, headers, signal, fetch: fetchOption, maxLineLength } = options ?? {};
  const connectTimeout = timeout(options?.connectTimeout, 'connectTimeout', DEFAULT_CONNECT_TIMEOUT);
  const readTimeout = timeout(options?.readTimeout, 'readTimeout', DEFAULT_READ_TIMEOUT);
  const totalTimeout = timeout(options?.totalTimeout, 'totalTimeout', 0);
  const retry = resolveRetry(options?.retry);
  if (host !== undefined && typeof host !== 'string') {
    throw new TypeError(`options.host must be a string such as 'http://127.0.0.1:11434', got ${describe(host)}`);
  }
  if (signal !== undefined && !isSignal(signal)) {
    throw new TypeError(
      `options.signal must be an AbortSignal (e.g. AbortSignal.timeout(5000)), got ${describe(signal)}`,
    );
  }
  if (fetchOption !== undefined && typeof fetchOption !== 'function') {
    throw new TypeError(`options.fetch must be a function with the signature of fetch, got ${describe(fetchOption)}`);
  }
  const limit = maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new RangeError(`options.maxLineLength must be a positive whole number of bytes, got ${String(limit)}`);
  }
  let merged: Headers;
  try {
    merged = new Headers(headers);
  } catch (error) {
    throw new TypeError(`options.headers is not a valid set of headers: ${(error as Error).message}`, { cause: error });
  }
  const { apiKey } = options ?? {};
  if (apiKey !== undefined && (typeof apiKey !== 'string' || apiKey.trim() === '' || /[\r\n]/.test(apiKey))) {
    throw new TypeError(
      'options.apiKey must be a non-empty string on one line, such as the key from ollama.com/settings/keys',
    );
  }
  const parsed = parseHost(host);
  let authorization = apiKey === undefined ? parsed.authorization : `Bearer ${apiKey.trim()}`;
  if (authorization === undefined && parsed.cloud) {
    const key = readEnv('OLLAMA_API_KEY')?.trim();
    if (key !== undefined && key !== '') authorization = `Bearer ${key}`;
  }
  return {
    base: parsed.base,
    local: parsed.local,
    authorization,
    headers: merged,
    signal,
    // Bound at the call, not import; and never called as a method, which browsers reject.
    fetch: fetchOption ?? ((input, init) => globalThis.fetch(input, init)),
    builtinFetch: fetchOption === undefined,
    maxLineLength: limit,
    connectTimeout,
    readTimeout,
    totalTimeout,
    retry,
  };
}

/** Milliseconds, with 0 and Infinity both meaning "no limit" (stored as 0). */
function timeout(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (value === Infinity) return 0;
  if (!isDelay(value)) {
    throw new RangeError(
      `options.${name} must be a number of milliseconds from 0 to ${MAX_DELAY_MS} (0 or Infinity turns it off), ` +
        `got ${describe(value)}`,
    );
  }
  return value;
}

function resolveRetry(value: unknown): ResolvedRetry {
  const policy: RetryPolicy =
    typeof value === 'number'
      ? { retries: value }
      : value === false
        ? { retries: 0 }
        : value === undefined || value === true
          ? {}
          : typeof value === 'object' && value !== null && !Array.isArray(value)
            ? value
            : invalid(value);
  const retries = count(policy.retries ?? 2, 'options.retry.retries');
  const baseDelay = delayValue(policy.baseDelay ?? 1000, 'options.retry.baseDelay');
  const maxDelay = delayValue(policy.maxDelay ?? 8000, 'options.retry.maxDelay');
  const maxRetryAfter = delayValue(policy.maxRetryAfter ?? 60_000, 'options.retry.maxRetryAfter');
  const codes = policy.statusCodes ?? DEFAULT_STATUS_CODES;
  if (!Array.isArray(codes) || !codes.every((code) => Number.isInteger(code) && code >= 100 && code <= 599)) {
    throw new RangeError(
      `options.retry.statusCodes must be an array of HTTP statuses (100-599), got ${describe(codes)}`,
    );
  }
  if (policy.onRetry !== undefined && typeof policy.onRetry !== 'function') {
    throw new TypeError(`options.retry.onRetry must be a function, got ${describe(policy.onRetry)}`);
  }
  return { retries, baseDelay, maxDelay, maxRetryAfter, statusCodes: new Set(codes), onRetry: policy.onRetry };
}

function invalid(value: unknown): never {
  throw new TypeError(
    `options.retry must be a number of retries, true, false, or an object such as { retries: 2 }, got ${describe(value)}`,
  );
}

function isSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function'
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string "${value.slice(0, 40)}"`;
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  return `${typeof value} ${String(value)}`;
}
