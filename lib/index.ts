/*! ollama-fetch — MIT License */
// The public surface. Every file in lib/ works when copied alone with its relative imports:
// no dependency, no `node:` import, nothing runs at import.

export { chat, chatStream } from './chat.ts';
export { generate, generateStream } from './generate.ts';
export { embed, embeddings, type EmbedOptions } from './embed.ts';
export { listModels, showModel, listRunning, version, copyModel, deleteModel } from './models.ts';
export { pullModel, pushModel, createModel, type ProgressOptions } from './transfer.ts';
export { pushBlob, type BlobOptions } from './blob.ts';
export { isRunning } from './running.ts';
export { createClient, type ClientOptions, type OllamaClient } from './client.ts';
export { resolveHost } from './host.ts';
export { OllamaError, isOllamaError, type OllamaErrorKind } from './errors.ts';
export { LineSplitter, DEFAULT_MAX_LINE_LENGTH, type LineSplitterOptions } from './lines.ts';
export { readNdjson, type ReadNdjsonOptions } from './ndjson.ts';
export type { CallOptions, FetchLike, RetryPolicy } from './options.ts';
export { retry, backoff, type RetryContext, type RetryInfo, type RetryOptions } from './retry.ts';
export { VERSION } from './version.ts';
export type * from './types.ts';
