/**
 * What went wrong, as a plain fact a caller can switch on:
 * - `http`: the server answered with a non-2xx status;
 * - `stream`: the server reported an error inside a 200 stream (`{"error": …}` line);
 * - `protocol`: the bytes received are not a valid Ollama answer (not JSON, a line over the
 *   limit, invalid UTF-8, a stream that ended without its final `done: true` chunk);
 * - `connection`: no answer could be had (refused, reset, closed, DNS failure).
 */
export type OllamaErrorKind = 'http' | 'stream' | 'protocol' | 'connection';

export interface OllamaErrorInit {
  kind: OllamaErrorKind;
  message: string;
  status?: number | undefined;
  url?: string | undefined;
  body?: string | undefined;
  line?: string | undefined;
  cause?: unknown;
}

/** The one error class of the library. Every failure of a call rejects with it, except a
 * user abort, which rejects with the signal's own `reason` exactly as `fetch` does. */
export class OllamaError extends Error {
  override readonly name = 'OllamaError';
  readonly kind: OllamaErrorKind;
  /** The HTTP status, when a response was received (200 for an error inside a stream). */
  readonly status: number | undefined;
  /** The request URL, with any credentials removed. */
  readonly url: string | undefined;
  /** `http` errors: the response body as text (at most 64 KiB of it). */
  readonly body: string | undefined;
  /** `protocol` errors about one line: that line, cut to 200 characters. */
  readonly line: string | undefined;

  constructor(init: OllamaErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.kind = init.kind;
    this.status = init.status;
    this.url = init.url;
    this.body = init.body;
    this.line = init.line;
  }
}

/** `instanceof` fails when two copies of the library meet (a vendored one and a package);
 * this check does not. */
export function isOllamaError(value: unknown): value is OllamaError {
  if (value instanceof OllamaError) return true;
  const candidate = value as { name?: unknown; kind?: unknown } | null;
  return typeof candidate === 'object' && candidate !== null &&
    candidate.name === 'OllamaError' && typeof candidate.kind === 'string';
}

/** The same error seen from a known URL: the pure line splitter has no URL to name. */
export function withUrl(error: OllamaError, url: string): OllamaError {
  if (error.url !== undefined) return error;
  return new OllamaError({
    kind: error.kind,
    message: `${error.message} (from ${url})`,
    status: error.status,
    url,
    body: error.body,
    line: error.line,
    cause: error.cause,
  });
}

/** A short, single-line rendering of untrusted text for an error message: a server may send
 * megabytes or markup, and the message must stay readable. */
export function preview(text: string, max = 200): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max)}… (${text.length} characters in all)`;
}
