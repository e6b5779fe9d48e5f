import { OllamaError, preview } from '../errors.ts';
import type { RequestContext } from './exchange.ts';
import { redact, redactTail } from './header-values.ts';
import { readText } from './read-body.ts';
import { retryAfterOf } from './retry-after.ts';

const ERROR_BODY_LIMIT = 64 * 1024;

/** The body of an error answer as text: at most 64 KiB of it (so the connection is released),
 * with the request's secrets redacted, since a proxy's error page may quote the key it was sent
 * and neither the message nor `error.body` may. A body that cannot be read is empty: the status
 * alone still says what happened. */
export async function errorBody(stream: ReadableStream<Uint8Array> | null, context: RequestContext): Promise<string> {
  let body = '';
  let cut = false;
  try {
    const read = await readText(stream, ERROR_BODY_LIMIT);
    body = read.text;
    cut = read.truncated;
  } catch {
    // The status alone still says what happened.
  }
  const { secrets } = context;
  // Kept up to the limit: a credential the limit cut in two loses its first part too.
  const clean = cut ? redactTail(redact(body, secrets), secrets) : redact(body, secrets);
  return secrets === undefined || secrets.length === 0 ? clean : decodedClean(clean, secrets);
}

/** A JSON body may spell a secret with escapes of any kind (`\u0073k-…`), which only its parse
 * undoes: when the parsed body still holds one, it is shown re-serialised, redacted. A body
 * whose secrets were all found as written keeps its bytes. */
function decodedClean(body: string, secrets: readonly string[]): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return body;
  }
  const text = JSON.stringify(parsed);
  const redacted = redact(text, secrets);
  return redacted === text ? body : redacted;
}

/** A non-2xx answer as an error: the server's own words, the status, the URL, and a next
 * step. The body is read (at most 64 KiB) so the connection is released. */
export async function httpError(
  response: Response,
  stream: ReadableStream<Uint8Array> | null,
  context: RequestContext,
): Promise<OllamaError> {
  const body = await errorBody(stream, context);
  const { error: serverText, signin } = errorFields(body);
  const type = response.headers.get('content-type') ?? '';
  const said =
    serverText !== undefined
      ? `: ${serverText}`
      : body.trim() === ''
        ? ' with an empty body'
        : `: ${summarise(body, type)}`;
  const status = statusLine(response, context);
  const wait = retryAfterOf(response.headers);
  const message =
    `Ollama answered HTTP ${status} to ${context.method} ${context.url}${said}. ` +
    hint(response.status, serverText, signin, body, context, wait);
  return new OllamaError({
    kind: 'http',
    message: message.trim(),
    status: response.status,
    url: context.url,
    body,
    retryAfter: wait,
  });
}

/** The server's own words (`{"error": …}`, or /v1's `{"error": {"message": …}}`), and the
 * `signin_url` of Ollama's 401 for a cloud model used signed out. */
function errorFields(body: string): { error?: string | undefined; signin?: string | undefined } {
  try {
    const { error, signin_url } = JSON.parse(body) as { error?: { message?: unknown }; signin_url?: unknown };
    const text = typeof error === 'string' ? error : error?.message;
    return {
      error: typeof text === 'string' ? text : undefined,
      signin: typeof signin_url === 'string' && /^https?:\/\/\S+$/.test(signin_url) ? signin_url : undefined,
    };
  } catch {
    return {};
  }
}

/** An HTML page from a proxy is reduced to its title or first words, never dumped whole;
 * `who` ends the sentence about it. */
export function summarise(
  body: string,
  type: string,
  who = ' — a proxy or another server answered, not Ollama',
): string {
  if (/html/i.test(type) || /^\s*</.test(body)) {
    const lower = body.toLowerCase();
    const title = titleOf(body, lower);
    const text = title !== undefined && title.trim() !== '' ? title : visibleText(body, lower, 400);
    return `an HTML page "${preview(text, 100)}" (${body.length} characters)${who}`;
  }
  return `"${preview(body, 200)}"`;
}

// The page is read with indexOf, always forward, never with a backtracking pattern: a hostile page
// (64 KiB of "<" with no ">") must cost time linear in its length, not seconds.

/** The text of the page's first `<title>`, or undefined. */
function titleOf(body: string, lower: string): string | undefined {
  const open = lower.indexOf('<title');
  if (open === -1) return undefined;
  const start = lower.indexOf('>', open);
  if (start === -1) return undefined;
  const end = lower.indexOf('</title', start);
  return end === -1 ? undefined : body.slice(start + 1, end);
}

/** About `max` characters of the page's text: its tags, scripts and styles left out. */
function visibleText(body: string, lower: string, max: number): string {
  let text = '';
  let at = 0;
  while (at < body.length && text.length < max) {
    const open = lower.indexOf('<', at);
    if (open === -1) return text + body.slice(at);
    text += `${body.slice(at, open)} `;
    const close = lower.indexOf('>', open);
    if (close === -1) break;
    at = close + 1;
    for (const element of ['script', 'style']) {
      if (lower.startsWith(element, open + 1)) {
        const end = lower.indexOf(`</${element}`, at);
        at = end === -1 ? body.length : end;
      }
    }
  }
  return text;
}

/** The status and its reason phrase, which is the server's to write and may quote the credential. */
export function statusLine(response: Response, context: RequestContext): string {
  const reason = response.statusText;
  return reason === '' ? String(response.status) : `${response.status} ${redact(reason, context.secrets)}`;
}

/**
 * Ollama's own 403s that are not about a key: an empty one, from its CORS check (a browser's
 * origin that OLLAMA_ORIGINS does not allow) or its check of the Host header (listening on
 * loopback, it refuses a Host that is not an IP address, `localhost` or a name of the machine,
 * which a reverse proxy passing its own Host meets), and its cloud models turned off. Shared by
 * the native and the /v1 errors.
 */
export function refusal(status: number, serverText: string | undefined, body: string): string | undefined {
  if (status !== 403) return undefined;
  if (serverText !== undefined && /cloud is disabled/i.test(serverText)) {
    return (
      "This Ollama has its cloud models turned off (OLLAMA_NO_CLOUD, or the app's setting): use a local " +
      'model, or turn cloud access on.'
    );
  }
  if (body.trim() !== '') return undefined;
  return (
    'The server refused the request without a word. Ollama does that to a browser page whose origin ' +
    'OLLAMA_ORIGINS on the server does not allow, and, listening on loopback, to a Host header that is not ' +
    "an IP address, localhost or the machine's own name (a reverse proxy passing its own Host, a name from " +
    '/etc/hosts): connect to 127.0.0.1 or localhost, have the proxy send "Host: localhost", or set ' +
    'OLLAMA_HOST=0.0.0.0 on the server. Otherwise check the credentials.'
  );
}

/** The next step for a status: what the caller can do about it. */
function hint(
  status: number,
  serverText: string | undefined,
  signin: string | undefined,
  body: string,
  context: RequestContext,
  wait: number | undefined,
): string {
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
  if (signin !== undefined) return `Sign in to ollama.com first: open ${signin} (or run \`ollama signin\`).`;
  const refused = refusal(status, serverText, body);
  if (refused !== undefined) return refused;
  if (status === 401 || status === 403) {
    return (
      'The server refused the request: check the credentials or API key, and, from a browser, that ' +
      'OLLAMA_ORIGINS on the server allows this origin.'
    );
  }
  if (status === 408)
    return "The request arrived too slowly; it is retried, but a proxy's request timeout may be short.";
  if (status === 429) {
    return `Rate limited: retries wait ${wait === undefined ? 'the backoff' : `the ${wait} ms asked for (up to retry.maxRetryAfter)`}; send fewer requests at once.`;
  }
  if (status === 504) {
    return 'A gateway timed out waiting for Ollama (a model loading?): raise its read timeout (nginx proxy_read_timeout).';
  }
  if ((status === 502 || status === 503) && serverText === undefined) {
    return 'A proxy or gateway could not reach Ollama: check that Ollama is running behind it.';
  }
  if (status === 503) return 'The server is busy; try again shortly.';
  if (status >= 500) return 'The server failed while handling the request; its log has the details.';
  if (status === 400) return 'The server rejected the request as invalid; fix the field its message names.';
  return '';
}
