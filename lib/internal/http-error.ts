import { OllamaError, preview } from '../errors.ts';
import type { RequestContext } from './exchange.ts';
import { redact } from './header-values.ts';
import { readText } from './read-body.ts';
import { retryAfterOf } from './retry-after.ts';

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
  // A proxy's error page may quote the key it was sent; neither the message nor error.body does.
  body = redact(body, context.secrets);
  const serverText = errorField(body);
  const type = response.headers.get('content-type') ?? '';
  const said =
    serverText !== undefined
      ? `: ${serverText}`
      : body.trim() === ''
        ? ' with an empty body'
        : `: ${summarise(body, type)}`;
  const status = `${response.status}${response.statusText === '' ? '' : ` ${response.statusText}`}`;
  const wait = retryAfterOf(response.headers);
  const message =
    `Ollama answered HTTP ${status} to ${context.method} ${context.url}${said}. ` +
    hint({ status: response.status, serverText, body, context, wait });
  return new OllamaError({
    kind: 'http',
    message: message.trim(),
    status: response.status,
    url: context.url,
    body,
    retryAfter: wait,
  });
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

interface Answer {
  status: number;
  serverText: string | undefined;
  body: string;
  context: RequestContext;
  /** The wait the server asked for, in milliseconds. */
  wait: number | undefined;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** The next step for a status: what the caller can do about it. */
function hint({ status, serverText, body, context, wait }: Answer): string {
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
    const signIn = signInUrl(body);
    if (signIn !== undefined) {
      return (
        `Sign in to ollama.com to use it: open ${signIn} (or run \`ollama signin\` on the server), then try ` +
        'again; against ollama.com itself, pass an API key (apiKey or OLLAMA_API_KEY).'
      );
    }
    return (
      'The server refused the request: check the credentials or API key, and, from a browser, that ' +
      'OLLAMA_ORIGINS on the server allows this origin.'
    );
  }
  if (status === 408) {
    return (
      'The server or a proxy in front of it gave up waiting for the request to arrive. It is retried by ' +
      "default (retry.statusCodes); if it keeps happening, the network is slow or a proxy's request timeout " +
      'is too short for the request size (an upload, many images).'
    );
  }
  if (status === 429) {
    const asked =
      wait === undefined
        ? 'It sent no Retry-After, so a retry waits the backoff (retry.baseDelay, doubling each time).'
        : `It asked to wait ${seconds(wait)} (Retry-After, also on error.retryAfter); a retry obeys that up to ` +
          'retry.maxRetryAfter.';
    return (
      `Rate limited: the server (or the quota of this key on ollama.com) refuses more requests for now. ${asked} ` +
      'Send fewer requests at once (a lower embed concurrency), or raise retry.retries to keep trying longer.'
    );
  }
  if (status === 504) {
    return (
      'A gateway or reverse proxy in front of Ollama timed out waiting for its answer: Ollama sends nothing ' +
      "until the model is loaded and has its first token, which can take minutes. Raise the proxy's read " +
      'timeout (nginx proxy_read_timeout, a load balancer idle timeout), or load the model first.'
    );
  }
  if ((status === 502 || status === 503) && serverText === undefined) {
    return 'A proxy or gateway could not reach Ollama: check that Ollama is running behind it.';
  }
  if (status === 503) return 'The server is busy; try again shortly.';
  if (status >= 500) return 'The server failed while handling the request; its log has the details.';
  if (status === 400) return 'The server rejected the request as invalid; fix the field its message names.';
  return '';
}

/** The `signin_url` of Ollama's 401 for a cloud model it cannot use signed out. */
function signInUrl(body: string): string | undefined {
  if (!body.trimStart().startsWith('{')) return undefined;
  try {
    const url = (JSON.parse(body) as { signin_url?: unknown }).signin_url;
    return typeof url === 'string' && /^https?:\/\/\S+$/.test(url) && url.length <= 2000 ? url : undefined;
  } catch {
    return undefined;
  }
}
