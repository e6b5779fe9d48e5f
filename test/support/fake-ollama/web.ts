// The stand-in's ollama.com web API: POST /api/web_search and /api/web_fetch, as ollama.com
// answers them (ollama-python's and ollama-js's types and the API docs): a Bearer key is required
// (401 without one), the search reads `max_results` (default 5, at most 10) and ignores any other
// field, such as the `maxResults` ollama-js sends. Answers are deterministic, derived from the
// request, so tests can compare them. server.ts only routes to it.

import type { IncomingHttpHeaders } from 'node:http';

export const WEB_PATHS: readonly string[] = ['/api/web_search', '/api/web_fetch'];

export interface WebAnswer {
  status: number;
  body: object;
}

function parse(raw: Buffer): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(raw.toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function webAnswer(path: string, raw: Buffer, headers: IncomingHttpHeaders): WebAnswer {
  if (!/^Bearer \S+/.test(headers.authorization ?? '')) return { status: 401, body: { error: 'unauthorized' } };
  const request = parse(raw);
  if (request === undefined) return { status: 400, body: { error: 'invalid request body' } };
  if (path === '/api/web_search') {
    const query = request['query'];
    if (typeof query !== 'string' || query === '') return { status: 400, body: { error: 'query is required' } };
    const asked = request['max_results'];
    const count = typeof asked === 'number' && asked > 0 ? Math.min(Math.trunc(asked), 10) : 5;
    const results = Array.from({ length: count }, (_, k) => ({
      title: `Result ${k + 1} for ${query}`,
      url: `https://example.com/${k + 1}?q=${encodeURIComponent(query)}`,
      content: `What page ${k + 1} says about ${query}. 🦙`,
    }));
    return { status: 200, body: { results } };
  }
  const url = request['url'];
  if (typeof url !== 'string' || url === '') return { status: 400, body: { error: 'url is required' } };
  return {
    status: 200,
    body: {
      title: `The page at ${url}`,
      content: `The main text of ${url}. é 漢字 🦙`,
      links: [`${url.replace(/\/$/, '')}/about`, 'https://example.com/'],
    },
  };
}
