import { isOllamaError, type OllamaError } from '../../errors.ts';

/** An `OllamaError` as the compat class throws it: with the two fields of ollama-js's
 * `ResponseError` that code written for it reads. */
export type ResponseError = OllamaError & {
  /** The server's own words when it sent some (an `{"error": …}` body or line), else the message. */
  readonly error: string;
  /** The HTTP status, as `status`; 200 for an error inside a stream. */
  readonly status_code: number | undefined;
};

/**
 * Gives an `OllamaError` `error` and `status_code`, as ollama-js's `ResponseError` has them, and
 * returns anything else as it is. The library's errors are left as they are everywhere else.
 */
export function withResponseFields(error: unknown): unknown {
  if (!isOllamaError(error) || 'status_code' in error) return error;
  Object.defineProperties(error, {
    error: { value: serverWords(error), enumerable: true },
    status_code: { value: error.status, enumerable: true },
  });
  return error;
}

function serverWords(error: OllamaError): string {
  const { kind, body, message } = error;
  // A stream's error line: its `body` is the line's own words, whatever advice the message adds.
  if (kind === 'stream' && body !== undefined) return body;
  if (kind === 'http' && body !== undefined) {
    if (body.trim() !== '') {
      try {
        const said = (JSON.parse(body) as { error?: unknown }).error;
        if (typeof said === 'string' && said !== '') return said;
        // JSON without words of its own: ollama-js falls back to the status line.
      } catch {
        // Not JSON: the body itself is what the server said, as ollama-js reports it.
        return body;
      }
    }
    // ollama-js's words when the server sent none: the status and its reason phrase, which the
    // message quotes as the response had it.
    const reason = / answered HTTP \d{3} (.*?) to [A-Z]+ /.exec(message)?.[1] ?? '';
    return `Error ${error.status}: ${reason}`;
  }
  return message;
}
