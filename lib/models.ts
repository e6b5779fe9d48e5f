import { isOllamaError } from './errors.ts';
import { readJson, readTextAnswer } from './internal/attempt.ts';
import { callOnce } from './internal/call.ts';
import { contextOf, type Exchange } from './internal/exchange.ts';
import { notOllama } from './internal/protocol-error.ts';
import { resolveOptions } from './internal/resolve-options.ts';
import { requestJson } from './internal/serialise.ts';
import { requireModel, requireNames } from './internal/validate.ts';
import type { CallOptions } from './options.ts';
import { MAX_DELAY_MS } from './retry.ts';
import type {
  CopyRequest,
  DeleteRequest,
  ListResponse,
  RunningResponse,
  ShowRequest,
  ShowResponse,
  VersionResponse,
} from './types.ts';

// The server and its models: what is installed, loaded, and which version answers; copying and
// deleting models; and whether an Ollama answers at all.

/** GET /api/tags: the models installed on the server. */
export async function listModels(options?: CallOptions): Promise<ListResponse> {
  return answerWith<ListResponse>({ method: 'GET', path: '/api/tags', accept: 'application/json' }, options, [
    'models',
  ]);
}

/** GET /api/ps: the models loaded in memory now, the one to unload first last. */
export async function listRunning(options?: CallOptions): Promise<RunningResponse> {
  return answerWith<RunningResponse>({ method: 'GET', path: '/api/ps', accept: 'application/json' }, options, [
    'models',
  ]);
}

/** GET /api/version: the server's version. */
export async function version(options?: CallOptions): Promise<VersionResponse> {
  return answerWith<VersionResponse>({ method: 'GET', path: '/api/version', accept: 'application/json' }, options, [
    'version',
  ]);
}

/** Every answer of /api/show has at least one of these; cloud models (`gpt-oss:120b-cloud`) leave
 * out `model_info`, so it cannot be the one field required (their answers carry the others). */
const SHOW_FIELDS: readonly string[] = ['model_info', 'modelfile', 'template', 'details'];

/** POST /api/show: a model's Modelfile, template, parameters, details and capabilities;
 * `verbose: true` adds the tokenizer's arrays (megabytes for a large vocabulary), and a safetensors
 * model's tensors (a GGUF model's come either way). */
export async function showModel(request: ShowRequest, options?: CallOptions): Promise<ShowResponse> {
  const model = requireModel('showModel', request);
  const exchange: Exchange = {
    method: 'POST',
    path: '/api/show',
    json: requestJson('showModel', request),
    model,
    accept: 'application/json',
  };
  return answerWith<ShowResponse>(exchange, options, SHOW_FIELDS);
}

/** POST /api/copy: the same model under another name as well. Resolves when it exists. */
export async function copyModel(request: CopyRequest, options?: CallOptions): Promise<void> {
  requireNames('copyModel', request, ['source', 'destination']);
  const { source, destination } = request;
  const exchange: Exchange = {
    method: 'POST',
    path: '/api/copy',
    json: requestJson('copyModel', { source, destination }),
    model: source,
    accept: 'application/json',
  };
  await callOnce(exchange, resolveOptions(options), readTextAnswer);
}

/** DELETE /api/delete: removes a model and the layers no other model uses. */
export async function deleteModel(request: DeleteRequest, options?: CallOptions): Promise<void> {
  const model = requireModel('deleteModel', request);
  const exchange: Exchange = {
    method: 'DELETE',
    path: '/api/delete',
    json: requestJson('deleteModel', request),
    model,
    notFound: `There is no model "${model}" on that server, so nothing was deleted; \`ollama list\` shows what is installed.`,
    accept: 'application/json',
  };
  await callOnce(exchange, resolveOptions(options), readTextAnswer);
}

/** Nobody answered, or what answered does not speak HTTP (an SSH server on the port, say): in
 * either case no Ollama is there. */
const NOBODY_ANSWERED = new Set(['connection', 'connect-timeout', 'read-timeout', 'total-timeout', 'protocol']);

/**
 * GET /: whether an Ollama server answers at the host. Resolves `false` when nothing answers
 * (refused, unreachable, a name that does not resolve, a timeout) or when what answers is not
 * Ollama; it never throws for those. It does throw for an HTTP error status, because something
 * did answer and its reason is worth reading (a 401 from a proxy wants credentials), for an
 * invalid option, and with `signal.reason` when the caller aborts. It makes one attempt
 * unless `retry` is given: a probe that waits through backoff is not a probe.
 *
 * It settles within about 5 s whatever the server does: `connectTimeout` defaults to 2 s and
 * `readTimeout` to 3 s here (not 5 s and 120 s), and, without `retry`, `totalTimeout` to their
 * sum, so a server that accepts and never answers, or trickles its answer, is `false` by then.
 * Pass any of these options to choose otherwise.
 */
export async function isRunning(options?: CallOptions): Promise<boolean> {
  const probe = resolveOptions(options);
  const given = options ?? {};
  if (given.connectTimeout === undefined) probe.connectTimeout = 2_000;
  if (given.readTimeout === undefined) probe.readTimeout = 3_000;
  if (given.retry === undefined) probe.retry = { ...probe.retry, retries: 0 };
  // Both timers on (0 is off), no retry, no total given: the total is their sum.
  const sum = probe.connectTimeout + probe.readTimeout;
  if (
    given.retry === undefined &&
    given.totalTimeout === undefined &&
    probe.connectTimeout * probe.readTimeout > 0 &&
    sum <= MAX_DELAY_MS
  ) {
    probe.totalTimeout = sum;
  }
  const exchange: Exchange = { method: 'GET', path: '/', accept: 'application/json' };
  try {
    const text = await callOnce(exchange, probe, readTextAnswer);
    return text.includes('Ollama is running');
  } catch (error) {
    if (isOllamaError(error) && NOBODY_ANSWERED.has(error.kind)) return false;
    throw error;
  }
}

/** One JSON answer, checked for the field every such answer has: a 200 from something other
 * than Ollama (a captive portal, a misrouted proxy) must not pass as an empty result. */
async function answerWith<T>(
  exchange: Exchange,
  options: CallOptions | undefined,
  fields: readonly string[],
): Promise<T> {
  const resolved = resolveOptions(options);
  const value = await callOnce<unknown>(exchange, resolved, readJson);
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !fields.some((field) => field in value)) {
    throw notOllama(contextOf(exchange, resolved), fields, value);
  }
  return value as T;
}
