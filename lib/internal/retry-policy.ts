import { isOllamaError, type OllamaError, withNote } from '../errors.ts';
import { isTransient } from './connection-error.ts';
import type { ResolvedRetry } from './resolve-options.ts';

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/**
 * Whether a failed attempt is worth another, and how long to wait first: `false` for no, or the
 * wait in milliseconds (the proposed backoff, or the server's `Retry-After`). Retried are only
 * the failures known to be transient, which say nothing about the request itself: a connection
 * that could not be made or was dropped before anything reached the caller, a connect timeout,
 * and the listed statuses. What the server sent wrong (`protocol`, `stream`) would come again.
 * Throws the error to give the caller when the server asks for a longer wait than allowed.
 */
export function retryDelay(error: unknown, proposed: number, policy: ResolvedRetry): false | number {
  if (!isOllamaError(error)) return false;
  switch (error.kind) {
    case 'connect-timeout':
      return proposed;
    case 'connection':
      // Only a failure known to pass: refused, reset or closed, unreachable, a temporary DNS
      // failure. A name that does not resolve, a port fetch refuses, anything unknown would not
      // change in a second.
      return isTransient(error) ? proposed : false;
    case 'http':
      // A server's own `x-should-retry` (OpenAI's convention) beats the list of statuses.
      if (!(error.shouldRetry ?? (error.status !== undefined && policy.statusCodes.has(error.status)))) return false;
      return error.retryAfter === undefined ? proposed : obey(error, error.retryAfter, policy);
    default:
      // A read timeout (a model that never answers would hold the call for retries × the
      // timeout), an error reported in the stream, a malformed answer: all would repeat.
      return false;
  }
}

function obey(error: OllamaError, wait: number, policy: ResolvedRetry): number {
  if (wait > policy.maxRetryAfter) {
    throw withNote(
      error,
      `The server asked to wait ${seconds(wait)} before trying again (Retry-After), longer than ` +
        `retry.maxRetryAfter (${seconds(policy.maxRetryAfter)}), so it was not retried; error.retryAfter has the ` +
        'wait in milliseconds.',
    );
  }
  return wait;
}
