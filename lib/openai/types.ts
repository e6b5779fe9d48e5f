// The wire types of the OpenAI-compatible API, with the wire's own field names. Every object is
// open: a server may add fields (Ollama's `reasoning`, vLLM's `stop_reason`, OpenRouter's
// `provider`), and they arrive as sent.
import type { OllamaError } from '../errors.ts';
import type { CallOptions, HeadersInput } from '../options.ts';

/** Query parameters by name. A value is sent URL-encoded; `null` is sent as an empty value,
 * `undefined` is left out. */
export type QueryInput = Record<string, string | number | boolean | null | undefined>;

/** Options of every /v1 call: those of the native calls, plus `baseURL`, `apiKey` and `query`. */
export interface OpenAIOptions extends CallOptions {
  /**
   * The full base of the API, such as `https://openrouter.ai/api/v1` or
   * `http://gpu-box:8000/v1`; each endpoint's path is appended to it.
   * @default without `baseURL` and `host`: the `OPENAI_BASE_URL` environment variable when it
   * is set (read at each call), else the Ollama host (`OLLAMA_HOST`, else
   * `http://127.0.0.1:11434`) + `/v1`. With `host`: that host + `/v1`.
   */
  baseURL?: string | undefined;
  /**
   * Sent as `Authorization: Bearer <apiKey>` to the configured base, and nowhere else.
   * @default `OPENAI_API_KEY`, but only when the base itself came from `OPENAI_BASE_URL`: a key
   * from the environment never goes to a base that you or the same environment did not name
   */
  apiKey?: string | undefined;
  /**
   * Query parameters added to the URL of every request, after the endpoint's path
   * (`{ 'api-version': '2024-10-21' }` gives `/v1/chat/completions?api-version=2024-10-21`),
   * as Azure OpenAI and some gateways want. The URL is shown in error messages, query included:
   * pass a key with `apiKey` or `headers`, not here. Any other value than an object of strings,
   * numbers, booleans, `null` or `undefined` is a `TypeError` naming `options.query`.
   * @default none
   */
  query?: QueryInput | undefined;
}

/** The names openai-node's client and its requests take for two of the options. */
export interface OpenAINodeOptions {
  /**
   * openai-node's `timeout`, taken as `readTimeout`, the longest silence from the server (the
   * wait for the response headers included): openai-node's is the time to the response. A
   * `readTimeout` given alongside wins.
   * @default `readTimeout`'s own default, 120000
   */
  timeout?: number | undefined;
  /**
   * openai-node's `maxRetries`, taken as `retry: { retries: maxRetries }`. A `retry` given
   * alongside wins.
   * @default `retry`'s own default, 2
   */
  maxRetries?: number | undefined;
}

/** Headers as openai-node's client takes them: by name, a header whose value is `null` is
 * removed (one the client sends by default included), one whose value is `undefined` is left
 * as it is. */
export type NullableHeaders = HeadersInput | Record<string, string | null | undefined>;

/** The second argument of the `createOpenAI` client's calls: the options of the function API,
 * and openai-node's `timeout` and `maxRetries`. They are merged over the client's own. */
export interface OpenAIRequestOptions extends Omit<OpenAIOptions, 'headers'>, OpenAINodeOptions {
  /**
   * Headers of this request, merged by name over the client's: a `null` value removes one the
   * client would send (`defaultHeaders`, `organization`, `project`), as in openai-node.
   * @default none
   */
  headers?: NullableHeaders | undefined;
}

/**
 * What `client.chat.completions.create({ stream: true })` (and `client.completions.create`)
 * resolves with, as openai-node's `Stream`: the chunks, once. `await create()` has already read
 * the first chunk, so an HTTP error or a connection failure rejects the `await` itself; after
 * it, a failure is thrown by the loop. Leaving the loop early (`break`) closes the connection.
 */
export interface Stream<T> extends AsyncIterable<T> {
  /**
   * Aborts the request: the loop ends quietly (without a throw) and the connection is closed,
   * as in openai-node. An abort of the request's own `signal` does the same: unlike the
   * function API, whose streams reject with the signal's reason, the loop just ends (an abort
   * before the first chunk still rejects `create()` with the reason).
   */
  readonly controller: AbortController;
  /** Two streams that each see every chunk, at their own pace; the connection is closed when
   * both are left. This stream is used up by it. */
  tee(): [Stream<T>, Stream<T>];
  /** The chunks as bytes, each one JSON and a newline (openai-node's format). This stream is
   * used up by it; cancelling the readable closes the connection. */
  toReadableStream(): ReadableStream<Uint8Array>;
}

/** What a streaming `create` returns: a promise of the stream (`await` it, as in openai-node),
 * which can also be iterated as it is (`for await (const c of create(…))`). */
export type StreamPromise<T> = Promise<Stream<T>> & AsyncIterable<T> & WithResponseOf<Stream<T>>;

/** What `withResponse()` resolves with, as in openai-node: the answer, the `Response` it came
 * in (its headers and status; its body read by the library, or being read by the stream) and
 * its `x-request-id`. */
export interface WithResponse<T> {
  data: T;
  response: Response;
  request_id: string | null;
}

/** openai-node's `withResponse()` on a call's promise. (Its `asResponse()`, the response with
 * its body unread, is not offered: the library reads every body it asks for.) */
export interface WithResponseOf<T> {
  withResponse(): Promise<WithResponse<T>>;
}

/** A promise of a client call's answer, with `withResponse()`. */
export type APIPromise<T> = Promise<T> & WithResponseOf<T>;

/** What `client.models.list()` returns: the listing to `await`, or the models one by one to
 * `for await`, as openai-node's page promise. */
export type ModelListPromise = Promise<ModelList> & AsyncIterable<Model> & WithResponseOf<ModelList>;

/** The fields of openai-node's `APIError` that a /v1 `http` error carries besides its own
 * (`status`, `code`, `requestId`, `rateLimit`, `retryAfter`, `body`). None of them is
 * enumerable, so logging an error shows what it showed before. */
export interface APIErrorFields {
  /** The `error` member of the JSON body, as openai-node reads it (the whole JSON object when
   * it has none); undefined when the body is not a JSON object. Credentials the request carried
   * are replaced by `[redacted]` in it, as in `body`. */
  readonly error: unknown;
  /** The response's headers (a copy, with any credential of the request that a server echoed
   * replaced by `[redacted]`). */
  readonly headers: Headers;
  /** `error.type`, when `error` has one. */
  readonly type: string | null | undefined;
  /** `error.param`, when `error` has one. */
  readonly param: string | null | undefined;
  /** The same as `requestId`, under openai-node's name; null without an `x-request-id`, as there. */
  readonly requestID: string | null | undefined;
}

/** A /v1 `http` error as openai-node code reads it: `(e as OpenAIHttpError).headers.get(…)`. Its
 * `code` is `error.code` as a string, or null when the server sent null (Ollama's /v1 always
 * does), as openai-node has it. */
export type OpenAIHttpError = Omit<OllamaError, 'code'> & APIErrorFields & { readonly code: string | null | undefined };

export type JsonObject = { [key: string]: unknown };

export interface TextPart {
  type: 'text';
  text: string;
}
export interface ImagePart {
  type: 'image_url';
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' | undefined };
}
export interface AudioPart {
  type: 'input_audio';
  input_audio: { data: string; format: string };
}
export type ContentPart = TextPart | ImagePart | AudioPart | ({ type: string } & JsonObject);

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
  /** Ollama gives each call its `index` in full answers too. */
  index?: number;
  [key: string]: unknown;
}

export interface SystemMessage {
  role: 'system' | 'developer';
  content: string | TextPart[];
  name?: string | undefined;
}
export interface UserMessage {
  role: 'user';
  content: string | ContentPart[];
  name?: string | undefined;
}
export interface AssistantMessage {
  role: 'assistant';
  content?: string | TextPart[] | null | undefined;
  tool_calls?: ToolCall[] | undefined;
  /** Null as an answer's message may have it, so that the message goes back into the history
   * as it came. */
  reasoning?: string | null | undefined;
  reasoning_content?: string | null | undefined;
  name?: string | undefined;
  refusal?: string | null | undefined;
}
export interface ToolMessage {
  role: 'tool';
  content: string | TextPart[];
  tool_call_id: string;
  name?: string | undefined;
}
export type ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

export interface FunctionTool {
  type: 'function';
  function: { name: string; description?: string | undefined; parameters?: JsonObject | undefined; strict?: boolean };
}

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; json_schema: { name: string; schema?: JsonObject; strict?: boolean; description?: string } };

export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export interface StreamOptions {
  include_usage?: boolean | undefined;
  [key: string]: unknown;
}

interface SamplingFields {
  model: string;
  max_tokens?: number | undefined;
  max_completion_tokens?: number | undefined;
  temperature?: number | undefined;
  top_p?: number | undefined;
  n?: number | undefined;
  stop?: string | string[] | undefined;
  seed?: number | undefined;
  frequency_penalty?: number | undefined;
  presence_penalty?: number | undefined;
  logit_bias?: Record<string, number> | undefined;
  user?: string | undefined;
  stream_options?: StreamOptions | undefined;
}

export interface ChatCompletionRequest extends SamplingFields {
  messages: ChatMessage[];
  /**
   * `chatCompletions` streams on the wire unless this is `false`, which sends the request as
   * it is and returns the server's own `stream: false` answer; `chatCompletionsStream` always
   * streams.
   */
  stream?: boolean | undefined;
  tools?: FunctionTool[] | undefined;
  tool_choice?: ToolChoice | undefined;
  parallel_tool_calls?: boolean | undefined;
  response_format?: ResponseFormat | undefined;
  reasoning_effort?: 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | (string & {}) | undefined;
  logprobs?: boolean | undefined;
  top_logprobs?: number | undefined;
  [key: string]: unknown;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  [key: string]: unknown;
}

export interface ChatCompletionMessage {
  role: 'assistant';
  content: string | null;
  /** Reasoning text as Ollama names it. */
  reasoning?: string | null;
  /** Reasoning text as vLLM, DeepSeek and llama.cpp name it. */
  reasoning_content?: string | null;
  tool_calls?: ToolCall[];
  refusal?: string | null;
  [key: string]: unknown;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call' | (string & {});

export interface ChatCompletionChoice {
  index: number;
  message: ChatCompletionMessage;
  finish_reason: FinishReason | null;
  logprobs?: { content: unknown[] | null; [key: string]: unknown } | null;
  [key: string]: unknown;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  system_fingerprint?: string;
  choices: ChatCompletionChoice[];
  usage?: Usage;
  [key: string]: unknown;
}

/** A piece of a tool call: the first of an `index` carries `id`, `type` and the name, later
 * ones more of the `arguments` string (Ollama sends each call whole in one). Typed as
 * openai-node types it, though some servers send no `index` at all (the fold takes a piece
 * without one as continuing the call before it, unless it begins another). */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
  [key: string]: unknown;
}

export interface ChatCompletionDelta {
  role?: 'assistant';
  content?: string | null;
  reasoning?: string | null;
  reasoning_content?: string | null;
  tool_calls?: ToolCallDelta[];
  refusal?: string | null;
  [key: string]: unknown;
}

export interface ChatCompletionChunkChoice {
  index: number;
  delta: ChatCompletionDelta;
  finish_reason: FinishReason | null;
  logprobs?: { content: unknown[] | null; [key: string]: unknown } | null;
  [key: string]: unknown;
}

/** One chunk of a stream, as sent. With `stream_options.include_usage`, the last one has
 * `choices: []` and the `usage`: do not assume `choices[0]`. */
export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint?: string;
  choices: ChatCompletionChunkChoice[];
  usage?: Usage | null;
  [key: string]: unknown;
}

export interface CompletionRequest extends SamplingFields {
  /** A string (Ollama accepts only that); some servers also take an array of prompts. */
  prompt: string | string[];
  /** As for `ChatCompletionRequest.stream`. */
  stream?: boolean | undefined;
  suffix?: string | undefined;
  echo?: boolean | undefined;
  best_of?: number | undefined;
  logprobs?: number | undefined;
  [key: string]: unknown;
}

export interface CompletionChoice {
  text: string;
  index: number;
  finish_reason: FinishReason | null;
  logprobs?: unknown;
  [key: string]: unknown;
}

/** A `text_completion`: one object for `completions`, each chunk of `completionsStream`. */
export interface Completion {
  id: string;
  object: 'text_completion';
  created: number;
  model: string;
  system_fingerprint?: string;
  choices: CompletionChoice[];
  usage?: Usage | null;
  [key: string]: unknown;
}

export interface EmbeddingsRequest {
  model: string;
  input: string | string[];
  dimensions?: number | undefined;
  /** `base64` returns each vector as base64 of little-endian float32, as the server sent it
   * (the answer is then an `EmbeddingsResponse<string>`). */
  encoding_format?: 'float' | 'base64' | undefined;
  user?: string | undefined;
  [key: string]: unknown;
}

/** One vector: numbers, or (`Embedding<string>`) the server's base64 when the request asked for
 * `encoding_format: "base64"`. */
export interface Embedding<Vector extends number[] | string = number[]> {
  object: 'embedding';
  embedding: Vector;
  index: number;
  [key: string]: unknown;
}

/** The vectors of an `embeddings` call: `EmbeddingsResponse<string>` for a request that asked
 * for `encoding_format: "base64"`, else numbers. */
export interface EmbeddingsResponse<Vector extends number[] | string = number[]> {
  object: 'list';
  data: Embedding<Vector>[];
  model: string;
  usage?: { prompt_tokens: number; total_tokens: number; [key: string]: unknown };
  [key: string]: unknown;
}

export interface Model {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
  [key: string]: unknown;
}

/** The listing; `data` is always an array (Ollama sends `null` when no model is installed). */
export interface ModelList {
  object: 'list';
  data: Model[];
  [key: string]: unknown;
}
