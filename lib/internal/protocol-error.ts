import { OllamaError, preview } from '../errors.ts';
import type { RequestContext } from './exchange.ts';
import { redact } from './header-values.ts';

// The errors about what a server sent: `protocol` when the bytes are not a valid answer,
// `stream` when the server itself reported a failure inside a 200 stream. Each builder takes the
// request's context, so every message names the request the same way.

function where(context: RequestContext): string {
  return `${context.method} ${context.url}`;
}

/** A short rendering of a parsed value; never throws, whatever the value (a cycle, deep nesting). */
export function previewValue(value: unknown, max = 120): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  return text === undefined ? `(a ${typeof value} that cannot be shown)` : preview(text, max);
}

export function notAnObject(context: RequestContext, status: number, index: number, value: unknown): OllamaError {
  return new OllamaError({
    kind: 'protocol',
    message: `Chunk ${index} of ${where(context)} is not a JSON object: ${previewValue(value)}.`,
    status,
    url: context.url,
  });
}

/** An `{"error": …}` line inside a 200 stream: the server's own words, after what it delivered. */
export function inBandError(context: RequestContext, status: number, received: number, said: unknown): OllamaError {
  const text = redact(typeof said === 'string' ? said : previewValue(said, 500), context.secrets);
  return new OllamaError({
    kind: 'stream',
    message: `Ollama reported an error after ${received} chunk(s) of ${where(context)}: ${text}`,
    status,
    url: context.url,
    body: text,
  });
}

/**
 * A response fetch could not take as HTTP (a redirect loop, oversized headers, malformed framing,
 * a body that does not decompress): what the server or a proxy sent, so no retry would help.
 * `status` is known when the headers had arrived.
 */
export function malformed(
  context: RequestContext,
  found: { what: string; code: string | undefined; next?: string | undefined },
  status: number | undefined,
  cause: unknown,
): OllamaError {
  const next = found.next ?? 'Check the host, and any proxy in front of Ollama.';
  return new OllamaError({
    kind: 'protocol',
    message: `The server at ${context.base} ${found.what} for ${where(context)}, so it was not retried. ${next}`,
    status,
    url: context.url,
    code: found.code,
    cause,
  });
}

export function incomplete(context: RequestContext, status: number, received: number, finalName: string): OllamaError {
  return new OllamaError({
    kind: 'protocol',
    message:
      `The stream of ${where(context)} ended after ${received} chunk(s) without its final chunk (${finalName}); ` +
      'the answer is incomplete. The server or a proxy closed it early.',
    status,
    url: context.url,
  });
}

export function bodyTooLarge(url: string, limit: number): OllamaError {
  return new OllamaError({
    kind: 'protocol',
    message:
      `The response from ${url} is larger than the limit of ${limit} bytes. Raise maxLineLength if ` +
      'such a large answer is expected.',
    url,
  });
}

export function bodyNotText(url: string): OllamaError {
  return new OllamaError({
    kind: 'protocol',
    message:
      `The response from ${url} is not valid UTF-8 text: the server or a proxy sent corrupted bytes, and ` +
      'reading it anyway would put U+FFFD in place of what it said.',
    url,
  });
}

export function bodyNotJson(url: string, text: string, cause: unknown): OllamaError {
  return new OllamaError({
    kind: 'protocol',
    message:
      `The response from ${url} is not JSON: "${preview(text, 120)}".` +
      // A web page where JSON was asked: not Ollama at all.
      (/^\s*</.test(text)
        ? " It is a web page: check the host, port (Ollama's is 11434) and path prefix, or a proxy wants a login."
        : ''),
    url,
    line: text.slice(0, 200),
    cause,
  });
}

/** An answer that has none of the fields every answer of its endpoint has (one is enough): not
 * Ollama's. */
export function notOllama(context: RequestContext, fields: readonly string[], value: unknown): OllamaError {
  return new OllamaError({
    kind: 'protocol',
    message:
      `The answer of ${where(context)} has no ${fields.map((field) => `"${field}"`).join(' or ')} field, so it is ` +
      `not Ollama's: ${redact(previewValue(value), context.secrets)}. Check that the host is an Ollama server.`,
    status: 200,
    url: context.url,
  });
}

export function vectorCount(context: RequestContext, sent: number, got: number | undefined): OllamaError {
  return new OllamaError({
    kind: 'protocol',
    message:
      `${where(context)} was sent ${sent} input(s) and answered with ${got ?? 'no list of'} vector(s), ` +
      'so they cannot be matched to their inputs. The server or a proxy in front of it is at fault.',
    status: 200,
    url: context.url,
  });
}
