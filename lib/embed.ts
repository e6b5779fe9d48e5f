import { readJson } from './internal/attempt.ts';
import { inBatches } from './internal/batches.ts';
import { callOnce } from './internal/call.ts';
import { contextOf, type Exchange } from './internal/exchange.ts';
import { notOllama, vectorCount } from './internal/protocol-error.ts';
import { type ResolvedOptions, resolveOptions } from './internal/resolve-options.ts';
import { requestJson } from './internal/serialise.ts';
import { requireModel } from './internal/validate.ts';
import type { CallOptions } from './options.ts';
import { count } from './retry.ts';
import type { EmbeddingsRequest, EmbeddingsResponse, EmbedRequest, EmbedResponse } from './types.ts';

/** Options of `embed`. */
export interface EmbedOptions extends CallOptions {
  /**
   * The most inputs sent in one request. A longer `input` is split into requests of this many,
   * and the vectors come back in input order as if it had been one.
   * @default 512
   */
  batchSize?: number | undefined;
  /**
   * The most batch requests in flight at once. Ollama runs an embedding model on one request at
   * a time, and answers nothing until a request's vectors are ready, so a batch is sent only
   * once the one before it is being answered: reading one answer overlaps the server's work on
   * the next, and no batch waits in the server's queue with its `readTimeout` running.
   * @default 2
   */
  concurrency?: number | undefined;
}

/**
 * POST /api/embed: one L2-normalised vector per input, in input order. An `input` longer
 * than `batchSize` goes out in several requests, at most `concurrency` at a time; their
 * counters are summed, and the first batch to fail aborts the others. `totalTimeout` and
 * `signal` cover the whole call; each batch retries on its own.
 */
export async function embed(request: EmbedRequest, options?: EmbedOptions): Promise<EmbedResponse> {
  const model = requireModel('embed', request);
  const { input } = request;
  if (typeof input !== 'string' && !(Array.isArray(input) && input.every((item) => typeof item === 'string'))) {
    throw new TypeError('embed: request.input must be a string or an array of strings');
  }
  const resolved = resolveOptions(options);
  const batchSize = count(options?.batchSize ?? 512, 'embed: options.batchSize', 1);
  const concurrency = count(options?.concurrency ?? 2, 'embed: options.concurrency', 1);
  if (typeof input === 'string' || input.length <= batchSize) return embedOnce(request, model, resolved);

  // Each batch serialises its own slice; a field JSON cannot carry fails every batch alike,
  // before any request (the inputs are strings).
  const batches = Math.ceil(input.length / batchSize);
  const context = contextOf({ method: 'POST', path: '/api/embed', model, accept: 'application/json' }, resolved);
  const parts = await inBatches(
    batches,
    concurrency,
    resolved,
    context,
    (index, batchOptions) =>
      embedOnce({ ...request, input: input.slice(index * batchSize, (index + 1) * batchSize) }, model, batchOptions),
    true,
  );
  const first = parts[0] as EmbedResponse;
  const merged: EmbedResponse = { ...first, embeddings: [] };
  for (const part of parts) {
    for (const vector of part.embeddings) merged.embeddings.push(vector);
  }
  for (const counter of ['total_duration', 'load_duration', 'prompt_eval_count'] as const) {
    if (parts.some((part) => typeof part[counter] === 'number')) {
      merged[counter] = parts.reduce((sum, part) => sum + (part[counter] ?? 0), 0);
    }
  }
  return merged;
}

/** One request; the answer must hold one vector per input sent (Ollama embeds `""` alone as
 * none), or the vectors could no longer be matched to their texts. */
async function embedOnce(request: EmbedRequest, model: string, options: ResolvedOptions): Promise<EmbedResponse> {
  const sent = typeof request.input === 'string' ? (request.input === '' ? 0 : 1) : request.input.length;
  // Checked in the attempt, so that the error counts the requests made like any other.
  const read = async (exchange: Exchange, attemptOptions: ResolvedOptions): Promise<EmbedResponse> => {
    const answer = await readJson<EmbedResponse>(exchange, attemptOptions);
    const got = Array.isArray(answer?.embeddings) ? answer.embeddings.length : undefined;
    if (got !== sent) throw vectorCount(contextOf(exchange, attemptOptions), sent, got);
    return answer;
  };
  return callOnce<EmbedResponse>(embedExchange(request, model), options, read);
}

function embedExchange(request: EmbedRequest, model: string): Exchange {
  return { method: 'POST', path: '/api/embed', json: requestJson('embed', request), model, accept: 'application/json' };
}

/** POST /api/embeddings, Ollama's older endpoint: one prompt, one vector, not normalised. */
export async function embeddings(request: EmbeddingsRequest, options?: CallOptions): Promise<EmbeddingsResponse> {
  const model = requireModel('embeddings', request);
  const exchange: Exchange = {
    method: 'POST',
    path: '/api/embeddings',
    json: requestJson('embeddings', request),
    model,
    accept: 'application/json',
  };
  const resolved = resolveOptions(options);
  const answer = await callOnce<unknown>(exchange, resolved, readJson);
  if (!Array.isArray((answer as Partial<EmbeddingsResponse> | null)?.embedding)) {
    throw notOllama(contextOf(exchange, resolved), ['embedding'], answer);
  }
  return answer as EmbeddingsResponse;
}
