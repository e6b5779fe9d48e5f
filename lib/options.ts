import { readEnv } from './env.ts';
import { parseHost } from './host.ts';
import { DEFAULT_MAX_LINE_LENGTH } from './lines.ts';

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
}

/** Every option checked and filled in, once, at the edge of a call. */
export interface ResolvedOptions {
  base: string;
  local: boolean;
  authorization: string | undefined;
  headers: Headers;
  signal: AbortSignal | undefined;
  fetch: FetchLike;
  maxLineLength: number;
}

export function resolveOptions(options: CallOptions | undefined): ResolvedOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    throw new TypeError(`options must be an object such as { host: 'http://127.0.0.1:11434' }, got ${describe(options)}`);
  }
  const { host, headers, signal, fetch: fetchOption, maxLineLength } = options ?? {};
  if (host !== undefined && typeof host !== 'string') {
    throw new TypeError(`options.host must be a string such as 'http://127.0.0.1:11434', got ${describe(host)}`);
  }
  if (signal !== undefined && !isSignal(signal)) {
    throw new TypeError(`options.signal must be an AbortSignal (e.g. AbortSignal.timeout(5000)), got ${describe(signal)}`);
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
  const parsed = parseHost(host ?? readEnv('OLLAMA_HOST'));
  return {
    base: parsed.base,
    local: parsed.local,
    authorization: parsed.authorization,
    headers: merged,
    signal,
    // Bound at the call, not import; and never called as a method, which browsers reject.
    fetch: fetchOption ?? ((input, init) => globalThis.fetch(input, init)),
    maxLineLength: limit,
  };
}

function isSignal(value: unknown): value is AbortSignal {
  return typeof value === 'object' && value !== null && typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string "${value.slice(0, 40)}"`;
  if (typeof value === 'object') return `an object (${Object.prototype.toString.call(value)})`;
  return `${typeof value} ${String(value)}`;
}
