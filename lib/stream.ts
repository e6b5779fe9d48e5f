import { readJson } from './body.ts';
import { OllamaError, preview } from './errors.ts';
import { readNdjson } from './ndjson.ts';
import type { ResolvedOptions } from './options.ts';
import { open, type Exchange } from './request.ts';

type Chunk = Record<string, unknown>;

/** The chunk that ends a stream, how an error message names it, and whether anything may
 * follow one. */
export interface FinalChunk {
  is(chunk: Chunk): boolean;
  name: string;
  terminal: boolean;
}

/** The end of a chat or generate stream: nothing may follow it. */
export const DONE: FinalChunk = { is: (chunk) => chunk.done === true, name: '"done": true', terminal: true };

/** The end of a pull, push or create. Only the last line counts: a create whose base model must
 * be pulled first carries the pull's own success line in the middle. */
export const SUCCESS: FinalChunk = {
  is: (chunk) => chunk.status === 'success',
  name: '"status": "success"',
  terminal: false,
};

/**
 * The objects of one attempt at a streaming endpoint, each yielded as soon as its line is
 * complete.
 * It enforces what Ollama promises: every chunk is a JSON object, an `{"error": …}` chunk
 * ends the stream with a `stream` error (what came before stays delivered), and the stream
 * ends with its `final` chunk, or else with a `protocol` error, never with a
 * silent early end. Ollama answers load and unload requests with one plain JSON object;
 * that arrives as a stream of one.
 */
export async function* streamObjects(
  exchange: Exchange,
  options: ResolvedOptions,
  final: FinalChunk,
): AsyncGenerator<Chunk, void, undefined> {
  const opened = await open(exchange, options);
  const { response, body, url } = opened;
  const where = `${exchange.method} ${url}`;
  let received = 0;
  let last = false;
  let ended = false;
  try {
    const source =
      body === null
        ? none()
        : (response.headers.get('content-type') ?? '').includes('application/json')
          ? single(readJson(body, options.maxLineLength, url))
          : readNdjson(body, { url, maxLineLength: options.maxLineLength });
    for await (const value of source) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw new OllamaError({
          kind: 'protocol',
          message: `Chunk ${received + 1} of ${where} is not a JSON object: ${preview(JSON.stringify(value), 120)}.`,
          status: response.status,
          url,
        });
      }
      const chunk = value as Chunk;
      if ('error' in chunk) {
        const text = typeof chunk.error === 'string' ? chunk.error : JSON.stringify(chunk.error);
        throw new OllamaError({
          kind: 'stream',
          message: `Ollama reported an error after ${received} chunk(s) of ${where}: ${text}`,
          status: response.status,
          url,
        });
      }
      if (last && final.terminal) {
        throw new OllamaError({
          kind: 'protocol',
          message: `${where} sent more data after its final chunk: ${preview(JSON.stringify(chunk), 120)}.`,
          status: response.status,
          url,
        });
      }
      received++;
      last = final.is(chunk);
      yield chunk;
    }
    ended = true;
  } catch (error) {
    throw opened.failure(error, received);
  } finally {
    opened.close(ended);
  }
  if (!last) {
    throw new OllamaError({
      kind: 'protocol',
      message:
        `The stream of ${where} ended after ${received} chunk(s) without its final chunk (${final.name}); ` +
        'the answer is incomplete. The server or a proxy closed it early.',
      status: response.status,
      url,
    });
  }
}

async function* single(value: Promise<unknown>): AsyncGenerator<unknown, void, undefined> {
  yield await value;
}

async function* none(): AsyncGenerator<unknown, void, undefined> {}
