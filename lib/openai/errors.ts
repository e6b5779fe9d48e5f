// openai-node's error classes, under its names, for code that catches them: `catch (e) { if (e
// instanceof NotFoundError) … }`. The library throws one kind of error, `OllamaError`; these
// classes are views of it, chosen by its kind and status, so that `instanceof` holds for the
// errors openai-node would have thrown as them. They are not meant to be constructed.

import { isOllamaError, type OllamaError } from '../errors.ts';
import type { APIErrorFields } from './types.ts';

type Test = (error: OllamaError) => boolean;

/** A class whose `instanceof` is `test` on an OllamaError (or an abort, for APIUserAbortError). */
function view(test: Test): (value: unknown) => boolean {
  return (value: unknown): boolean => isOllamaError(value) && test(value);
}

const http =
  (from: number, to = from): Test =>
  (e) =>
    e.kind === 'http' && e.status !== undefined && e.status >= from && e.status <= to;
const TIMEOUTS = new Set(['connect-timeout', 'read-timeout', 'total-timeout']);

/** Any error of a /v1 call: an error status, a failure the server reported in a stream, a
 * connection that failed or timed out, an answer that is not what it should be. */
export abstract class APIError extends Error {
  static override [Symbol.hasInstance]: (value: unknown) => boolean = view(() => true);
  declare readonly status: number | undefined;
  declare readonly error: APIErrorFields['error'];
  declare readonly headers: Headers | undefined;
  declare readonly code: string | null | undefined;
  declare readonly param: APIErrorFields['param'];
  declare readonly type: APIErrorFields['type'];
  declare readonly requestID: APIErrorFields['requestID'];
}
/** HTTP 400. */
export abstract class BadRequestError extends APIError {
  static override [Symbol.hasInstance]: (value: unknown) => boolean = view(http(400));
}
/** HTTP 401. */
export abstract class AuthenticationError extends APIError {
  static override [Symbol.hasInstance]: (value: unknown) => boolean = view(http(401));
}
/** HTTP 403. */
export abstract class PermissionDeniedError extends APIError {
  static override [Symbol.hasInstance]: (value: unknown) => boolean = view(http(403));
}
/** HTTP 404. */
export abstract class NotFoundError extends APIError {
  static override [Symbol.hasInstance]: (value: unknown) => boolean = view(http(404));
}
/** HTTP 409. */
export abstract class ConflictError extends APIError {
  static override [Symbol.hasInstance]: (value: unknown) => boolean = view(http(409));
}
/** HTTP 422. */
export abstract class UnprocessableEntityError extends APIError {
  static override [Symbol.hasInstance]: (value: unknown) => boolean = view(http(422));
}
/** HTTP 429. */
export abstract class RateLimitError extends APIError {
  static override [Symbol.hasInstance]: (value: unknown) => boolean = view(http(429));
}
/** HTTP 500 and above. */
export abstract class InternalServerError extends APIError {
  static override [Symbol.hasInstance]: (value: unknown) => boolean = view(http(500, 599));
}
/** No answer: the connection failed, or a time limit ran out. */
export abstract class APIConnectionError extends APIError {
  static override [Symbol.hasInstance]: (value: unknown) => boolean = view(
    (e) => e.kind === 'connection' || TIMEOUTS.has(e.kind),
  );
}
/** A time limit ran out (`connectTimeout`, `readTimeout`, `totalTimeout`). */
export abstract class APIConnectionTimeoutError extends APIConnectionError {
  static override [Symbol.hasInstance]: (value: unknown) => boolean = view((e) => TIMEOUTS.has(e.kind));
}
/** Never an instance: an abort rejects with the signal's own reason, which is yours to test
 * (`error === reason`, or `error.name === 'AbortError'`). */
export abstract class APIUserAbortError extends APIError {
  static override [Symbol.hasInstance] = (): boolean => false;
}
