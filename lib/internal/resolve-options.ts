import { authorizationFor, parseHost } from '../host.ts';
import { lineLimit } from '../lines.ts';
import type { CallOptions, FetchLike, RetryPolicy } from '../options.ts';
import { count, delayValue, isDelay, MAX_DELAY_MS, type RetryInfo } from '../retry.ts';
import { checkedHeaders, headerValueProblem, secretsOf } from './header-values.ts';

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
/** The default statuses as a set, made at the first call (never at import) and shared: no one
 * changes a resolved policy. */
let defaultCodes: ReadonlySet<number> | undefined;

/** Every option checked and filled in, once, at the edge of a call. */
export interface ResolvedOptions {
  base: string;
  local: boolean;
  authorization: string | undefined;
  headers: Headers;
  /** The credentials the request carries, to be kept out of messages (see `redact`). */
  secrets: readonly string[];
  signal: AbortSignal | undefined;
  fetch: FetchLike;
  /** The runtime's own fetch is in use, so runtime-specific request members can be passed. */
  builtinFetch: boolean;
  maxLineLength: number;
  /** Milliseconds; 0 means no limit. */
  connectTimeout: number;
  readTimeout: number;
  totalTimeout: number;
  /** A call that is one part of a larger run (a batch of `embed`): the run's deadline
   * (`performance.now()` time) and its `totalTimeout`, which the run's own timer enforces. The
   * part uses them to refuse a retry whose wait would end after the deadline, and counts its
   * requests into `sent`, which the run's own timeout error reports as its attempts. */
  within?: { deadline: number; totalTimeout: number; sent: number } | undefined;
  /** The deadline (`performance.now()` time) of the call an attempt belongs to, set by the call
   * for its attempts: the body of an error answer is read only until shortly before it, so that
   * the error reports the status that did arrive, not only the time that ran out. */
  deadline?: number | undefined;
  retry: ResolvedRetry;
  /** Told of each 2xx response as it arrives, before its body is read (openai-node's
   * `withResponse()`); set by a caller inside the library, never by an option. */
  onResponse?: ((response: Response) => void) | undefined;
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
  const limit = lineLimit(maxLineLength, 'options.maxLineLength');
  const merged = checkedHeaders(headers);
  const { apiKey } = options ?? {};
  if (apiKey !== undefined) {
    const problem = typeof apiKey === 'string' ? keyProblem(apiKey) : `must be a string, got ${typeof apiKey}`;
    if (problem !== undefined) throw new TypeError(`options.apiKey ${problem}`);
  }
  const parsed = parseHost(host);
  const authorization = authorizationFor(parsed, apiKey);
  if (apiKey === undefined && parsed.authorization === undefined && authorization !== undefined) {
    const problem = keyProblem(authorization.slice('Bearer '.length));
    if (problem !== undefined) throw new TypeError(`the OLLAMA_API_KEY environment variable ${problem}`);
  }
  return {
    base: parsed.base,
    local: parsed.local,
    authorization,
    headers: merged,
    secrets: secretsOf(authorization, merged),
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

/** The fields of a retry policy: a misspelt one (`retires`) would silently be the default. */
const RETRY_FIELDS = ['retries', 'baseDelay', 'maxDelay', 'maxRetryAfter', 'statusCodes', 'onRetry'];

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
  for (const key in policy) {
    if (!RETRY_FIELDS.includes(key)) {
      throw new TypeError(`options.retry has no field "${key}": its fields are ${RETRY_FIELDS.join(', ')}`);
    }
  }
  const retries = count(policy.retries ?? 2, 'options.retry.retries');
  const baseDelay = delayValue(policy.baseDelay ?? 1000, 'options.retry.baseDelay');
  const maxDelay = delayValue(policy.maxDelay ?? 8000, 'options.retry.maxDelay');
  const maxRetryAfter = delayValue(policy.maxRetryAfter ?? 60_000, 'options.retry.maxRetryAfter');
  const codes = policy.statusCodes ?? DEFAULT_STATUS_CODES;
  if (codes === DEFAULT_STATUS_CODES) defaultCodes ??= new Set(codes);
  if (!Array.isArray(codes) || !codes.every((code) => Number.isInteger(code) && code >= 100 && code <= 599)) {
    throw new RangeError(
      `options.retry.statusCodes must be an array of HTTP statuses (100-599), got ${describe(codes)}`,
    );
  }
  if (policy.onRetry !== undefined && typeof policy.onRetry !== 'function') {
    throw new TypeError(`options.retry.onRetry must be a function, got ${describe(policy.onRetry)}`);
  }
  return {
    retries,
    baseDelay,
    maxDelay,
    maxRetryAfter,
    statusCodes: codes === DEFAULT_STATUS_CODES && defaultCodes !== undefined ? defaultCodes : new Set(codes),
    onRetry: policy.onRetry,
  };
}

function invalid(value: unknown): never {
  throw new TypeError(
    `options.retry must be a number of retries, true, false, or an object such as { retries: 2 }, got ${describe(value)}`,
  );
}

/** What is wrong with an API key, never quoting it; the whitespace around it (a key read from a
 * file with its newline) is trimmed before it is sent. */
function keyProblem(key: string): string | undefined {
  return key.trim() === '' ? 'is empty' : headerValueProblem(key.trim());
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
  // A long string may be a key or a URL with credentials passed in the wrong place: not shown.
  if (typeof value === 'string') {
    return value.length <= 16 && !/[@:]/.test(value) ? `the string "${value}"` : 'a string (not shown)';
  }
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  return `${typeof value} ${String(value)}`;
}
