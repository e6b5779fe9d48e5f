import type { RateLimit } from '../../errors.ts';

// What an OpenAI-style answer says about its limits: the `x-ratelimit-*` family and
// `x-should-retry`, each read strictly (a value that does not parse is ignored, never guessed
// at). The wait itself (`retry-after-ms`, `Retry-After`) is read by lib/internal/retry-after.ts,
// shared with the native calls.

const DECIMAL = /^\d+(?:\.\d+)?$/;

/** `x-should-retry: true|false`, else undefined. */
export function shouldRetryOf(headers: Headers): boolean | undefined {
  const value = headers.get('x-should-retry')?.trim().toLowerCase();
  return value === 'true' ? true : value === 'false' ? false : undefined;
}

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 1e-6 };

/** A reset as the servers write it: a Go-style duration (`6m0s`, `12ms`, `1h2m3.5s`) or plain
 * seconds (`20`, `0.5`), in milliseconds; undefined when it is neither. */
export function durationMs(text: string): number | undefined {
  const value = text.trim();
  if (DECIMAL.test(value)) return Number(value) * 1000;
  if (!/^(?:\d+(?:\.\d+)?(?:h|ms|m|s|us|µs|ns))+$/.test(value)) return undefined;
  let total = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) {
    total += Number(amount) * UNIT_MS[unit!]!;
  }
  return Math.round(total * 1000) / 1000;
}

/** The `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` headers, or undefined when the
 * answer carried none of them. */
export function rateLimitOf(headers: Headers): RateLimit | undefined {
  const found: RateLimit = {};
  let any = false;
  const count = (name: string, key: 'limitRequests' | 'limitTokens' | 'remainingRequests' | 'remainingTokens') => {
    const value = headers.get(name)?.trim();
    if (value !== undefined && /^\d+$/.test(value)) {
      found[key] = Number(value);
      any = true;
    }
  };
  const reset = (name: string, key: 'resetRequests' | 'resetTokens') => {
    const value = headers.get(name);
    const ms = value === null ? undefined : durationMs(value);
    if (ms !== undefined) {
      found[key] = ms;
      any = true;
    }
  };
  count('x-ratelimit-limit-requests', 'limitRequests');
  count('x-ratelimit-limit-tokens', 'limitTokens');
  count('x-ratelimit-remaining-requests', 'remainingRequests');
  count('x-ratelimit-remaining-tokens', 'remainingTokens');
  reset('x-ratelimit-reset-requests', 'resetRequests');
  reset('x-ratelimit-reset-tokens', 'resetTokens');
  return any ? found : undefined;
}
