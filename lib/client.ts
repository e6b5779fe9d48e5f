import { chat, chatStream, generate, generateStream } from './chat.ts';
import { type EmbedOptions, embed, embeddings } from './embed.ts';
import { checkedHeaders } from './internal/header-values.ts';
import { resolveOptions } from './internal/resolve-options.ts';
import { isRecord } from './internal/validate.ts';
import { copyModel, deleteModel, isRunning, listModels, listRunning, showModel, version } from './models.ts';
import type { CallOptions } from './options.ts';
import { type BlobOptions, createModel, type ProgressOptions, pullModel, pushBlob, pushModel } from './transfer.ts';
import type {
  ChatRequest,
  ChatResponse,
  ChatStreamRequest,
  CopyRequest,
  CreateRequest,
  DeleteRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
  EmbedRequest,
  EmbedResponse,
  GenerateRequest,
  GenerateResponse,
  GenerateStreamRequest,
  ListResponse,
  ProgressResponse,
  PullRequest,
  PushRequest,
  RunningResponse,
  ShowRequest,
  ShowResponse,
  VersionResponse,
} from './types.ts';

/**
 * What a client holds: any option a call takes, except `signal`, which belongs to one call
 * (a client-wide signal would be silently replaced by the first call that passes its own).
 */
export type ClientOptions = Omit<EmbedOptions & ProgressOptions, 'signal'>;

/**
 * Every call of the library with `defaults` under each call's own options: a call's option
 * replaces the default of the same name, except `headers`, merged header by header (the
 * call's win), and a `retry` object, merged field by field over a default `retry` object.
 * The client keeps nothing but a copy of `defaults`; `createClient()` is a client for
 * `OLLAMA_HOST`, read at each call.
 */
export function createClient(defaults: ClientOptions = {}): OllamaClient {
  if (typeof defaults !== 'object' || defaults === null || Array.isArray(defaults)) {
    throw new TypeError("createClient: defaults must be an object such as { host: 'http://127.0.0.1:11434' }");
  }
  if ((defaults as CallOptions).signal !== undefined) {
    throw new TypeError('createClient: a signal cannot be a default; pass it to each call (options.signal)');
  }
  resolveOptions(defaults); // a bad default fails here, not at the first call
  const fixed: ClientOptions = { ...defaults };
  // Checked as a call checks them (resolveOptions above did): undefined values left out.
  if (defaults.headers !== undefined) fixed.headers = new Headers(checkedHeaders(defaults.headers));
  const own = <O extends CallOptions>(options: O | undefined): O => merge(fixed, options);

  return Object.freeze({
    chat: (request: ChatRequest, options?: CallOptions) => chat(request, own(options)),
    chatStream: (request: ChatStreamRequest, options?: CallOptions) => chatStream(request, own(options)),
    generate: (request: GenerateRequest, options?: CallOptions) => generate(request, own(options)),
    generateStream: (request: GenerateStreamRequest, options?: CallOptions) => generateStream(request, own(options)),
    embed: (request: EmbedRequest, options?: EmbedOptions) => embed(request, own(options)),
    embeddings: (request: EmbeddingsRequest, options?: CallOptions) => embeddings(request, own(options)),
    listModels: (options?: CallOptions) => listModels(own(options)),
    showModel: (request: ShowRequest, options?: CallOptions) => showModel(request, own(options)),
    listRunning: (options?: CallOptions) => listRunning(own(options)),
    version: (options?: CallOptions) => version(own(options)),
    copyModel: (request: CopyRequest, options?: CallOptions) => copyModel(request, own(options)),
    deleteModel: (request: DeleteRequest, options?: CallOptions) => deleteModel(request, own(options)),
    pullModel: (request: PullRequest, options?: ProgressOptions) => pullModel(request, own(options)),
    pushModel: (request: PushRequest, options?: ProgressOptions) => pushModel(request, own(options)),
    createModel: (request: CreateRequest, options?: ProgressOptions) => createModel(request, own(options)),
    pushBlob: (bytes: Uint8Array | ArrayBuffer | Blob, options?: BlobOptions) => pushBlob(bytes, own(options)),
    isRunning: (options?: CallOptions) => isRunning(own(options)),
  });
}

/** The object `createClient` returns: every call of the library, each with the client's defaults
 * under its own options. */
export interface OllamaClient {
  readonly chat: (request: ChatRequest, options?: CallOptions) => Promise<ChatResponse>;
  readonly chatStream: (
    request: ChatStreamRequest,
    options?: CallOptions,
  ) => AsyncGenerator<ChatResponse, void, undefined>;
  readonly generate: (request: GenerateRequest, options?: CallOptions) => Promise<GenerateResponse>;
  readonly generateStream: (
    request: GenerateStreamRequest,
    options?: CallOptions,
  ) => AsyncGenerator<GenerateResponse, void, undefined>;
  readonly embed: (request: EmbedRequest, options?: EmbedOptions) => Promise<EmbedResponse>;
  readonly embeddings: (request: EmbeddingsRequest, options?: CallOptions) => Promise<EmbeddingsResponse>;
  readonly listModels: (options?: CallOptions) => Promise<ListResponse>;
  readonly showModel: (request: ShowRequest, options?: CallOptions) => Promise<ShowResponse>;
  readonly listRunning: (options?: CallOptions) => Promise<RunningResponse>;
  readonly version: (options?: CallOptions) => Promise<VersionResponse>;
  readonly copyModel: (request: CopyRequest, options?: CallOptions) => Promise<void>;
  readonly deleteModel: (request: DeleteRequest, options?: CallOptions) => Promise<void>;
  readonly pullModel: (request: PullRequest, options?: ProgressOptions) => Promise<ProgressResponse>;
  readonly pushModel: (request: PushRequest, options?: ProgressOptions) => Promise<ProgressResponse>;
  readonly createModel: (request: CreateRequest, options?: ProgressOptions) => Promise<ProgressResponse>;
  readonly pushBlob: (bytes: Uint8Array | ArrayBuffer | Blob, options?: BlobOptions) => Promise<string>;
  readonly isRunning: (options?: CallOptions) => Promise<boolean>;
}

function merge<O extends CallOptions>(defaults: ClientOptions, options: O | undefined): O {
  // Anything but an object is left for the call to reject with its own message.
  if (options === undefined) return defaults as O;
  if (typeof options !== 'object' || options === null) return options;
  const merged: { headers?: unknown; retry?: unknown; [name: string]: unknown } = { ...defaults };
  for (const [name, value] of Object.entries(options)) {
    if (value !== undefined) merged[name] = value;
  }
  if (defaults.headers !== undefined && options.headers !== undefined) {
    try {
      const headers = new Headers(checkedHeaders(defaults.headers));
      checkedHeaders(options.headers).forEach((value, name) => {
        headers.set(name, value);
      });
      merged.headers = headers;
    } catch {
      // Invalid headers: the call reports them.
    }
  }
  if (isRecord(defaults.retry) && isRecord(options.retry)) merged.retry = { ...defaults.retry, ...options.retry };
  return merged as unknown as O;
}
