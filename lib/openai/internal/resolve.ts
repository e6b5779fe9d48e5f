import { parseHost, readEnv } from '../../host.ts';
import { type ResolvedOptions, resolveOptions } from '../../internal/resolve-options.ts';
import type { OpenAIOptions } from '../types.ts';

/**
 * The options of a /v1 call, checked and filled in once: the base is `baseURL`, else `host` +
 * `/v1`, else `OPENAI_BASE_URL`, else the Ollama host (`OLLAMA_HOST` or the default) + `/v1`.
 * The environment is read here, at the call, never at import. The key rule: `apiKey` goes to
 * whatever base the caller configured; `OPENAI_API_KEY` is used only together with
 * `OPENAI_BASE_URL`, so a key from the environment never reaches a base that neither the
 * caller nor that same environment named (it never goes to the local Ollama by default).
 */
export function resolveV1(options: OpenAIOptions | undefined): ResolvedOptions {
  if (options !== undefined && (typeof options !== 'object' || options === null)) {
    // The shared check words the error.
    return resolveOptions(options);
  }
  const { baseURL, host, apiKey } = options ?? {};
  let base: string;
  let key = apiKey;
  if (baseURL !== undefined) {
    base = checkBase(baseURL, 'options.baseURL');
  } else if (host !== undefined) {
    if (typeof host !== 'string') return resolveOptions(options);
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
  return resolveOptions({ ...options, host: base, apiKey: key });
}

function checkBase(value: unknown, name: string): string {
  if (typeof value !== 'string' || !/^https?:\/\/[^/\s]/i.test(value.trim())) {
    const shown = typeof value === 'string' ? `"${value.slice(0, 60)}"` : typeof value;
    throw new TypeError(
      `${name} must be a full http:// or https:// URL such as 'https://openrouter.ai/api/v1' or ` +
        `'http://127.0.0.1:11434/v1', got ${shown}`,
    );
  }
  return value.trim();
}
