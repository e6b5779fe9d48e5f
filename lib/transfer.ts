import { isOllamaError, withNote } from './errors.ts';
import { readTextAnswer } from './internal/attempt.ts';
import { asOneCall } from './internal/batches.ts';
import { callEach, callOnce } from './internal/call.ts';
import { CREATED, readChunks, SUCCESS } from './internal/chunks.ts';
import { type ChunkFields, contextOf, type Exchange } from './internal/exchange.ts';
import { ProgressTracker } from './internal/progress.ts';
import { resolveOptions } from './internal/resolve-options.ts';
import { requestJson } from './internal/serialise.ts';
import { optionalFunction, requireModel } from './internal/validate.ts';
import type { CallOptions } from './options.ts';
import { unlessAborted } from './retry.ts';
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
 * download: Ollama reports several times a second. After the download Ollama checks what it
 * downloaded ("verifying sha256 digest") without a word, for minutes with a large model: that
 * wait has no read timeout (`totalTimeout` and `signal` still apply). Resolves with the final
 * `success` line; a name the registry does not know rejects with kind `stream`.
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

/**
 * A line that announces a step Ollama takes without a word, however long it is: a pull's (and a
 * create's pull of its base) "verifying sha256 digest", which hashes every layer downloaded (a
 * few minutes for a model of hundreds of GB), and a create's "converting model", "converting
 * adapter", "verifying conversion", "parsing GGUF" and "updating GGUF projector metadata". A
 * line with progress numbers is not one: its step reports as it goes.
 */
function silentStep(chunk: ChunkFields): boolean {
  const { status } = chunk;
  return typeof status === 'string' && chunk.total === undefined && SILENT_STEP.test(status);
}

const SILENT_STEP = /^(verifying|converting|parsing|updating) /;

async function progressCall(
  call: string,
  path: string,
  request: PullRequest | CreateRequest,
  options: ProgressOptions | undefined,
): Promise<ProgressResponse> {
  const model = requireModel(call, request);
  const resolved = resolveOptions(options);
  const onProgress = options?.onProgress;
  optionalFunction(call, 'onProgress', onProgress);
  const exchange: Exchange = {
    method: 'POST',
    path,
    json: requestJson(call, { ...request, stream: true }),
    model,
    accept: 'application/x-ndjson',
    final: path === '/api/create' ? CREATED : SUCCESS,
    silentStep,
  };
  const tracker = new ProgressTracker(exchange.final);
  const report = (line: ProgressResponse): unknown => {
    const event = tracker.add(line);
    return onProgress?.(event);
  };
  let last: ProgressResponse | undefined;
  try {
    last = await callEach<ProgressResponse>(exchange, resolved, readChunks, report);
  } catch (error) {
    if (isOllamaError(error) && error.kind === 'stream' && /file does not exist/.test(error.message)) {
      // A create pulls its base (`from`): that is the name the registry does not know.
      const from = (request as CreateRequest).from;
      const missing = path === '/api/create' && typeof from === 'string' ? from : model;
      throw withNote(
        error,
        `The registry has no model "${missing}": check its name and tag (https://ollama.com/library lists the public ones).`,
      );
    }
    throw error;
  }
  // The chunk rules end a stream without an error only after its success line.
  return last as ProgressResponse;
}

/** Options of `pushBlob`. */
export interface BlobOptions extends CallOptions {
  /**
   * The bytes' sha256 as `sha256:<64 hex digits>`, when you already know it: hashing is then
   * skipped (Web Crypto has no incremental digest, so hashing holds the whole file in memory),
   * and the server checks it on upload all the same.
   * @default computed with `crypto.subtle`
   */
  digest?: string | undefined;
}

const DIGEST = /^sha256[:-][0-9a-f]{64}$/i;

/**
 * Uploads a file's bytes (a GGUF model, a safetensors file, an adapter) to POST
 * /api/blobs/:digest and resolves with the digest to put in `createModel`'s `files`. A HEAD
 * request first asks whether the server has it already; if so, nothing is uploaded. A `Blob`
 * (a browser `File`, Node's `fs.openAsBlob`) is streamed by fetch rather than copied.
 */
export async function pushBlob(bytes: Uint8Array | ArrayBuffer | Blob, options?: BlobOptions): Promise<string> {
  const body = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes;
  if (!(body instanceof Uint8Array) && !isBlob(body)) {
    throw new TypeError('pushBlob: the bytes must be a Uint8Array, an ArrayBuffer or a Blob (such as a File)');
  }
  const resolved = resolveOptions(options);
  const given = options?.digest === undefined ? undefined : checked(options.digest);
  resolved.signal?.throwIfAborted();
  const context = contextOf({ method: 'POST', path: '/api/blobs/', accept: 'application/json' }, resolved);
  // The hashing, the HEAD and the upload are one call: one totalTimeout, and the signal in each.
  return asOneCall(resolved, context, async (shared) => {
    // Web Crypto's digest cannot be stopped: an abort leaves it to finish unread.
    const digest = given ?? (await unlessAborted(sha256(body), shared.signal));
    const path = `/api/blobs/${digest}`;
    const head: Exchange = { method: 'HEAD', path, accept: 'application/json' };
    try {
      await callOnce(head, shared, readTextAnswer);
      return digest;
    } catch (error) {
      if (!isOllamaError(error) || error.status !== 404) throw error;
    }
    const upload: Exchange = { method: 'POST', path, bytes: body, accept: 'application/json' };
    await callOnce(upload, shared, readTextAnswer);
    return digest;
  });
}

/** The one member of Web Crypto's `SubtleCrypto` used here, written out so that no DOM library
 * is needed to compile this file (Node's typings name theirs `webcrypto.SubtleCrypto`). */
interface Digester {
  digest(algorithm: 'SHA-256', data: Uint8Array<ArrayBuffer>): Promise<ArrayBuffer>;
}

async function sha256(body: Uint8Array | Blob): Promise<string> {
  const subtle = (globalThis as { crypto?: { subtle?: Digester } }).crypto?.subtle;
  if (subtle === undefined) {
    throw new TypeError(
      'pushBlob: Web Crypto (crypto.subtle) is not available here (a page served over plain http, or Node 18 ' +
        'without --experimental-global-webcrypto); pass options.digest with the sha256 you computed another way.',
    );
  }
  const data = body instanceof Uint8Array ? body : new Uint8Array(await body.arrayBuffer());
  const hash = new Uint8Array(await subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>));
  let hex = '';
  for (const byte of hash) hex += byte.toString(16).padStart(2, '0');
  return `sha256:${hex}`;
}

function checked(digest: unknown): string {
  if (typeof digest !== 'string' || !DIGEST.test(digest)) {
    throw new TypeError(`pushBlob: options.digest must be "sha256:" and 64 hex digits, got ${JSON.stringify(digest)}`);
  }
  return `sha256:${digest.slice(7).toLowerCase()}`;
}

function isBlob(value: unknown): value is Blob {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}
