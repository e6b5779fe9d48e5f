import { chat, chatStream, generate, generateStream } from '../chat.ts';
import { embed, embeddings } from '../embed.ts';
import { toBase64 } from '../internal/base64.ts';
import { checkedHeaders } from '../internal/header-values.ts';
import { resolveOptions } from '../internal/resolve-options.ts';
import { inTheBody } from '../internal/stream-body.ts';
import { link } from '../internal/signals.ts';
import { copyModel, deleteModel, listModels, listRunning, showModel, version } from '../models.ts';
import type { CallOptions } from '../options.ts';
import { createModel, type ProgressOptions, pullModel, pushModel } from '../transfer.ts';
import { WEB_HOST, webFetch, webSearch, type WebSearchRequest as NativeWebSearch } from '../web.ts';
import type * as Native from '../types.ts';
import { AbortableAsyncIterator } from './abortable.ts';
import { formatHost } from './internal/host.ts';
import { progressLines } from './internal/progress-lines.ts';
import { withResponseFields } from './internal/response-fields.ts';
import type {
  ChatRequest,
  ChatResponse,
  Config,
  CopyRequest,
  CreateRequest,
  DeleteRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
  EmbedRequest,
  EmbedResponse,
  GenerateRequest,
  GenerateResponse,
  ListResponse,
  ProgressResponse,
  PullRequest,
  PushRequest,
  RunningResponse,
  ShowRequest,
  ShowResponse,
  StatusResponse,
  VersionResponse,
  WebFetchRequest,
  WebFetchResponse,
  WebSearchRequest,
  WebSearchResponse,
} from './types.ts';

/** The constructor's options: ollama-js's `{ host, fetch, proxy, headers }`, plus this library's
 * call options, applied to every call of the instance. */
export interface OllamaOptions
  extends Omit<Partial<Config>, 'host'>,
    Omit<CallOptions, 'host' | 'headers' | 'fetch' | 'signal'> {
  /** Parsed as ollama-js parses it (`example.com` → port 11434, `:8080` → 127.0.0.1); OLLAMA_HOST is not read. */
  host?: string | undefined;
  /**
   * Where `webSearch` and `webFetch` go. Not in ollama-js, which always uses ollama.com.
   * `OLLAMA_API_KEY` is sent to https://ollama.com only: another host needs `apiKey`.
   * @default 'https://ollama.com'
   */
  webHost?: string | undefined;
  /**
   * The longest silence allowed from the server, as for every call of this library (see
   * `CallOptions.readTimeout`), with the limit that ollama-js has on Node by default: its fetch's
   * own 300 s for the headers and between chunks. A cold load that works with ollama-js works
   * here too, and fails where it fails, with a `read-timeout` error instead of "fetch failed".
   * @default 300000
   */
  readTimeout?: number | undefined;
}

/** See `OllamaOptions.readTimeout`. */
const COMPAT_READ_TIMEOUT = 300_000;

/** A call in flight: its own controller (for `abort()`), and what to do when it ends. */
interface Running {
  controller: AbortController;
  options: CallOptions;
  end: () => void;
}

/**
 * ollama-js 0.6.4's `Ollama` class on this library's calls: the same methods, requests and
 * answers, with timeouts, retries, typed errors (`OllamaError`, which also has ollama-js's
 * `error` and `status_code`), no console output, and a `break` that closes the connection. Each
 * method takes an optional last argument of call options (`signal`, timeouts…) for that call.
 */
export class Ollama {
  // The minified build renames classes; `util.inspect` and `constructor.name` should not show it.
  static {
    Object.defineProperty(Ollama, 'name', { value: 'Ollama' });
  }

  readonly #defaults: CallOptions;
  readonly #webHost: string;
  /** Every call of the instance follows it (`link`, which holds them weakly: a stream awaited and
   * never looped over is not kept); `abort()` aborts it and puts a fresh one in its place. Made at
   * the first call, so that the default instance, made at import, makes nothing. */
  #stop: AbortController | undefined;

  constructor(config?: OllamaOptions) {
    const { host, proxy, webHost, ...rest } = config ?? {};
    let base: string;
    if (proxy === true) {
      const origin = (globalThis as { location?: { origin?: unknown } }).location?.origin;
      if (typeof origin !== 'string' || !/^https?:/.test(origin)) {
        throw new TypeError(
          'Ollama: proxy: true needs a page origin to send requests to (a browser); pass host instead',
        );
      }
      base = origin;
    } else {
      base = formatHost(host);
    }
    this.#defaults = { ...rest, host: base, readTimeout: rest.readTimeout ?? COMPAT_READ_TIMEOUT };
    // A bad option fails here, not at the first call. (Without options there is nothing to check,
    // and the default instance, made at import, must not touch even `Headers`.)
    if (config !== undefined) resolveOptions(this.#defaults);
    if (rest.headers !== undefined) this.#defaults.headers = new Headers(checkedHeaders(rest.headers));
    this.#webHost = webHost ?? WEB_HOST;
  }

  /** Aborts every call of this instance still running: streams, as in ollama-js, and also calls
   * without `stream: true`, which ollama-js cannot abort. Each rejects with an `AbortError`. */
  abort(): void {
    const stop = this.#stop;
    this.#stop = undefined;
    stop?.abort();
  }

  generate(
    request: GenerateRequest & { stream: true },
    options?: CallOptions,
  ): Promise<AbortableAsyncIterator<GenerateResponse>>;
  generate(request: GenerateRequest & { stream?: false }, options?: CallOptions): Promise<GenerateResponse>;
  /** A request whose `stream` is only known at run time (ollama-js has no such overload). */
  generate(
    request: GenerateRequest,
    options?: CallOptions,
  ): Promise<GenerateResponse | AbortableAsyncIterator<GenerateResponse>>;
  /** POST /api/generate. With `stream: true`, resolves once the first chunk has arrived. */
  async generate(
    request: GenerateRequest,
    options?: CallOptions,
  ): Promise<GenerateResponse | AbortableAsyncIterator<GenerateResponse>> {
    const { stream, ...rest } = request as GenerateRequest & { stream?: boolean };
    const body = rest as Native.GenerateRequest;
    if (stream === true) return this.#stream((o) => generateStream(body, o), options);
    return this.#once((o) => generate(body, o), options);
  }

  chat(request: ChatRequest & { stream: true }, options?: CallOptions): Promise<AbortableAsyncIterator<ChatResponse>>;
  chat(request: ChatRequest & { stream?: false }, options?: CallOptions): Promise<ChatResponse>;
  /** A request whose `stream` is only known at run time (ollama-js has no such overload). */
  chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse | AbortableAsyncIterator<ChatResponse>>;
  /** POST /api/chat. With `stream: true`, resolves once the first chunk has arrived. */
  async chat(
    request: ChatRequest,
    options?: CallOptions,
  ): Promise<ChatResponse | AbortableAsyncIterator<ChatResponse>> {
    const { stream, ...rest } = request as ChatRequest & { stream?: boolean };
    const body = rest as Native.ChatRequest;
    if (stream === true) return this.#stream((o) => chatStream(body, o), options);
    return this.#once((o) => chat(body, o), options);
  }

  create(
    request: CreateRequest & { stream: true },
    options?: CallOptions,
  ): Promise<AbortableAsyncIterator<ProgressResponse>>;
  create(request: CreateRequest & { stream?: false }, options?: CallOptions): Promise<ProgressResponse>;
  /** A request whose `stream` is only known at run time (ollama-js has no such overload). */
  create(
    request: CreateRequest,
    options?: CallOptions,
  ): Promise<ProgressResponse | AbortableAsyncIterator<ProgressResponse>>;
  /** POST /api/create. */
  async create(
    request: CreateRequest,
    options?: CallOptions,
  ): Promise<ProgressResponse | AbortableAsyncIterator<ProgressResponse>> {
    const { stream, ...body } = request;
    return this.#progress(stream === true, (o) => createModel(body, o), options);
  }

  pull(
    request: PullRequest & { stream: true },
    options?: CallOptions,
  ): Promise<AbortableAsyncIterator<ProgressResponse>>;
  pull(request: PullRequest & { stream?: false }, options?: CallOptions): Promise<ProgressResponse>;
  /** A request whose `stream` is only known at run time (ollama-js has no such overload). */
  pull(
    request: PullRequest,
    options?: CallOptions,
  ): Promise<ProgressResponse | AbortableAsyncIterator<ProgressResponse>>;
  /** POST /api/pull, naming the model as `model` and as the older `name`. */
  async pull(
    request: PullRequest,
    options?: CallOptions,
  ): Promise<ProgressResponse | AbortableAsyncIterator<ProgressResponse>> {
    const body = transferBody(request);
    return this.#progress(request?.stream === true, (o) => pullModel(body, o), options);
  }

  push(
    request: PushRequest & { stream: true },
    options?: CallOptions,
  ): Promise<AbortableAsyncIterator<ProgressResponse>>;
  push(request: PushRequest & { stream?: false }, options?: CallOptions): Promise<ProgressResponse>;
  /** A request whose `stream` is only known at run time (ollama-js has no such overload). */
  push(
    request: PushRequest,
    options?: CallOptions,
  ): Promise<ProgressResponse | AbortableAsyncIterator<ProgressResponse>>;
  /** POST /api/push, naming the model as `model` and as the older `name`. */
  async push(
    request: PushRequest,
    options?: CallOptions,
  ): Promise<ProgressResponse | AbortableAsyncIterator<ProgressResponse>> {
    const body = transferBody(request);
    return this.#progress(request?.stream === true, (o) => pushModel(body, o), options);
  }

  /** DELETE /api/delete, naming the model as `model` and as the older `name`. */
  async delete(request: DeleteRequest, options?: CallOptions): Promise<StatusResponse> {
    const body: DeleteRequest & { name: string } = { model: request?.model, name: request?.model };
    await this.#once((o) => deleteModel(body, o), options);
    return { status: 'success' };
  }

  /** POST /api/copy. */
  async copy(request: CopyRequest, options?: CallOptions): Promise<StatusResponse> {
    await this.#once((o) => copyModel(request, o), options);
    return { status: 'success' };
  }

  /** GET /api/tags. */
  list(options?: CallOptions): Promise<ListResponse> {
    return this.#once((o) => listModels(o), options);
  }

  /** POST /api/show. */
  show(request: ShowRequest, options?: CallOptions): Promise<ShowResponse> {
    return this.#once((o) => showModel(request as Native.ShowRequest, o), options);
  }

  /** POST /api/embed. An input longer than 512 texts goes out in batches (see `embed`). */
  embed(request: EmbedRequest, options?: CallOptions): Promise<EmbedResponse> {
    return this.#once((o) => embed(request as Native.EmbedRequest, o), options);
  }

  /** POST /api/embeddings, the older endpoint. */
  embeddings(request: EmbeddingsRequest, options?: CallOptions): Promise<EmbeddingsResponse> {
    return this.#once((o) => embeddings(request as Native.EmbeddingsRequest, o), options);
  }

  /** GET /api/ps. */
  ps(options?: CallOptions): Promise<RunningResponse> {
    return this.#once((o) => listRunning(o), options);
  }

  /** GET /api/version. */
  version(options?: CallOptions): Promise<VersionResponse> {
    return this.#once((o) => version(o), options);
  }

  /** POST /api/web_search on ollama.com (or `webHost`), with `maxResults` sent as `max_results`. */
  webSearch(request: WebSearchRequest, options?: CallOptions): Promise<WebSearchResponse> {
    const { query, maxResults, max_results } = (request ?? {}) as WebSearchRequest;
    const limit = max_results ?? maxResults;
    const body: NativeWebSearch = limit === undefined ? { query } : { query, max_results: limit };
    return this.#once((o) => webSearch(body, o), { host: this.#webHost, ...options });
  }

  /** POST /api/web_fetch on ollama.com (or `webHost`). */
  webFetch(request: WebFetchRequest, options?: CallOptions): Promise<WebFetchResponse> {
    const page = this.#once((o) => webFetch(request, o), { host: this.#webHost, ...options });
    return page.then((found) => (found.links === undefined ? { ...found, links: [] } : (found as WebFetchResponse)));
  }

  /** Bytes as base64, a string as it is (ollama-js's browser behaviour: a file path is not read). */
  async encodeImage(image: Uint8Array | ArrayBuffer | string): Promise<string> {
    return typeof image === 'string' ? image : toBase64(image instanceof Uint8Array ? image : new Uint8Array(image));
  }

  /** The instance's options under the call's own, with a controller of the instance's. */
  #start(options: CallOptions | undefined): Running {
    const controller = new AbortController();
    const unlink = link(options?.signal, controller);
    this.#stop ??= new AbortController();
    const unstop = link(this.#stop.signal, controller);
    const merged: CallOptions = { ...this.#defaults };
    for (const [name, value] of Object.entries(options ?? {})) {
      if (value !== undefined) (merged as Record<string, unknown>)[name] = value;
    }
    if (this.#defaults.headers !== undefined && options?.headers !== undefined) {
      try {
        const headers = new Headers(checkedHeaders(this.#defaults.headers));
        checkedHeaders(options.headers).forEach((value, name) => {
          headers.set(name, value);
        });
        merged.headers = headers;
      } catch {
        // Invalid headers: the call reports them, as it would without defaults.
      }
    }
    merged.signal = controller.signal;
    return {
      controller,
      options: merged,
      end: () => {
        unlink();
        unstop();
      },
    };
  }

  async #once<T>(run: (options: CallOptions) => Promise<T>, options: CallOptions | undefined): Promise<T> {
    const call = this.#start(options);
    try {
      return await run(call.options);
    } catch (error) {
      throw withResponseFields(error);
    } finally {
      call.end();
    }
  }

  /** A stream that has answered: HTTP errors and a failure to connect reject here, as in
   * ollama-js; what went wrong in the body of a 200 (an `{"error"}` first line, a line that is
   * not JSON) is thrown by the loop, as there. */
  async #stream<T extends object>(
    open: (options: CallOptions) => AsyncGenerator<T, void, undefined>,
    options: CallOptions | undefined,
  ): Promise<AbortableAsyncIterator<T>> {
    const call = this.#start(options);
    let items: AsyncGenerator<T, void, undefined> | undefined;
    try {
      items = open(call.options);
      const first = await items.next();
      return new AbortableAsyncIterator(call.controller, items, first, call.end);
    } catch (error) {
      if (items !== undefined && inTheBody(error)) {
        return new AbortableAsyncIterator(call.controller, items, { failed: error }, call.end);
      }
      await items?.return();
      call.end();
      throw withResponseFields(error);
    }
  }

  #progress(
    stream: boolean,
    run: (options: ProgressOptions) => Promise<ProgressResponse>,
    options: CallOptions | undefined,
  ): Promise<ProgressResponse | AbortableAsyncIterator<ProgressResponse>> {
    if (!stream) return this.#once(run, options);
    return this.#stream((o) => progressLines((onProgress) => run({ ...o, onProgress })), options);
  }
}

/** What ollama-js sends for a pull or push (`name`, `insecure`), with the current `model` too. */
function transferBody(request: PullRequest): Native.PullRequest & { name: string } {
  const model = request?.model;
  const body: Native.PullRequest & { name: string } = { model, name: model };
  if (request?.insecure !== undefined) body.insecure = request.insecure;
  return body;
}
