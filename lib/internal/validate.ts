// Checks of a request made before anything is sent, each with a message that names the call,
// the field and the fix.

/** An object that is neither null nor an array: what an options or policy object must be. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks what every endpoint needs before anything is sent, with a message that names the
 * call and the fix, and returns the model name. */
export function requireModel(call: string, request: unknown): string {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    throw new TypeError(`${call}: the request must be an object such as { model: 'llama3.2', … }`);
  }
  const { model } = request as { model?: unknown };
  if (typeof model !== 'string' || model.trim() === '') {
    throw new TypeError(
      `${call}: request.model must name a model, such as 'llama3.2' (got ${JSON.stringify(model) ?? 'undefined'})`,
    );
  }
  return model;
}

/**
 * `chat`/`generate` answer with one object whatever `stream` says, so code written for a client
 * where `stream: true` turns the answer into an iterator would otherwise fail later with "not
 * async iterable". Refused here, before anything is sent, with the call to use instead.
 */
export function refuseStreamFlag(call: string, request: unknown, instead: string): void {
  if (typeof request === 'object' && request !== null && (request as { stream?: unknown }).stream === true) {
    throw new TypeError(
      `${call}: request.stream is true, but ${call}() always answers with one object; ` +
        `call ${instead}(request) to iterate the chunks, or leave stream out`,
    );
  }
}

/** Each named field must name a model (copy's `source` and `destination`). */
export function requireNames(call: string, request: unknown, fields: readonly string[]): void {
  const record = (typeof request === 'object' && request !== null ? request : {}) as Record<string, unknown>;
  for (const field of fields) {
    const value = record[field];
    if (typeof value !== 'string' || value.trim() === '') {
      throw new TypeError(
        `${call}: request.${field} must name a model, such as 'llama3.2' (got ${JSON.stringify(value) ?? 'undefined'})`,
      );
    }
  }
}

/** An optional callback option must be a function. */
export function optionalFunction(call: string, name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'function') {
    throw new TypeError(`${call}: options.${name} must be a function, got ${typeof value}`);
  }
}
