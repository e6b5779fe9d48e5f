import { OllamaError } from '../errors.ts';
import type { RequestContext } from './exchange.ts';

// Node and Bun name the failure with a code (on the error, or on its cause for undici);
// Deno and browsers only with words, so both are looked at.
/** How each failure reads in a sentence. */
const BY_CODE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  EPIPE: 'connection closed while sending the request',
  UND_ERR_SOCKET: 'connection closed by the server',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'temporary DNS failure',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'no body data in time',
};

const BY_WORDS: Array<[RegExp, string]> = [
  [/connection refused|os error 111/i, 'ECONNREFUSED'],
  [/reset by peer|os error 104/i, 'ECONNRESET'],
  [/closed before message completed|other side closed|error reading a body/i, 'UND_ERR_SOCKET'],
  [/temporary failure in name resolution/i, 'EAI_AGAIN'],
  [/dns error|name or service not known|nodename nor servname/i, 'ENOTFOUND'],
  [/timed out|os error 110/i, 'ETIMEDOUT'],
];

/** The codes of BY_CODE that a retry would not get past: a name that does not resolve, and the
 * timeouts (which have kinds of their own). Every other one is a connection that could not be
 * made or was dropped. */
const LASTING = /^(ENOTFOUND|UND_ERR_\w+_TIMEOUT)$/;

/** What a fetch says when it says nothing more (browsers hide the reason): a network failure. */
const WORDLESS =
  /^(failed to fetch|fetch failed|load failed|terminated|network ?error.*|the network connection was lost.?)$/i;

/** Whether a `connection` error is known to be transient, one a retry may get past; an unknown
 * failure is not. */
export function isTransient(error: { code?: string | undefined; cause?: unknown }): boolean {
  const { code } = error;
  if (code !== undefined) return code in BY_CODE && !LASTING.test(code);
  return WORDLESS.test(innermostMessage(error.cause));
}

/** What fetch could not take as HTTP, by the failure's code and words, and, when it is not
 * "check the host, and any proxy", the next step. */
const MALFORMED: Array<[RegExp, string, string?]> = [
  // Requests are sent with `redirect: 'error'`: undici's words, Deno's, Bun's. (A browser says
  // only "Failed to fetch", which reads as a failure of the network.)
  [
    /unexpected ?redirect|redirect mode is set to .error/i,
    'answered with a redirect',
    'Set the host to where it points: https:// rather than http://, another port, or the path prefix a proxy ' +
      'expects (`curl -i` on the URL shows its Location). Redirects are not followed: the request would go to a ' +
      'server you did not name, and a redirected POST arrives as a GET.',
  ],
  [/redirect/i, 'redirected it in a loop'],
  [/HEADERS?_OVERFLOW|headers? (overflow|too large)/i, 'sent headers too large for fetch'],
  // undici's words for a 1xx it was not waiting for (a `100 Continue`, a `101`): the same every time.
  [
    /^bad (response|upgrade)$/,
    'sent an interim (1xx) or upgrade response that was not asked for, which fetch cannot take',
    'Ollama does not send one: check any proxy in front of it.',
  ],
  // A plain-HTTP server under https://, or a TLS port under http://.
  [
    /^ERR_SSL_(WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST)$|wrong version number/i,
    'answered a TLS handshake with something else: it is most likely plain HTTP',
    'Use http:// for this host: Ollama serves plain HTTP, and https:// needs a TLS proxy in front of it.',
  ],
  [
    /Expected HTTP\//,
    'sent bytes that are not HTTP/1.1',
    'If this port speaks TLS (a proxy on 443, say), use https:// for it.',
  ],
  [/^HPE_/, 'sent bytes that are not HTTP/1.1'],
  // undici's own check of a status line failed (a status such as 099).
  [/^ERR_ASSERTION$/, 'sent a status line fetch could not read'],
  [/^Z_|BROTLI|incorrect header check|decompress|zlib/i, 'sent a compressed body that does not decompress'],
];

/**
 * What the server (or a proxy) sent that fetch could not take as HTTP (a redirect loop, huge
 * headers, broken framing, a body that does not decompress), in words, or undefined for a
 * failure of the network. These are `protocol` errors: the same request would get the same
 * answer, so they are not retried.
 */
export function malformedResponse(
  error: unknown,
): { what: string; code: string | undefined; next?: string | undefined } | undefined {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    const name = typeof code === 'string' ? code : undefined;
    const text = typeof message === 'string' ? message : '';
    for (const [pattern, what, next] of MALFORMED) {
      if (pattern.test(name ?? '') || pattern.test(text))
        return { what: `${what} (${(text || name || '').replace(/\s+/g, ' ').trim()})`, code: name, next };
    }
    current = cause;
  }
  return undefined;
}

export function failureCode(error: unknown): string | undefined {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    const { code, message, cause } = current as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof code === 'string' && code in BY_CODE) return code;
    if (typeof message === 'string') {
      for (const [pattern, mapped] of BY_WORDS) if (pattern.test(message)) return mapped;
    }
    current = cause;
  }
  return undefined;
}

/**
 * A fetch or body-read failure, told in words: what failed, where, and what to try. `received`
 * is the number of chunks already handed to the caller when the body failed; undefined before
 * the response.
 */
export function connectionError(error: unknown, context: RequestContext, received?: number): OllamaError {
  const code = failureCode(error);
  const what = (code === undefined ? undefined : BY_CODE[code]) ?? innermostMessage(error);
  const where =
    received === undefined
      ? `Could not get an answer from Ollama at ${context.base} for ${context.method} ${context.url} (${what}).`
      : `The connection to Ollama at ${context.base} failed while reading the answer to ${context.method} ` +
        `${context.url}${received > 0 ? ` after ${received} chunk(s)` : ''} (${what}); the answer ` +
        'is incomplete.';
  return new OllamaError({
    kind: 'connection',
    message: `${where} ${advice(code, context, what, received)}`,
    url: context.url,
    code,
    cause: error,
  });
}

/** undici says "fetch failed" and keeps the reason ("bad port") on its cause. */
function innermostMessage(error: unknown): string {
  let found = 'network error';
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 4; depth++) {
    const { message, cause } = current as { message?: unknown; cause?: unknown };
    if (typeof message === 'string' && message !== '') found = message;
    current = cause;
  }
  return found;
}

function advice(code: string | undefined, context: RequestContext, what: string, received: number | undefined): string {
  if (/bad port/i.test(what)) {
    return (
      "fetch refuses to connect to this port (it is on the Fetch standard's list of blocked ports); " +
      'Ollama listens on 11434 unless told otherwise.'
    );
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return 'Check the host name in OLLAMA_HOST or the host option.';
  }
  if (code === 'ECONNREFUSED' && context.local) {
    return (
      'Is Ollama running? Start it with `ollama serve` (or open the Ollama app), or point OLLAMA_HOST ' +
      'or the host option at the address it listens on.'
    );
  }
  if (code === 'ECONNREFUSED') {
    return (
      'Check that Ollama runs on that machine and listens on a reachable address (OLLAMA_HOST=0.0.0.0 ' +
      'on the server), and that no firewall blocks the port.'
    );
  }
  if (received !== undefined) {
    return 'Ollama may have crashed or restarted, or a proxy cut the stream; its log says which.';
  }
  return 'Check that the address is right and the server is reachable.';
}
