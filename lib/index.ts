/*! ollama-fetch — MIT License */
// The public surface. The files beside this one are the modules a user imports; the machinery
// under them is in internal/. Every file works when copied with its relative imports: no
// dependency, no `node:` import, nothing runs at import.

export { chat, chatStream, generate, generateStream } from './chat.ts';
export { type ClientOptions, createClient, type OllamaClient } from './client.ts';
export { type EmbedOptions, embed, embeddings } from './embed.ts';
export { isOllamaError, OllamaError, type OllamaErrorKind } from './errors.ts';
export { resolveHost } from './host.ts';
export { DEFAULT_MAX_LINE_LENGTH, LineSplitter, type LineSplitterOptions } from './lines.ts';
export { copyModel, deleteModel, isRunning, listModels, listRunning, showModel, version } from './models.ts';
export { type ReadNdjsonOptions, readNdjson } from './ndjson.ts';
export type { CallOptions, FetchLike, HeadersInput, RetryPolicy } from './options.ts';
export { backoff, type RetryContext, type RetryInfo, type RetryOptions, retry } from './retry.ts';
export { type BlobOptions, createModel, type ProgressOptions, pullModel, pushBlob, pushModel } from './transfer.ts';
export type * from './types.ts';
export { VERSION } from './version.ts';
export {
  type WebFetchRequest,
  type WebFetchResponse,
  type WebSearchRequest,
  type WebSearchResponse,
  type WebSearchResult,
  webFetch,
  webSearch,
} from './web.ts';
