import { readJson } from '../internal/attempt.ts';
import { callOnce } from '../internal/call.ts';
import { contextOf, type Exchange } from '../internal/exchange.ts';
import { queried } from './internal/exchange.ts';
import { v1Answer, v1HttpError } from './internal/openai-error.ts';
import { resolveV1 } from './internal/resolve.ts';
import type { Model, ModelList, OpenAIOptions } from './types.ts';

/** GET {base}/models: the listing, `data` always an array (Ollama sends `null` when no model
 * is installed). */
export async function listModels(options?: OpenAIOptions): Promise<ModelList> {
  const resolved = resolveV1(options);
  const exchange: Exchange = { method: 'GET', path: '/models', accept: 'application/json', httpError: v1HttpError };
  const answer = v1Answer<ModelList>(
    await callOnce<unknown>(queried(exchange, resolved), resolved, readJson),
    'data',
    contextOf(exchange, resolved),
  );
  if (answer.data === null) answer.data = [];
  return answer;
}

/** GET {base}/models/{id}: one model, or an `http` 404 error when the server does not have it. */
export async function retrieveModel(id: string, options?: OpenAIOptions): Promise<Model> {
  if (typeof id !== 'string' || id.trim() === '') {
    throw new TypeError(`retrieveModel: the id must name a model, such as 'llama3.2' (got ${JSON.stringify(id)})`);
  }
  const resolved = resolveV1(options);
  const exchange: Exchange = {
    method: 'GET',
    path: `/models/${encodeURIComponent(id)}`,
    model: id,
    accept: 'application/json',
    httpError: v1HttpError,
  };
  return callOnce<Model>(queried(exchange, resolved), resolved, readJson);
}
