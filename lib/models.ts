import { callOnce } from './call.ts';
import { OllamaError, preview } from './errors.ts';
import { resolveOptions, type CallOptions } from './options.ts';
import { requireModel } from './request-body.ts';
import { fetchJson, fetchText, type Exchange } from './request.ts';
import type {
  CopyRequest,
  DeleteRequest,
  ListResponse,
  RunningResponse,
  ShowRequest,
  ShowResponse,
  VersionResponse,
} from './types.ts';

/** GET /api/tags: the models installed on the server. */
export async function listModels(options?: CallOptions): Promise<ListResponse> {
  return json({ method: 'GET', path: '/api/tags', accept: 'application/json' }, options, 'models');
}

/** GET /api/ps: the models loaded in memory now, the one to unload first last. */
export async function listRunning(options?: CallOptions): Promise<RunningResponse> {
  return json({ method: 'GET', path: '/api/ps', accept: 'application/json' }, options, 'models');
}

/** GET /api/version: the server's version. */
export async function version(options?: CallOptions): Promise<VersionResponse> {
  return json({ method: 'GET', path: '/api/version', accept: 'application/json' }, options, 'version');
}

/** POST /api/show: a model's Modelfile, template, parameters, details and capabilities;
 * `verbose: true` adds the tokenizer's arrays and the tensors (megabytes for a large vocabulary). */
export async function showModel(request: ShowRequest, options?: CallOptions): Promise<ShowResponse> {
  const model = requireModel('showModel', request);
  return json(
    { method: 'POST', path: '/api/show', body: request, model, accept: 'application/json' },
    options,
    'model_info',
  );
}

/** POST /api/copy: the same model under another name as well. Resolves when it exists. */
export async function copyModel(request: CopyRequest, options?: CallOptions): Promise<void> {
  const { source, destination } = (request ?? {}) as Partial<CopyRequest>;
  for (const [field, value] of [
    ['source', source],
    ['destination', destination],
  ] as const) {
    if (typeof value !== 'string' || value.trim() === '') {
      throw new TypeError(
        `copyModel: request.${field} must name a model, such as 'llama3.2' (got ${JSON.stringify(value) ?? 'undefined'})`,
      );
    }
  }
  const exchange: Exchange = {
    method: 'POST',
    path: '/api/copy',
    body: { source, destination },
    model: source,
    accept: 'application/json',
  };
  await callOnce(exchange, resolveOptions(options), (attempt) => fetchText(exchange, attempt));
}

/** DELETE /api/delete: removes a model and the layers no other model uses. */
export async function deleteModel(request: DeleteRequest, options?: CallOptions): Promise<void> {
  const model = requireModel('deleteModel', request);
  const exchange: Exchange = {
    method: 'DELETE',
    path: '/api/delete',
    body: request,
    model,
    notFound: `There is no model "${model}" on that server, so nothing was deleted; \`ollama list\` shows what is installed.`,
    accept: 'application/json',
  };
  await callOnce(exchange, resolveOptions(options), (attempt) => fetchText(exchange, attempt));
}

/** One JSON answer, checked for the field every such answer has: a 200 from something other
 * than Ollama (a captive portal, a misrouted proxy) must not pass as an empty result. */
async function json<T>(exchange: Exchange, options: CallOptions | undefined, field: string): Promise<T> {
  const resolved = resolveOptions(options);
  const value = await callOnce(exchange, resolved, (attempt) => fetchJson(exchange, attempt));
  if (typeof value !== 'object' || value === null || !(field in value)) {
    const url = resolved.base + exchange.path;
    throw new OllamaError({
      kind: 'protocol',
      message:
        `The answer of ${exchange.method} ${url} has no "${field}" field, so it is not Ollama's: ` +
        `${preview(JSON.stringify(value), 120)}. Check that the host is an Ollama server.`,
      status: 200,
      url,
    });
  }
  return value as T;
}
