import { OllamaError, preview } from '../../errors.ts';
import type { RequestContext } from '../../internal/exchange.ts';
import { redact } from '../../internal/header-values.ts';
import { errorBody, refusal, statusLine, summarise } from '../../internal/http-error.ts';
import { previewValue } from '../../internal/protocol-error.ts';
import type { APIErrorFields } from '../types.ts';
import { retryAfterOf } from '../../internal/retry-after.ts';
import { rateLimitOf, shouldRetryOf } from './rate-limit.ts';

// The errors of the /v1 calls: a non-2xx answer in any of the dialects OpenAI-compatible
// servers speak, and the failures a server reports inside a 200 event stream.

interface Said {
  message: string;
  type?: string;
  code?: string;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** An error body as parsed: any fields, of which those read here are named (so that a copy of
 * `lib/` compiles under `noPropertyAccessFromIndexSignature`). */
interface ErrorFields {
  error?: unknown;
  message?: unknown;
  detail?: unknown;
  type?: unknown;
  code?: unknown;
  metadata?: unknown;
  [field: string]: unknown;
}

/**
 * What a server said in an error object, whatever its dialect: OpenAI's and Ollama's
 * `{"error":{"message","type","param","code"}}`, OpenRouter's `{"error":{"code":402,"message",
 * "metadata"}}`, older vLLM's flat `{"object":"error","message",…}`, Ollama's native
 * `{"error":"…"}`, a bare `{"message"}`, FastAPI's `{"detail"}`.
 */
export function saidBy(value: unknown): Said | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const record = value as ErrorFields;
  const nested = record.error;
  if (typeof nested === 'string' && nested.trim() !== '') return { message: nested };
  let source: ErrorFields;
  if (typeof nested === 'object' && nested !== null) source = nested as ErrorFields;
  else if (nested === undefined || nested === null) source = record;
  else return undefined;
  let message = text(source.message);
  if (message === undefined && source === record) {
    const detail = record.detail;
    message = text(detail) ?? (Array.isArray(detail) ? previewValue(detail, 300) : undefined);
  }
  if (message === undefined) return source === record ? undefined : { message: previewValue(nested, 300) };
  const said: Said = { message };
  const type = text(source.type);
  const code = text(source.code);
  if (type !== undefined) said.type = type;
  if (code !== undefined) said.code = code;
  // OpenRouter names the provider that failed, and may carry its raw words.
  const metadata = source.metadata as { provider_name?: unknown; raw?: unknown } | undefined;
  const provider = text(metadata?.provider_name);
  if (provider !== undefined)
    said.message += ` (provider ${provider}${text(metadata?.raw) === undefined ? '' : `: ${preview(String(metadata?.raw), 200)}`})`;
  return said;
}

function render(said: Said): string {
  const extra = [said.type === undefined ? '' : `type ${said.type}`, said.code === undefined ? '' : `code ${said.code}`]
    .filter((part) => part !== '')
    .join(', ');
  return extra === '' ? said.message : `${said.message} (${extra})`;
}

/** The JSON object of an error body. `body` is redacted already, but a credential written
 * with JSON escapes (`\/`, `\u…`) only appears once parsed: each string is redacted again. */
function parse(body: string, secrets: readonly string[] | undefined): ErrorFields | undefined {
  if (!body.trimStart().startsWith('{')) return undefined;
  try {
    return JSON.parse(body, (_, value) => (typeof value === 'string' ? redact(value, secrets) : value));
  } catch {
    return undefined;
  }
}

/** A non-2xx answer of a /v1 call as an `http` error: the server's own message, the request
 * id, the parsed rate-limit headers, the wait it asked for (`retry-after-ms` first) and its
 * `x-should-retry`. The body is read (at most 64 KiB) so the connection is released. */
export async function v1HttpError(
  response: Response,
  stream: ReadableStream<Uint8Array> | null,
  context: RequestContext,
): Promise<OllamaError> {
  const body = await errorBody(stream, context);
  const json = parse(body, context.secrets);
  const said = saidBy(json);
  const type = response.headers.get('content-type') ?? '';
  const told =
    said !== undefined
      ? `: ${render(said)}`
      : body.trim() === ''
        ? ' with an empty body'
        : `: ${summarise(body, type, ': a proxy or another server answered')}`;
  const status = statusLine(response, context);
  const message = `The server answered HTTP ${status} to ${context.method} ${context.url}${told}. ${hint(response.status, said, context, body)}`;
  const requestId = requestIdOf(response, context);
  const error = new OllamaError({
    kind: 'http',
    message: message.trim(),
    status: response.status,
    url: context.url,
    body,
    code: said?.code,
    retryAfter: retryAfterOf(response.headers),
    requestId,
    rateLimit: rateLimitOf(response.headers),
    shouldRetry: shouldRetryOf(response.headers),
  });
  return withApiFields(error, json, response, context);
}

const FIELD_NAMES = ['error', 'headers', 'type', 'param', 'requestID'] as const;

/**
 * `error` with openai-node's APIError fields, read as it reads them from what the server said
 * (`json`: the body of an error answer, or the event of a stream that reported one): `error` is
 * its `error`, or the whole object when it has none. The headers are a copy, redacted like the
 * body, should a server echo a credential back. The fields are own properties, not enumerable,
 * so that an error logs as before.
 */
function withApiFields(
  error: OllamaError,
  json: ErrorFields | undefined,
  response: Response,
  context: RequestContext,
): OllamaError {
  const apiError = json === undefined ? undefined : (json.error ?? json);
  const headers = new Headers();
  response.headers.forEach((value, name) => {
    headers.append(name, redact(value, context.secrets));
  });
  // A string `error` (Ollama's native shape) has no type or param, as in openai-node.
  const { type: errorType, param } = (typeof apiError === 'object' ? apiError : {}) as Record<string, never>;
  const fields: APIErrorFields = {
    error: apiError,
    headers,
    type: errorType,
    param,
    requestID: error.requestId ?? null,
  };
  // openai-node's `code` is the body's as it is: null in every error Ollama's /v1 sends.
  if ((apiError as { code?: unknown } | undefined)?.code === null) (error as { code: string | null }).code = null;
  for (const name of FIELD_NAMES) Object.defineProperty(error, name, { value: fields[name], configurable: true });
  return error;
}

/** The server's `x-request-id`, redacted like the rest of what it says: a gateway may echo a
 * credential in it. */
export function requestIdOf(response: Response, context: RequestContext): string | undefined {
  const id = response.headers.get('x-request-id');
  return id === null ? undefined : redact(id, context.secrets);
}

function hint(status: number, said: Said | undefined, context: RequestContext, body: string): string {
  if (status === 404 && said !== undefined && /not found/i.test(said.message) && context.model !== undefined) {
    return context.local
      ? `If this is Ollama, run \`ollama pull ${context.model}\` (or pick one that \`ollama list\` shows).`
      : `Check the model name "${context.model}" against the server's GET /models.`;
  }
  if (status === 404 && context.model?.includes('/') === true && /^\s*404 page not found\s*$/.test(body)) {
    // Ollama's router decodes the id's %2F into a path separator, so no route matches it.
    return (
      `Ollama's GET /v1/models/{id} cannot look up a name with a "/" in it ("${context.model}"): ` +
      "find it in the list of GET /v1/models, or ask Ollama's own POST /api/show (showModel)."
    );
  }
  if (status === 404)
    return 'Check that the base URL ends with the API prefix (often /v1) and the server serves this path.';
  const refused = refusal(status, said?.message, body);
  if (refused !== undefined) return refused;
  if (status === 401 || status === 403)
    return 'The server refused the API key: check options.apiKey (or OPENAI_API_KEY).';
  if (status === 402) return 'The account behind the API key is out of credits: add credits, or use another key.';
  if (status === 429) return 'Rate limited: error.retryAfter has the wait asked for, error.rateLimit the limits.';
  if (status >= 502 && status <= 504) return 'A proxy or gateway could not reach the model server; try again shortly.';
  if (status >= 500) return 'The server failed while handling the request; its log has the details.';
  if (status === 400 || status === 422)
    return 'The server rejected the request as invalid; fix the field its message names.';
  return '';
}

/** A failure the server reported inside a 200 event stream, in any of the shapes in use,
 * after the chunks already delivered. */
export function v1StreamError(
  context: RequestContext,
  received: number,
  said: unknown,
  response: Response,
): OllamaError {
  const found = saidBy(said);
  const words = redact(
    found !== undefined ? render(found) : typeof said === 'string' ? said : previewValue(said, 500),
    context.secrets,
  );
  const error = new OllamaError({
    kind: 'stream',
    message: `The server reported an error after ${received} chunk(s) of ${context.method} ${context.url}: ${words}`,
    status: 200,
    url: context.url,
    code: found?.code,
    requestId: requestIdOf(response, context),
  });
  // What the server said, redacted like the message; a bare string is openai-node's `error`.
  const json =
    typeof said === 'object' && said !== null && !Array.isArray(said)
      ? (JSON.parse(redact(JSON.stringify(said), context.secrets)) as ErrorFields)
      : typeof said === 'string'
        ? { error: redact(said, context.secrets) }
        : undefined;
  return withApiFields(error, json, response, context);
}

export function notJsonEvent(context: RequestContext, index: number, raw: string, cause: unknown): OllamaError {
  // Redacted before it is cut: a credential cut in two would no longer be found.
  const data = redact(raw, context.secrets);
  return new OllamaError({
    kind: 'protocol',
    message:
      `Event ${index} of ${context.method} ${context.url} is not JSON: "${preview(data, 120)}". The server ` +
      'is not speaking the OpenAI event stream, or a proxy rewrote it.',
    status: 200,
    url: context.url,
    line: data.slice(0, 200),
    cause,
  });
}

/** A 200 that is not an event stream; `whole` when it is the whole answer as one object (the
 * server does not stream). */
export function notAnEventStream(context: RequestContext, type: string, whole = false): OllamaError {
  return new OllamaError({
    kind: 'protocol',
    message: whole
      ? `${context.method} ${context.url} answered a stream request with the whole answer as one JSON object ` +
        '(Content-Type "' +
        type +
        '"), not an event stream: this server or model does not stream. Ask for the answer as one object ' +
        'instead (chatCompletions, or create() without stream: true).'
      : `${context.method} ${context.url} answered 200 with Content-Type "${type}", not an event stream. ` +
        (/html/i.test(type)
          ? 'It is a web page: check that the base URL points at an OpenAI-compatible API, or a proxy wants a login.'
          : 'Check that the base URL points at an OpenAI-compatible API.'),
    status: 200,
    url: context.url,
  });
}

/**
 * `value`, when it is the /v1 answer it should be (an object with `field`); else a `protocol`
 * error with the server's words if it has any: a 200 `{"error": …}`, a captive portal's JSON,
 * which would otherwise come back as an answer with nothing in it.
 */
export function v1Answer<T>(value: unknown, field: string, context: RequestContext): T {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && field in value) {
    const { error } = value as { error?: unknown };
    if (!error) return value as T;
  }
  const said = saidBy(value);
  const what = said === undefined ? redact(previewValue(value), context.secrets) : `it says "${said.message}"`;
  throw new OllamaError({
    kind: 'protocol',
    message:
      `The answer of ${context.method} ${context.url} has no "${field}" field, so it is not the answer of a /v1 ` +
      `API: ${what}. Check that the base URL is the server's /v1 API, and any proxy or login page in front of it.`,
    status: 200,
    url: context.url,
  });
}
