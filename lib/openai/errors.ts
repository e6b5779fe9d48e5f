import { OllamaError } from '../errors.ts';

// The `protocol` error of the pure event splitter, which knows no request: the reader adds the
// URL with `withUrl`, as it does for the line splitter's.

export function eventTooLarge(max: number, size: number): OllamaError {
  return new OllamaError({
    kind: 'protocol',
    message:
      `An event of the stream grew past the limit of ${max} characters (at least ${size} so far) without ` +
      'the blank line that ends it. Raise maxLineLength if such a large event is expected; otherwise the ' +
      'server is not sending a valid event stream.',
  });
}
