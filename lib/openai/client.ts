import { chatCompletions, chatCompletionsStream } from './chat.ts';
import { completions, completionsStream } from './completions.ts';
import { type EmbeddingsOptions, embeddings } from './embeddings.ts';
import { listModels, retrieveModel } from './models.ts';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  Completion,
  CompletionRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
  Model,
  ModelList,
  OpenAIOptions,
} from './types.ts';

type Streaming<R> = R & { stream: true };

/** An object shaped like openai-node's client for the endpoints this package serves, so code
 * written for it ports by changing the import. */
export interface OpenAIClient {
  readonly chat: {
    readonly completions: {
      create(
        request: Streaming<ChatCompletionRequest>,
        options?: OpenAIOptions,
      ): AsyncGenerator<ChatCompletionChunk, void, undefined>;
      create(
        request: ChatCompletionRequest & { stream?: false | undefined },
        options?: OpenAIOptions,
      ): Promise<ChatCompletion>;
    };
  };
  readonly completions: {
    create(request: Streaming<CompletionRequest>, options?: OpenAIOptions): AsyncGenerator<Completion, void, undefined>;
    create(request: CompletionRequest & { stream?: false | undefined }, options?: OpenAIOptions): Promise<Completion>;
  };
  readonly embeddings: {
    create(request: EmbeddingsRequest, options?: EmbeddingsOptions): Promise<EmbeddingsResponse>;
  };
  readonly models: {
    list(options?: OpenAIOptions): Promise<ModelList>;
    retrieve(id: string, options?: OpenAIOptions): Promise<Model>;
  };
}

/**
 * A client with `defaults` applied to every call, shaped like openai-node's:
 * `client.chat.completions.create(req)` (with `stream: true`, an async iterable of chunks,
 * which `await` leaves as it is, so `for await (const c of await create(…))` works),
 * `client.completions.create`, `client.embeddings.create`, `client.models.list`,
 * `client.models.retrieve`. Per-call options are merged over the defaults, headers by name.
 * Nothing is read or sent until a call is made.
 */
export function createOpenAI(defaults: EmbeddingsOptions = {}): OpenAIClient {
  if (typeof defaults !== 'object' || defaults === null) {
    throw new TypeError('createOpenAI: defaults must be an object such as { baseURL: "http://127.0.0.1:11434/v1" }');
  }
  const merge = <O extends OpenAIOptions>(options: O | undefined): O => {
    if (options === undefined) return defaults as O;
    const merged = { ...defaults, ...options } as O;
    if (defaults.headers !== undefined && options.headers !== undefined) {
      const headers = new Headers(defaults.headers);
      new Headers(options.headers).forEach((value, name) => {
        headers.set(name, value);
      });
      merged.headers = headers;
    }
    return merged;
  };
  function createChat(
    request: Streaming<ChatCompletionRequest>,
    options?: OpenAIOptions,
  ): AsyncGenerator<ChatCompletionChunk, void, undefined>;
  function createChat(request: ChatCompletionRequest, options?: OpenAIOptions): Promise<ChatCompletion>;
  function createChat(request: ChatCompletionRequest, options?: OpenAIOptions) {
    if (request?.stream === true) return chatCompletionsStream(request, merge(options));
    return chatCompletions(request, merge(options));
  }
  function createCompletion(
    request: Streaming<CompletionRequest>,
    options?: OpenAIOptions,
  ): AsyncGenerator<Completion, void, undefined>;
  function createCompletion(request: CompletionRequest, options?: OpenAIOptions): Promise<Completion>;
  function createCompletion(request: CompletionRequest, options?: OpenAIOptions) {
    if (request?.stream === true) return completionsStream(request, merge(options));
    return completions(request, merge(options));
  }
  return {
    chat: { completions: { create: createChat } },
    completions: { create: createCompletion },
    embeddings: { create: (request, options) => embeddings(request, merge(options)) },
    models: {
      list: (options) => listModels(merge(options)),
      retrieve: (id, options) => retrieveModel(id, merge(options)),
    },
  };
}
