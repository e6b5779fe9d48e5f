/*! ollama-fetch/openai — MIT License */
// The OpenAI-compatible /v1 client, the package subpath `ollama-fetch/openai`: the same call
// layer as the native calls (timeouts, retries, cancellation, typed errors), for Ollama's /v1
// and for any server that speaks it (vLLM, llama.cpp, OpenRouter, OpenAI itself).

export { isOllamaError, OllamaError, type OllamaErrorKind, type RateLimit } from '../errors.ts';
export type { CallOptions, FetchLike, RetryPolicy } from '../options.ts';
export { chatCompletions, chatCompletionsStream } from './chat.ts';
export { createOpenAI, type OpenAIClient, type OpenAIClientOptions } from './client.ts';
export {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  ConflictError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
} from './errors.ts';
export { completions, completionsStream } from './completions.ts';
export { type EmbeddingsOptions, embeddings } from './embeddings.ts';
export { listModels, retrieveModel } from './models.ts';
export { type SseEvent, SseParser, type SseParserOptions } from './sse.ts';
export type * from './types.ts';
