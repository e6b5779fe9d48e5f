import { callStream } from './call.ts';
import { isOllamaError, withNote } from './errors.ts';
import { resolveOptions, type CallOptions } from './options.ts';
import { ProgressTracker } from './progress.ts';
import { requireModel } from './request-body.ts';
import type { Exchange } from './request.ts';
import { streamObjects, SUCCESS } from './stream.ts';
import type { CreateRequest, ProgressEvent, ProgressResponse, PullRequest, PushRequest } from './types.ts';

/** Options of the calls that report progress. */
export interface ProgressOptions extends CallOptions {
  /**
   * Called with every progress line, in order, as it arrives: Ollama's `status`, `digest`,
   * `total` and `completed`, plus the overall `fraction` when it can be known. A promise it
   * returns is awaited before the next line is read. A throw ends the call with that error and
   * closes the connection.
   * @default none
   */
  onProgress?: ((event: ProgressEvent) => unknown) | undefined;
}

/**
 * POST /api/pull: downloads a model, resuming where an earlier pull stopped. Progress streams
 * on the wire whatever the call, so `readTimeout` stays meaningful through an hour-long
 * download: Ollama reports several times a second. Resolves with the final `success` line;
 * a name the registry does not know rejects with kind `stream`.
 */
export function pullModel(request: PullRequest, options?: ProgressOptions): Promise<ProgressResponse> {
  return progressCall('pullModel', '/api/pull', request, options);
}

/** POST /api/push: uploads a model to its registry (`namespace/model:tag`), with progress. */
export function pushModel(request: PushRequest, options?: ProgressOptions): Promise<ProgressResponse> {
  return progressCall('pushModel', '/api/push', request, options);
}

/** POST /api/create: a model from another (`from`), from uploaded files (`files`, digests from
 * `pushBlob`), or both, with progress. */
export function createModel(request: CreateRequest, options?: ProgressOptions): Promise<ProgressResponse> {
  return progressCall('createModel', '/api/create', request, options);
}

async function progressCall(
  call: string,
  path: string,
  request: PullRequest | CreateRequest,
  options: ProgressOptions | undefined,
): Promise<ProgressResponse> {
  const model = requireModel(call, request);
  const resolved = resolveOptions(options);
  const onProgress = options?.onProgress;
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new TypeError(`${call}: options.onProgress must be a function, got ${typeof onProgress}`);
  }
  const exchange: Exchange = {
    method: 'POST',
    path,
    body: { ...request, stream: true },
    model,
    accept: 'application/x-ndjson',
  };
  const tracker = new ProgressTracker();
  let last: ProgressResponse | undefined;
  try {
    const lines = callStream(exchange, resolved, (attempt) => streamObjects(exchange, attempt, SUCCESS));
    for await (const line of lines) {
      last = line as unknown as ProgressResponse;
      const event = tracker.add(last);
      if (onProgress !== undefined) await onProgress(event);
    }
  } catch (error) {
    if (isOllamaError(error) && error.kind === 'stream' && /file does not exist/.test(error.message)) {
      throw withNote(
        error,
        `The registry has no model "${model}": check its name and tag (https://ollama.com/library lists the public ones).`,
      );
    }
    throw error;
  }
  // streamObjects only ends without an error after the success line.
  return last as ProgressResponse;
}
