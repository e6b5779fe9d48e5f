import { callOnce } from './call.ts';
import { resolveOptions, type CallOptions } from './options.ts';
import { requireModel } from './request-body.ts';
import { fetchJson } from './request.ts';
import type { EmbeddingsRequest, EmbeddingsResponse, EmbedRequest, EmbedResponse } from './types.ts';

/** POST /api/embed: one L2-normalised vector per input, in input order. */
export async function embed(request: EmbedRequest, options?: CallOptions): Promise<EmbedResponse> {
  const model = requireModel('embed', request);
  const { input } = request;
  if (typeof input !== 'string' && !(Array.isArray(input) && input.every((item) => typeof item === 'string'))) {
    throw new TypeError('embed: request.input must be a string or an array of strings');
  }
  const exchange = { method: 'POST', path: '/api/embed', body: request, model, accept: 'application/json' } as const;
  return (await callOnce(exchange, resolveOptions(options), (attempt) => fetchJson(exchange, attempt))) as EmbedResponse;
}

/** POST /api/embeddings, Ollama's older endpoint: one prompt, one vector, not normalised. */
export async function embeddings(request: EmbeddingsRequest, options?: CallOptions): Promise<EmbeddingsResponse> {
  const model = requireModel('embeddings', request);
  const exchange = { method: 'POST', path: '/api/embeddings', body: request, model, accept: 'application/json' } as const;
  return (await callOnce(exchange, resolveOptions(options), (attempt) => fetchJson(exchange, attempt))) as
    EmbeddingsResponse;
}
