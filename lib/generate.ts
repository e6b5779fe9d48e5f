import { aggregateGenerate } from './aggregate.ts';
import { callOnce, callStream } from './call.ts';
import { resolveOptions, type CallOptions } from './options.ts';
import { encodeImages, requireModel } from './request-body.ts';
import type { Exchange } from './request.ts';
import { DONE, streamObjects } from './stream.ts';
import type { GenerateRequest, GenerateResponse } from './types.ts';

/** POST /api/generate, one chunk at a time, each exactly as Ollama sent it. Leaving the loop
 * early closes the connection, so Ollama stops generating. */
export function generateStream(
  request: GenerateRequest,
  options?: CallOptions,
): AsyncGenerator<GenerateResponse, void, undefined> {
  const exchange = generateExchange('generateStream', request);
  return callStream(exchange, resolveOptions(options), (attempt) =>
    streamObjects(exchange, attempt, DONE),
  ) as AsyncGenerator<GenerateResponse, void, undefined>;
}

/** POST /api/generate, answered as one object: exactly what Ollama answers for
 * `stream: false`, `context` included. It streams on the wire all the same. */
export async function generate(request: GenerateRequest, options?: CallOptions): Promise<GenerateResponse> {
  const exchange = generateExchange('generate', request);
  return callOnce(exchange, resolveOptions(options), (attempt) =>
    aggregateGenerate(streamObjects(exchange, attempt, DONE) as AsyncIterable<GenerateResponse>),
  );
}

function generateExchange(call: string, request: GenerateRequest): Exchange {
  const model = requireModel(call, request);
  const body: GenerateRequest = { ...request, stream: true };
  const images = encodeImages(call, request.images);
  if (images !== undefined) body.images = images;
  return { method: 'POST', path: '/api/generate', body, model, accept: 'application/x-ndjson' };
}
