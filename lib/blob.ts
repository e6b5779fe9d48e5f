import { callOnce } from './call.ts';
import { isOllamaError } from './errors.ts';
import { resolveOptions, type CallOptions } from './options.ts';
import { fetchText, type Exchange } from './request.ts';

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
  const digest = options?.digest === undefined ? await sha256(body) : checked(options.digest);
  const path = `/api/blobs/${digest}`;
  const head: Exchange = { method: 'HEAD', path, accept: 'application/json' };
  try {
    await callOnce(head, resolved, (attempt) => fetchText(head, attempt));
    return digest;
  } catch (error) {
    if (!isOllamaError(error) || error.status !== 404) throw error;
  }
  const upload: Exchange = { method: 'POST', path, bytes: body, accept: 'application/json' };
  await callOnce(upload, resolved, (attempt) => fetchText(upload, attempt));
  return digest;
}

async function sha256(body: Uint8Array | Blob): Promise<string> {
  const subtle = (globalThis as { crypto?: { subtle?: SubtleCrypto } }).crypto?.subtle;
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
