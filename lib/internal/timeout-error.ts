import { OllamaError } from '../errors.ts';
import type { RequestContext } from './exchange.ts';

/** In the option's own unit, so the number can be found in the caller's code. */
function millis(ms: number): string {
  return `${ms} ms`;
}

/** The connection was not established in time. */
export function connectTimeoutError(context: RequestContext, limit: number | undefined, cause: unknown): OllamaError {
  const within =
    limit === undefined
      ? "before the fetch implementation's own connect timer ran out"
      : `within connectTimeout (${millis(limit)})`;
  return new OllamaError({
    kind: 'connect-timeout',
    message:
      `Could not connect to Ollama at ${context.base} ${within} for ${context.method} ${context.url}. ` +
      'The host may be down or unreachable, or a firewall may drop the packets; check the address, or raise ' +
      'connectTimeout for a slow network.',
    url: context.url,
    cause,
  });
}

export interface SilenceFacts {
  /** The limit that ran out; undefined when it was the fetch implementation's own timer. */
  limit: number | undefined;
  /** Chunks already handed to the caller; undefined while still waiting for the response. */
  received: number | undefined;
  /** The runtime could not see the connect phase, so the limit also covered connecting. */
  connectIncluded?: number | undefined;
}

/** The server stayed silent too long: before its first byte, or in the middle of an answer. */
export function readTimeoutError(context: RequestContext, facts: SilenceFacts, cause?: unknown): OllamaError {
  const { limit, received, connectIncluded } = facts;
  const limitText =
    limit === undefined
      ? "the fetch implementation's own timer"
      : connectIncluded === undefined
        ? `readTimeout (${millis(limit)})`
        : `connectTimeout + readTimeout (${millis(connectIncluded)} + ${millis(limit - connectIncluded)}; ` +
          "this runtime's fetch cannot time the connection on its own)";
  const message =
    received === undefined
      ? `Ollama at ${context.base} sent no response to ${context.method} ${context.url} within ${limitText}. ` +
        'Ollama answers only once the model is loaded and has produced its first token, and loading a large ' +
        'model from a cold start can take minutes: raise readTimeout (for example { readTimeout: 600_000 }), or ' +
        'set it to 0 to wait as long as it takes. A read timeout is not retried.'
      : `Ollama at ${context.base} went silent for longer than ${limitText} while sending the answer to ` +
        `${context.method} ${context.url}${received > 0 ? ` after ${received} chunk(s)` : ''}; the answer is ` +
        `incomplete. The model may be stuck or the server overloaded${CHAT.test(context.url) ? TOOLS : ''}; raise ` +
        'readTimeout if it is just slow between tokens. A read timeout is not retried.';
  return new OllamaError({ kind: 'read-timeout', message, url: context.url, cause });
}

const CHAT = /\/(api\/chat|chat\/completions)(\?|$)/;
/** Ollama's tool parsers hold back everything while the model writes a call, however long it is. */
const TOOLS = ', or, if tools were offered, writing a long tool call, of which Ollama sends nothing until it is whole';

/** The whole call ran out of time: during an attempt, or before a retry that would end too late. */
export function totalTimeoutError(context: RequestContext, limit: number, last?: OllamaError): OllamaError {
  const why =
    last === undefined
      ? ''
      : ` The last attempt failed (${last.kind}${last.status === undefined ? '' : ` ${last.status}`}) and the next ` +
        'one could not start before the deadline.';
  return new OllamaError({
    kind: 'total-timeout',
    message:
      `${context.method} ${context.url} did not complete within totalTimeout (${millis(limit)}).${why} ` +
      'Raise totalTimeout if the call needs longer.',
    status: last?.status,
    url: context.url,
    cause: last,
  });
}
