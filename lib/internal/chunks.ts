import { readNdjson } from '../ndjson.ts';
import { send } from './attempt.ts';
import type { Exchange, FinalChunk } from './exchange.ts';
import { afterFinal, inBandError, incomplete, notAnObject } from './protocol-error.ts';
import { readJsonBody } from './read-body.ts';
import type { ResolvedOptions } from './resolve-options.ts';

type Chunk = Record<string, unknown>;

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
 * Reads one attempt at a streaming endpoint: its objects, each yielded as soon as its line is
 * complete. It enforces Ollama's chunk rules: every chunk is a JSON object, an `{"error": …}`
 * chunk ends the stream with a `stream` error (what came before stays delivered), and the
 * stream ends with the exchange's final chunk, or else with a `protocol` error, never with a
 * silent early end. Ollama answers load and unload requests with one plain JSON object; that
 * arrives as a stream of one.
 */
export async function* readChunks<T>(exchange: Exchange, options: ResolvedOptions): AsyncGenerator<T, void, undefined> {
  const final = exchange.final ?? DONE;
  const opened = await send(exchange, options);
  const { response, body, context } = opened;
  const { url } = context;
  let received = 0;
  let last = false;
  let ended = false;
  try {
    const source =
      body === null
        ? none()
        : (response.headers.get('content-type') ?? '').includes('application/json')
          ? single(readJsonBody(body, options.maxLineLength, url))
          : readNdjson(body, { url, maxLineLength: options.maxLineLength });
    for await (const value of source) {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        throw notAnObject(context, response.status, received + 1, value);
      }
      const chunk = value as Chunk;
      if ('error' in chunk) throw inBandError(context, response.status, received, chunk.error);
      if (last && final.terminal) throw afterFinal(context, response.status, chunk);
      received++;
      last = final.is(chunk);
      yield chunk as T;
    }
    ended = true;
  } catch (error) {
    throw opened.failure(error, received);
  } finally {
    opened.close(ended);
  }
  if (!last) throw incomplete(context, response.status, received, final.name);
}

async function* single(value: Promise<unknown>): AsyncGenerator<unknown, void, undefined> {
  yield await value;
}

async function* none(): AsyncGenerator<unknown, void, undefined> {}
