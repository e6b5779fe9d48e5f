// Request and response objects exactly as they travel on the wire, with Ollama's own field
// names, so the Ollama API documentation applies to them 1:1.

/** An image: base64 text as Ollama expects it, or raw bytes, which are encoded for you. */
export type ImageInput = string | Uint8Array | ArrayBuffer;

/** `true`/`false`, or an effort level for models that support one (gpt-oss maps `max` to `high`). */
export type Think = boolean | 'low' | 'medium' | 'high' | 'max';

/** `"json"` for any JSON, or a JSON Schema object for structured output. */
export type Format = 'json' | { [key: string]: unknown };

/** Seconds as a number (`0` unloads after the call, negative keeps the model loaded), or a Go
 * duration string with a unit (`"5m"`, `"1h30m"`; `"300"` without a unit is rejected); `null`
 * is the server's default, as if it were left out. */
export type KeepAlive = number | string | null;

/** The documented model options; each overrides the Modelfile's `PARAMETER` for one call. */
export interface ModelOptions {
  num_ctx?: number;
  num_predict?: number;
  num_keep?: number;
  num_batch?: number;
  num_gpu?: number;
  main_gpu?: number;
  num_thread?: number;
  use_mmap?: boolean;
  temperature?: number;
  top_k?: number;
  top_p?: number;
  min_p?: number;
  typical_p?: number;
  repeat_last_n?: number;
  repeat_penalty?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  seed?: number;
  /** An array: Ollama rejects a bare string. */
  stop?: string[];
  draft_num_predict?: number;
}

export interface ToolCallFunction {
  /** Position of the call in the model's answer, when the server says it: real answers often
   * leave it out (qwen2.5 and qwen3 streams, and any call at position 0). */
  index?: number;
  name: string;
  /** A JSON object (not a string, unlike the OpenAI API). */
  arguments: { [key: string]: unknown };
}

export interface ToolCall {
  id?: string;
  function: ToolCallFunction;
}

/**
 * A JSON Schema, as a tool's parameters (and `format`) take it: the common keywords are typed,
 * and any other keyword of the specification (`$ref`, `patternProperties`, `if`/`then`, …) is
 * accepted as it is, since Ollama passes the schema to the model's template untouched.
 */
export interface JsonSchema {
  type?: string | string[];
  description?: string;
  title?: string;
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  examples?: unknown[];
  format?: string;
  /** One schema for every item, or (draft 4-7) one per position. */
  items?: JsonSchema | JsonSchema[] | boolean;
  prefixItems?: JsonSchema[];
  properties?: { [name: string]: JsonSchema };
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  not?: JsonSchema;
  $ref?: string;
  $defs?: { [name: string]: JsonSchema };
  definitions?: { [name: string]: JsonSchema };
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number | boolean;
  exclusiveMaximum?: number | boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
  nullable?: boolean;
  [keyword: string]: unknown;
}

/** A property of a tool's parameters: any JSON Schema. */
export type ToolProperty = JsonSchema;

export interface Tool {
  type: 'function';
  /** Ollama's `Tool.Items` (api/types.go): a schema for array-typed tools. */
  items?: unknown;
  function: {
    name: string;
    description?: string;
    /** The arguments as a JSON Schema, usually `{ type: 'object', properties, required }`. */
    parameters?: JsonSchema;
  };
}

export interface Message {
  /** `system`, `user`, `assistant` or `tool`. */
  role: 'system' | 'user' | 'assistant' | 'tool' | (string & {});
  content: string;
  /** The reasoning trace of a thinking model; may be sent back in the history. */
  thinking?: string;
  images?: ImageInput[];
  tool_calls?: ToolCall[];
  /** On `role: "tool"` messages: the function that produced this result. */
  tool_name?: string;
  tool_call_id?: string;
}

export interface TokenLogprob {
  token: string;
  logprob: number;
  bytes?: number[];
}

export interface Logprob extends TokenLogprob {
  top_logprobs?: TokenLogprob[];
}

/** The timing fields of a final chunk, durations in nanoseconds. */
export interface Metrics {
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
  prompt_eval_duration?: number;
  eval_count?: number;
  eval_duration?: number;
  /** Prompt tokens served from the cache (ollama.com sends it on the final chunk). */
  prompt_eval_cached_count?: number;
}

interface InferenceRequest {
  model: string;
  format?: Format;
  keep_alive?: KeepAlive;
  options?: ModelOptions;
  think?: Think;
  /** Cut the prompt or history to fit the context. Default true. */
  truncate?: boolean;
  shift?: boolean;
  logprobs?: boolean;
  /** 0 to 20. */
  top_logprobs?: number;
  /** Only render the prompt: Ollama answers one chunk, not `done`, whose `_debug_info` carries the
   * rendering, and runs no model. */
  _debug_render_only?: boolean;
}

/** What a `_debug_render_only` request is answered with. */
export interface DebugInfo {
  rendered_template: string;
  image_count?: number;
}

export interface ChatRequest extends InferenceRequest {
  /** Absent or empty: only load the model (or unload it with `keep_alive: 0`). */
  messages?: Message[];
  tools?: Tool[];
  /**
   * Decided by the function you call, not by this field: `chat` answers with one object, so
   * `stream: true` is refused (at compile time, and with a TypeError at run time); call
   * `chatStream` to iterate the chunks. Both stream on the wire.
   */
  stream?: false;
}

/** What `chatStream` takes: a `ChatRequest`, where `stream` may be anything since the
 * function always yields chunks (so `stream: true` from code written for another client is
 * accepted as it is). */
export interface ChatStreamRequest extends Omit<ChatRequest, 'stream'> {
  stream?: boolean;
}

export interface ChatResponse extends Metrics {
  model: string;
  created_at: string;
  message: Message;
  done: boolean;
  /** `stop`, `length`, or `load`/`unload` for model-management requests. */
  done_reason?: string;
  logprobs?: Logprob[];
  /** Cloud models: the model and host that actually answered. */
  remote_model?: string;
  remote_host?: string;
  /** The answer to `_debug_render_only`. */
  _debug_info?: DebugInfo;
}

export interface GenerateRequest extends InferenceRequest {
  /** Empty or absent: only load the model (or unload it with `keep_alive: 0`). */
  prompt?: string;
  suffix?: string;
  system?: string;
  template?: string;
  /** Deprecated by Ollama: the `context` of an earlier final chunk. */
  context?: number[];
  raw?: boolean;
  images?: ImageInput[];
  /**
   * Decided by the function you call, not by this field: `generate` answers with one object,
   * so `stream: true` is refused (at compile time, and with a TypeError at run time); call
   * `generateStream` to iterate the chunks. Both stream on the wire.
   */
  stream?: false;
}

/** What `generateStream` takes: a `GenerateRequest`, where `stream` may be anything since the
 * function always yields chunks. */
export interface GenerateStreamRequest extends Omit<GenerateRequest, 'stream'> {
  stream?: boolean;
}

export interface GenerateResponse extends Metrics {
  model: string;
  created_at: string;
  response: string;
  thinking?: string;
  done: boolean;
  done_reason?: string;
  /** Final chunk only, and not in raw mode. */
  context?: number[];
  tool_calls?: ToolCall[];
  logprobs?: Logprob[];
  /** Cloud models: the model and host that actually answered. */
  remote_model?: string;
  remote_host?: string;
  /** The answer to `_debug_render_only`. */
  _debug_info?: DebugInfo;
}

export interface EmbedRequest {
  model: string;
  input: string | string[];
  truncate?: boolean;
  dimensions?: number;
  keep_alive?: KeepAlive;
  options?: ModelOptions;
}

export interface EmbedResponse {
  model: string;
  /** One L2-normalised vector per input, in input order. */
  embeddings: number[][];
  total_duration?: number;
  load_duration?: number;
  prompt_eval_count?: number;
}

/** The legacy endpoint: one prompt, one vector, not normalised. */
export interface EmbeddingsRequest {
  model: string;
  prompt: string;
  keep_alive?: KeepAlive;
  options?: ModelOptions;
}

export interface EmbeddingsResponse {
  embedding: number[];
}

/** The `details` Ollama gives for a model in listings, `show` and `ps`. */
export interface ModelDetails {
  parent_model?: string;
  format?: string;
  family?: string;
  families?: string[] | null;
  parameter_size?: string;
  quantization_level?: string;
  context_length?: number;
  embedding_length?: number;
}

/** One installed model, as GET /api/tags lists it. */
export interface ModelEntry {
  name: string;
  model: string;
  modified_at: string;
  size: number;
  digest: string;
  details: ModelDetails;
  capabilities?: string[];
  /** Cloud models only. */
  remote_model?: string;
  remote_host?: string;
}

export interface ListResponse {
  /** Empty, never null, when nothing is installed. */
  models: ModelEntry[];
}

/** One loaded model, as GET /api/ps lists it (latest `expires_at` first). */
export interface RunningModel {
  name: string;
  model: string;
  size: number;
  digest: string;
  details: ModelDetails;
  expires_at: string;
  size_vram: number;
  context_length?: number;
}

export interface RunningResponse {
  models: RunningModel[];
}

export interface ShowRequest {
  model: string;
  /** Also return the large arrays of `model_info` (the tokenizer's vocabulary). A GGUF model's
   * `tensors` come either way; a safetensors model's only with `verbose`. */
  verbose?: boolean;
  system?: string;
  template?: string;
  options?: ModelOptions;
}

export interface ShowResponse {
  license?: string;
  modelfile?: string;
  parameters?: string;
  template?: string;
  system?: string;
  renderer?: string;
  parser?: string;
  details?: ModelDetails;
  messages?: Message[];
  /** The GGUF metadata; cloud models leave it out. */
  model_info?: { [key: string]: unknown };
  projector_info?: { [key: string]: unknown };
  tensors?: Array<{ name: string; type: string; shape: number[] }>;
  capabilities?: string[];
  modified_at?: string;
  requires?: string;
  remote_model?: string;
  remote_host?: string;
}

export interface VersionResponse {
  /** The server's version, such as `0.12.0`. */
  version: string;
}

export interface CopyRequest {
  source: string;
  destination: string;
}

export interface DeleteRequest {
  model: string;
}

export interface PullRequest {
  model: string;
  /** Allow a registry without TLS. */
  insecure?: boolean;
  /** Ignored: progress always streams on the wire, so the read timeout stays meaningful. */
  stream?: boolean;
}

export type PushRequest = PullRequest;

export interface CreateRequest {
  model: string;
  /** An existing model to build on. */
  from?: string;
  /** File names mapped to the digests `pushBlob` returned: `{ 'model.gguf': 'sha256:…' }`. */
  files?: { [filename: string]: string };
  adapters?: { [filename: string]: string };
  template?: string;
  license?: string | string[];
  system?: string;
  parameters?: { [name: string]: unknown };
  messages?: Message[];
  /** Quantize a float16/float32 model, such as `q4_K_M`. */
  quantize?: string;
  renderer?: string;
  parser?: string;
  requires?: string;
  info?: { [key: string]: unknown };
  remote_host?: string;
  draft_files?: { [filename: string]: string };
  draft_quantize?: string;
  /** Ignored: progress always streams on the wire. */
  stream?: boolean;
}

/** One progress line of a pull, push or create, as Ollama sent it. */
export interface ProgressResponse {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
}

/** A progress line, plus how far the whole operation is. */
export interface ProgressEvent extends ProgressResponse {
  /**
   * From 0 to 1: bytes done over bytes announced, across every layer announced so far; it
   * never goes down, and is 1 at `success`. Absent until a line has carried a `total`
   * (`create` without files may never have one).
   */
  fraction?: number;
}
