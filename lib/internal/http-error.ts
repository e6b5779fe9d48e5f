import { OllamaError, preview } from '../errors.ts';
import type { RequestContext } from './exchange.ts';
import { readText } from './read-body.ts';

const ERROR_BODY_LIMIT = 64 * 1024;

/** A non-2xx answer as an error: the server's own words, the status, the URL, and a next
 * step. The body is read (at most 64 KiB) so the connection is released. */
export async function httpError(
  response: Response,
  stream: ReadableStream<Uint8Array> | null,
  context: RequestContext,
): Promise<OllamaError> {
  let body = '';
  try {
    body = (await readText(stream, ERROR_BODY_LIMIT)).text;
  } catch {
    // The status alone still says what happened.
  }
  const serverText = errorField(body);
  const type = response.headers.get('content-type') ?? '';
  const said =
    serverText !== undefined
      ? `: ${serverText}`
      : body.trim() === ''
        ? ' with an empty body'
        : `: ${summarise(body, type)}`;
  const status = `${response.status}${response.statusText === '' ? '' : ` ${response.statusText}`}`;
  const message =
    `Ollama answered HTTP ${status} to ${context.method} ${context.url}${said}. ` +
    hint(response.status, serverText, body, context);
  return new OllamaError({
    kind: 'http',
    message: message.trim(),
    status: response.status,
    url: context.url,
    body,
    error: serverText ?? (body.trim() === '' ? undefined : body),
    retryAfter: retryAfter(response.headers.get('retry-after')),
  });
}

/** `Retry-After` in milliseconds: either delay-seconds or an HTTP date. */
export function retryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = Date.parse(text);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function errorField(body: string): string | undefined {
  if (!body.trimStart().startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
    // The /v1 layer nests it: {"error":{"message":…}}.
    const nested = parsed.error as { message?: unknown } | undefined;
    return typeof nested?.message === 'string' ? nested.message : undefined;
  } catch {
    return undefined;
  }
}

/** An HTML page from a proxy is reduced to its title or first words, never dumped whole. */
function summarise(body: string, type: string): string {
  if (/html/i.test(type) || /^\s*</.test(body)) {
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(body)?.[1];
    const text =
      title !== undefined && title.trim() !== ''
        ? title
        : body.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ');
    return (
      `an HTML page "${preview(text, 100)}" (${body.length} characters) — a proxy or another server ` +
      'answered, not Ollama'
    );
  }
  return `"${preview(body, 200)}"`;
}

function hint(status: number, serverText: string | undefined, body: string, context: RequestContext): string {
  if (status === 404 && serverText !== undefined && /not found/i.test(serverText) && context.model !== undefined) {
    if (context.notFound !== undefined) return context.notFound;
    return (
      `The model "${context.model}" is not on that server: run \`ollama pull ${context.model}\` ` +
      '(or pick one that `ollama list` shows) and try again.'
    );
  }
  if (status === 404 && /404 page not found/.test(body)) {
    return (
      'That path does not exist on the server: check that the host is an Ollama server and that ' +
      'its path prefix, if any, is right.'
    );
  }
  if (status === 401 || status === 403) {
    return (
      'The server refused the request: check the credentials or API key, and, from a browser, that ' +
      'OLLAMA_ORIGINS on the server allows this origin.'
    );
  }
  if (status >= 502 && status <= 504 && serverText === undefined) {
    return 'A proxy or gateway could not reach Ollama: check that Ollama is running behind it.';
  }
  if (status === 503) return 'The server is busy; try again shortly.';
  if (status >= 500) return 'The server failed while handling the request; its log has the details.';
  if (status === 400) return 'The server rejected the request as invalid; fix the field its message names.';
  return '';
}
