import { checkedHeaders, headerValueProblem, isHeaderName } from '../internal/header-values.ts';
import { count, delayValue } from '../retry.ts';
import { chatCompletions, chatStream } from './chat.ts';
import { completionStream, completions } from './completions.ts';
import { type EmbeddingsOptions, embeddings } from './embeddings.ts';
import { isRecord } from '../internal/validate.ts';
import { ON_RESPONSE, resolveV1 } from './internal/resolve.ts';
import { answerWith, clientStream } from './internal/stream.ts';
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
  ModelListPromise,
  NullableHeaders,
  OpenAINodeOptions,
  OpenAIRequestOptions,
  QueryInput,
  Stream,
  StreamPromise,
  APIPromise,
} from './types.ts';

type Streaming<R> = R & { stream: true };

/** The options of `createOpenAI`: those of every call, and the ones openai-node's constructor
 * takes, under its names. */
export interface OpenAIClientOptions extends EmbeddingsOptions, OpenAINodeOptions {
  /**
   * openai-node's name for headers sent with every request, merged by name under `headers`
   * (which wins) and over `organization` and `project`.
   * @default none
   */
  defaultHeaders?: NullableHeaders | undefined;
  /**
   * openai-node's name for query parameters on every request URL, merged by name under
   * `query` and each request's own `query`.
   * @default none
   */
  defaultQuery?: QueryInput | undefined;
  /**
   * Sent as the `OpenAI-Organization` header. Unlike openai-node, `OPENAI_ORG_ID` is not read.
   * @default none
   */
  organization?: string | null | undefined;
  /**
   * Sent as the `OpenAI-Project` header. Unlike openai-node, `OPENAI_PROJECT_ID` is not read.
   * @default none
   */
  project?: string | null | undefined;
}

/** An object shaped like openai-node's client for the endpoints this package serves, so code
 * written for it ports by changing the import. */
export interface OpenAIClient {
  readonly chat: {
    readonly completions: {
      /** With `stream: true`: a promise of the stream, resolved once its first chunk is in. */
      create(
        request: Streaming<ChatCompletionRequest>,
        options?: OpenAIRequestOptions,
      ): StreamPromise<ChatCompletionChunk>;
      create(
        request: ChatCompletionRequest & { stream?: false | undefined },
        options?: OpenAIRequestOptions,
      ): APIPromise<ChatCompletion>;
      /** `stream` known only at run time, as openai-node's third overload. */
      create(
        request: ChatCompletionRequest,
        options?: OpenAIRequestOptions,
      ): APIPromise<ChatCompletion | Stream<ChatCompletionChunk>>;
    };
  };
  readonly completions: {
    create(request: Streaming<CompletionRequest>, options?: OpenAIRequestOptions): StreamPromise<Completion>;
    create(
      request: CompletionRequest & { stream?: false | undefined },
      options?: OpenAIRequestOptions,
    ): APIPromise<Completion>;
    create(request: CompletionRequest, options?: OpenAIRequestOptions): APIPromise<Completion | Stream<Completion>>;
  };
  readonly embeddings: {
    create(
      request: EmbeddingsRequest & { encoding_format: 'base64' },
      options?: EmbeddingsOptions & OpenAINodeOptions,
    ): APIPromise<EmbeddingsResponse<string>>;
    create(request: EmbeddingsRequest, options?: EmbeddingsOptions & OpenAINodeOptions): APIPromise<EmbeddingsResponse>;
  };
  readonly models: {
    /** The listing to `await`, or its models to `for await`. */
    list(options?: OpenAIRequestOptions): ModelListPromise;
    retrieve(id: string, options?: OpenAIRequestOptions): APIPromise<Model>;
  };
  /** A client with these options over this one's (openai-node's `withOptions`). */
  withOptions(options: OpenAIClientOptions): OpenAIClient;
  /** The base URL the calls go to, as they would resolve it now (the environment included). */
  readonly baseURL: string;
  /** The key the calls send: `apiKey`, or `OPENAI_API_KEY` where `OPENAI_BASE_URL` names the base. */
  readonly apiKey: string | undefined;
}

/**
 * A client with `config` applied to every call, shaped like openai-node's:
 * `client.chat.completions.create(req)` (with `stream: true`, a promise of a `Stream`: HTTP and
 * connection failures reject the `await`), `client.completions.create`,
 * `client.embeddings.create`, `client.models.list` (awaited or iterated),
 * `client.models.retrieve`. openai-node's constructor options are taken under its names
 * (`defaultHeaders`, `defaultQuery`, `organization`, `project`, `timeout`, `maxRetries`), and so
 * are its request options (`timeout`, `maxRetries`, `query`, `headers`, `signal`). Per-call
 * options are merged over the client's, headers and query parameters by name. Nothing is read
 * or sent until a call is made.
 */
export function createOpenAI(config: OpenAIClientOptions = {}): OpenAIClient {
  // `as unknown`: narrowed to a record, `config` would lose its named fields to the index signature.
  if (!isRecord(config as unknown)) {
    throw new TypeError('createOpenAI: options must be an object such as { baseURL: "http://127.0.0.1:11434/v1" }');
  }
  const defaults: OpenAIClientOptions = ours(config, 'createOpenAI: ');
  const fixed = new Headers();
  for (const [name, header] of [
    ['organization', 'OpenAI-Organization'],
    ['project', 'OpenAI-Project'],
  ] as const) {
    const value: unknown = config[name];
    if (value === undefined || value === null) continue;
    const problem = typeof value === 'string' ? headerValueProblem(value) : `must be a string, got ${typeof value}`;
    if (problem !== undefined) throw new TypeError(`createOpenAI: ${name} ${problem}`);
    fixed.set(header, value as string);
  }
  addHeaders(fixed, config.defaultHeaders, 'createOpenAI: defaultHeaders');
  addHeaders(fixed, config.headers, 'createOpenAI: headers');
  defaults.headers = fixed;
  const query: QueryInput = {
    ...queryObject(config.defaultQuery, 'createOpenAI: defaultQuery'),
    ...queryObject(config.query, 'createOpenAI: query'),
  };
  defaults.query = query;

  /** The options of one call: its own over the client's. It may throw, so it runs in `later`. */
  const merge = (options: OpenAIRequestOptions | undefined): EmbeddingsOptions => {
    if (options === undefined) return defaults;
    // Not an object: the call's own check refuses it, as the function API's would.
    if (!isRecord(options as unknown)) return options as EmbeddingsOptions;
    const merged: EmbeddingsOptions = { ...defaults, ...ours(options, 'options.'), headers: undefined };
    const headers = new Headers(fixed);
    addHeaders(headers, options.headers, 'options.headers');
    merged.headers = headers;
    merged.query = { ...query, ...queryObject(options.query, 'options.query') };
    return merged;
  };
  // One body for the overloads of each; `stream: true` picks the stream.
  const createChat = ((request: ChatCompletionRequest, options?: OpenAIRequestOptions) =>
    request?.stream === true
      ? clientStream(
          () => merge(options),
          (resolved) => chatStream(request, resolved),
        )
      : answered((hook) =>
          chatCompletions(request, hooked(merge(options), hook)),
        )) as OpenAIClient['chat']['completions']['create'];
  const createCompletion = ((request: CompletionRequest, options?: OpenAIRequestOptions) =>
    request?.stream === true
      ? clientStream(
          () => merge(options),
          (resolved) => completionStream(request, resolved),
        )
      : answered((hook) =>
          completions(request, hooked(merge(options), hook)),
        )) as OpenAIClient['completions']['create'];
  return {
    chat: { completions: { create: createChat } },
    completions: { create: createCompletion },
    embeddings: {
      create: ((request: EmbeddingsRequest, options?: EmbeddingsOptions & OpenAINodeOptions) =>
        answered((hook) => embeddings(request, hooked(merge(options), hook)))) as OpenAIClient['embeddings']['create'],
    },
    models: {
      list(options) {
        const listing = answered((hook) => listModels(hooked(merge(options), hook)));
        return Object.assign(listing, {
          async *[Symbol.asyncIterator]() {
            yield* (await listing).data;
          },
        });
      },
      retrieve: (id, options) => answered((hook) => retrieveModel(id, hooked(merge(options), hook))),
    },
    withOptions: (options) => createOpenAI({ ...config, ...options }),
    get baseURL(): string {
      return resolveV1(defaults).base;
    },
    get apiKey(): string | undefined {
      const sent = resolveV1(defaults).authorization;
      return sent?.startsWith('Bearer ') === true ? sent.slice('Bearer '.length) : undefined;
    },
  };
}

/** `run()`, whose throw rejects: a call of the client never throws, its promise rejects. */
function later<T>(run: () => Promise<T>): Promise<T> {
  return new Promise((resolve) => resolve(run()));
}

/** `later(run)` with openai-node's `withResponse()`: `run` is given the hook that is told of the
 * call's response. */
function answered<T>(run: (hook: (response: Response) => void) => Promise<T>): APIPromise<T> {
  let response: Response | undefined;
  const promise = later(() =>
    run((arrived) => {
      response = arrived;
    }),
  ).then((data) => withRequestId(data, response));
  return Object.assign(promise, { withResponse: () => promise.then((data) => answerWith(data, response)) });
}

/** An object answer with openai-node's `_request_id` (the `x-request-id` header, or null), not
 * enumerable, so that the answer logs and serialises as the server sent it. */
function withRequestId<T>(data: T, response: Response | undefined): T {
  if (typeof data !== 'object' || data === null || Array.isArray(data) || response === undefined) return data;
  return Object.defineProperty(data, '_request_id', {
    value: response.headers.get('x-request-id'),
    enumerable: false,
    configurable: true,
  });
}

/** `options` (the call's, merged over the client's) carrying the `withResponse()` hook. */
function hooked<O>(options: O, hook: (response: Response) => void): O {
  // Not an object: left for the call's own check to refuse.
  return isRecord(options) ? { ...options, [ON_RESPONSE]: hook } : options;
}

/**
 * The options as this package names them: openai-node's `timeout` is `readTimeout` and its
 * `maxRetries` is `retry: { retries }`, unless those are given too. Keys whose value is
 * undefined are left out, so that they do not hide the client's own when merged over them.
 */
function ours<O extends OpenAIRequestOptions>(options: O, call: string): O {
  if ((options as { fetchOptions?: unknown }).fetchOptions !== undefined) {
    // Ignored, a proxy's `dispatcher` in it would be bypassed without a word.
    throw new TypeError(
      `${call}fetchOptions is not taken: pass a fetch that adds them, such as ` +
        '{ fetch: (url, init) => fetch(url, { ...init, ...fetchOptions }) }',
    );
  }
  const { timeout, maxRetries, ...rest } = options;
  const out = Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)) as O;
  if (timeout !== undefined) {
    if (typeof timeout !== 'number') throw new TypeError(`${call}timeout must be a number of milliseconds`);
    out.readTimeout ??= timeout === Infinity ? 0 : delayValue(timeout, `${call}timeout`);
  }
  if (maxRetries !== undefined) {
    if (typeof maxRetries !== 'number') throw new TypeError(`${call}maxRetries must be a number`);
    out.retry ??= { retries: count(maxRetries, `${call}maxRetries`) };
  }
  return out;
}

/** `init` merged into `headers` by name. In an object, an undefined value changes nothing and a
 * null one removes the header, the client's default included, as in openai-node. */
function addHeaders(headers: Headers, init: unknown, option: string): void {
  let pairs = init;
  if (isRecord(init) && !(Symbol.iterator in init)) {
    const entries = Object.entries(init);
    for (const [name, value] of entries) {
      if (value === null && isHeaderName(name)) headers.delete(name);
    }
    pairs = entries.filter(([, value]) => value != null);
  }
  try {
    checkedHeaders(pairs).forEach((value, name) => {
      headers.set(name, value);
    });
  } catch (error) {
    // The shared check names `options.headers`; it never shows a value.
    throw new TypeError((error as Error).message.replace('options.headers', option));
  }
}

function queryObject(query: unknown, option: string): QueryInput | undefined {
  if (query !== undefined && !isRecord(query)) {
    throw new TypeError(`${option} must be an object of query parameters, such as { 'api-version': '2024-10-21' }`);
  }
  return query as QueryInput | undefined;
}
