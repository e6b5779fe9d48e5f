// The request and response types under the names ollama-js 0.6.4 exports, so that code importing
// them from 'ollama' compiles when it imports them from 'ollama-fetch/compat'. Where ollama-js
// declares a field that Ollama may leave out as always present, these say it is optional: the
// types describe what arrives.
import type { FetchLike, HeadersInput } from '../options.ts';
import type * as Native from '../types.ts';
import type { WebFetchResponse as NativeWebFetchResponse } from '../web.ts';

export type Fetch = FetchLike;

/** ollama-js's constructor options. */
export interface Config {
  /** Parsed as ollama-js parses it: `example.com` → `http://example.com:11434`, `:8080` →
   * `http://127.0.0.1:8080`, `http://1.2.3.4` → port 80. OLLAMA_HOST is not read. */
  host: string;
  fetch?: Fetch | undefined;
  /** `true`: the page's own origin, for a browser behind a same-origin proxy. */
  proxy?: boolean | undefined;
  headers?: HeadersInput | undefined;
}

/** Every model option ollama-js names; Ollama ignores the ones it no longer knows. */
export interface Options extends Native.ModelOptions {
  numa?: boolean;
  low_vram?: boolean;
  f16_kv?: boolean;
  logits_all?: boolean;
  vocab_only?: boolean;
  use_mlock?: boolean;
  embedding_only?: boolean;
  tfs_z?: number;
  mirostat?: number;
  mirostat_tau?: number;
  mirostat_eta?: number;
  penalize_newline?: boolean;
}

interface Loose {
  format?: string | object;
  options?: Partial<Options>;
}

/**
 * A tool as ollama-js declares it: `type` is any string and `function.name` optional, so that a
 * tool written as an object literal without a type (`const tool = { type: 'function', … }`, whose
 * `type` TypeScript widens to `string`) can be passed as it is. Ollama reads `"function"`.
 */
export interface Tool {
  type: string;
  /** Ollama's `Tool.Items`: a schema for array-typed tools. */
  items?: unknown;
  function: {
    name?: string;
    description?: string;
    type?: string;
    /** The arguments as a JSON Schema, usually `{ type: 'object', properties, required }`. */
    parameters?: Native.JsonSchema;
  };
}

/** A tool call as ollama-js declares it: its `arguments` typed `any` per key, so that
 * `call.function.arguments.city` reads as it does there. */
export interface ToolCall {
  id?: string;
  function: Omit<Native.ToolCallFunction, 'arguments'> & {
    // biome-ignore lint/suspicious/noExplicitAny: ollama-js's own type, for code written against it
    arguments: { [key: string]: any };
  };
}

export interface Message extends Omit<Native.Message, 'tool_calls'> {
  tool_calls?: ToolCall[];
}

export interface ChatRequest
  extends Omit<Native.ChatRequest, 'format' | 'options' | 'stream' | 'messages' | 'tools'>,
    Loose {
  /** Absent or empty: only load the model (or unload it with `keep_alive: 0`). */
  messages?: Message[];
  tools?: Tool[];
  /** `true`: the call resolves to an `AbortableAsyncIterator` of the chunks, as in ollama-js. */
  stream?: boolean;
}

export interface ChatResponse extends Omit<Native.ChatResponse, 'message'> {
  message: Message;
}

export interface GenerateRequest extends Omit<Native.GenerateRequest, 'format' | 'options' | 'stream'>, Loose {
  /** `true`: the call resolves to an `AbortableAsyncIterator` of the chunks, as in ollama-js. */
  stream?: boolean;
  /** Experimental image generation. */
  width?: number;
  height?: number;
  steps?: number;
}

export interface EmbedRequest extends Omit<Native.EmbedRequest, 'options'> {
  options?: Partial<Options>;
}

export interface EmbeddingsRequest extends Omit<Native.EmbeddingsRequest, 'options'> {
  options?: Partial<Options>;
}

export interface ShowRequest extends Omit<Native.ShowRequest, 'options'> {
  options?: Partial<Options>;
}

export interface PullRequest {
  model: string;
  insecure?: boolean;
  stream?: boolean;
}

export type PushRequest = PullRequest;

export type CreateRequest = Native.CreateRequest;
export type CopyRequest = Native.CopyRequest;
export type DeleteRequest = Native.DeleteRequest;

export interface WebSearchRequest {
  query: string;
  /** Sent as `max_results`, the name the server reads (ollama-js sends `maxResults`, which it ignores). */
  maxResults?: number;
  /** The wire name, accepted too. */
  max_results?: number;
}

export interface StatusResponse {
  status: string;
}

export interface ErrorResponse {
  error: string;
}

export type ModelResponse = Native.ModelEntry;

export type {
  EmbeddingsResponse,
  EmbedResponse,
  GenerateResponse,
  ListResponse,
  Logprob,
  ModelDetails,
  ProgressResponse,
  RunningModel,
  RunningResponse,
  ShowResponse,
  TokenLogprob,
  VersionResponse,
} from '../types.ts';
export type { WebFetchRequest, WebSearchResponse, WebSearchResult } from '../web.ts';

/** As ollama-js declares it: `links` always there (an empty list for a page without any, which
 * ollama.com leaves out). */
export interface WebFetchResponse extends NativeWebFetchResponse {
  links: string[];
}
