import { readJson } from './internal/attempt.ts';
import { callOnce } from './internal/call.ts';
import { contextOf, type Exchange } from './internal/exchange.ts';
import { notOllama } from './internal/protocol-error.ts';
import { resolveOptions } from './internal/resolve-options.ts';
import { requestJson } from './internal/serialise.ts';
import type { CallOptions } from './options.ts';
import { count } from './retry.ts';

/** POST https://ollama.com/api/web_search. */
export interface WebSearchRequest {
  query: string;
  /** How many results, 1 to 10; the server's default is 5. */
  max_results?: number;
}

export interface WebSearchResult {
  title: string;
  url: string;
  /** The relevant text of the page. */
  content: string;
}

export interface WebSearchResponse {
  results: WebSearchResult[];
}

/** POST https://ollama.com/api/web_fetch. */
export interface WebFetchRequest {
  url: string;
}

export interface WebFetchResponse {
  title: string;
  /** The page's main text. */
  content: string;
  /** The links found on the page; absent when it has none (Go's `omitempty`). */
  links?: string[];
  url?: string;
}

// ollama.com's web search and web fetch: POST /api/web_search and /api/web_fetch with an API key.
// The host is ollama.com unless `options.host` says otherwise (a proxy, a test server); the key is
// `options.apiKey`, or `OLLAMA_API_KEY` when the host is ollama.com itself.

/** Where the web calls go unless `options.host` is given: not `OLLAMA_HOST`, which names a local server. */
export const WEB_HOST = 'https://ollama.com';

/**
 * POST /api/web_search on ollama.com: the top results for `query`, each with its title, URL and
 * text. Needs an API key (`options.apiKey`, or `OLLAMA_API_KEY`); without one it throws before
 * sending anything.
 */
export async function webSearch(request: WebSearchRequest, options?: CallOptions): Promise<WebSearchResponse> {
  const { query, max_results } = request ?? {};
  const body: WebSearchRequest = { query: text('webSearch', 'query', query) };
  if (max_results !== undefined) body.max_results = count(max_results, 'webSearch: request.max_results', 1);
  return webCall<WebSearchResponse>('webSearch', '/api/web_search', body, options, 'results');
}

/** POST /api/web_fetch on ollama.com: one page's title, main text and links. Needs an API key,
 * as `webSearch` does. */
export async function webFetch(request: WebFetchRequest, options?: CallOptions): Promise<WebFetchResponse> {
  const body: WebFetchRequest = { url: text('webFetch', 'url', request?.url) };
  return webCall<WebFetchResponse>('webFetch', '/api/web_fetch', body, options, 'content');
}

function text(call: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new TypeError(`${call}: request.${field} must be a non-empty string`);
  }
  return value;
}

async function webCall<T>(
  call: string,
  path: string,
  body: object,
  options: CallOptions | undefined,
  field: string,
): Promise<T> {
  const resolved = resolveOptions({ ...options, host: options?.host ?? WEB_HOST });
  if (resolved.authorization === undefined && !resolved.headers.has('authorization')) {
    throw new TypeError(
      `${call}: no API key for ${resolved.base}: set OLLAMA_API_KEY (sent to ${WEB_HOST} only) or ` +
        `options.apiKey; keys are made at ${WEB_HOST}/settings/keys`,
    );
  }
  const exchange: Exchange = { method: 'POST', path, json: requestJson(call, body), accept: 'application/json' };
  const value = await callOnce<unknown>(exchange, resolved, readJson);
  if (typeof value !== 'object' || value === null || !(field in value)) {
    throw notOllama(contextOf(exchange, resolved), [field], value);
  }
  return value as T;
}
