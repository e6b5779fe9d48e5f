/*! ollama-fetch/compat — MIT License */
// `ollama-fetch/compat`: ollama-js 0.6.4's `Ollama` class and default instance, on this library's
// calls. Swap `from 'ollama'` (or 'ollama/browser') for `from 'ollama-fetch/compat'`.

import { Ollama } from './ollama.ts';

export { isOllamaError, OllamaError, type OllamaErrorKind } from '../errors.ts';
export type { CallOptions, RetryPolicy } from '../options.ts';
export { AbortableAsyncIterator } from './abortable.ts';
export type { ResponseError } from './internal/response-fields.ts';
export { Ollama, type OllamaOptions } from './ollama.ts';
export type * from './types.ts';

/** An instance for http://127.0.0.1:11434, as ollama-js's default export. Making it sends nothing
 * and reads nothing. */
const ollama: Ollama = /* @__PURE__ */ new Ollama();
export default ollama;
