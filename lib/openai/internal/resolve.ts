import { parseHost, readEnv, shown } from '../../host.ts';
import { type ResolvedOptions, resolveOptions } from '../../internal/resolve-options.ts';
import { isRecord } from '../../internal/validate.ts';
import type { OpenAIOptions } from '../types.ts';

/** The options of a /v1 call, with the query string its URLs end with (`?a=1&b=2`, or ''). */
export type V1Options = ResolvedOptions & { query: string };

/**
 * The options of a /v1 call, checked and filled in once: the base is `baseURL`, else `host` +
 * `/v1`, else `OPENAI_BASE_URL`, else the Ollama host (`OLLAMA_HOST` or the default) + `/v1`.
 * The environment is read here, at the call, never at import. The key rule: `apiKey` goes to
 * whatever base the caller configured; `OPENAI_API_KEY` is used only together with
 * `OPENAI_BASE_URL`, so a key from the environment never reaches a base that neither the
 * caller nor that same environment named (it never goes to the local Ollama by default).
 */
export function resolveV1(options: OpenAIOptions | undefined): V1Options {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    // The shared check words the error.
    return resolveOptions(options) as never;
  }
  const { baseURL, host, apiKey } = options ?? {};
  let base: string;
  let key = apiKey;
  if (baseURL !== undefined) {
    base = checkBase(baseURL, 'options.baseURL');
  } else if (host !== undefined) {
    if (typeof host !== 'string') return resolveOptions(options) as never;
    base = `${parseHost(host).base}/v1`;
  } else {
    const fromEnv = readEnv('OPENAI_BASE_URL')?.trim();
    if (fromEnv !== undefined && fromEnv !== '') {
      base = checkBase(fromEnv, 'OPENAI_BASE_URL');
      const envKey = readEnv('OPENAI_API_KEY')?.trim();
      if (key === undefined && envKey !== undefined && envKey !== '') key = envKey;
    } else {
      base = `${parseHost(undefined).base}/v1`;
    }
  }
  const resolved: V1Options = {
    ...resolveOptions({ ...options, host: base, apiKey: key }),
    query: queryString(options?.query),
  };
  const onResponse = (options as Hooked | undefined)?.[ON_RESPONSE];
  if (onResponse !== undefined) resolved.onResponse = onResponse;
  return resolved;
}

/** The key under which the client passes the function API its `withResponse()` hook: no option
 * a caller can write, and so never read from one. */
export const ON_RESPONSE: unique symbol = Symbol('onResponse');

/** Options with the client's hook, told of the response of the call. */
export type Hooked = OpenAIOptions & { [ON_RESPONSE]?: (response: Response) => void };

/** `query` as the end of a URL: `?name=value&…`, each part encoded as openai-node does it
 * (`encodeURIComponent`), `undefined` values left out, `null` ones sent empty. */
function queryString(query: unknown): string {
  if (query === undefined) return '';
  const problem = 'options.query must be an object of names to strings, numbers or booleans';
  if (!isRecord(query)) throw new TypeError(`${problem}, got ${query === null ? 'null' : typeof query}`);
  let text = '';
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined) continue;
    if (value !== null && !/^(?:string|number|boolean)$/.test(typeof value)) {
      throw new TypeError(`${problem}: ${JSON.stringify(name)} is ${typeof value}`);
    }
    text += `${text === '' ? '?' : '&'}${encodeURIComponent(name)}=${encodeURIComponent((value ?? '') as string)}`;
  }
  return text;
}

function checkBase(value: unknown, name: string): string {
  // Shown without what precedes an `@`: a base may carry a user and password.
  const got = typeof value === 'string' ? shown(value.slice(0, 80)) : typeof value;
  if (typeof value !== 'string' || !/^https?:\/\/[^/\s]/i.test(value.trim())) {
    throw new TypeError(
      `${name} must be a full http:// or https:// URL such as 'https://openrouter.ai/api/v1' or ` +
        `'http://127.0.0.1:11434/v1', got ${got}`,
    );
  }
  if (/[?#]/.test(value)) {
    throw new TypeError(
      `${name} must not carry a query or a fragment (got ${got}): pass query parameters as options.query, ` +
        "such as { query: { 'api-version': '2024-10-21' } }",
    );
  }
  return value.trim();
}
