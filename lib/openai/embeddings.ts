import { readJson } from '../internal/attempt.ts';
import { inBatches } from '../internal/batches.ts';
import { callOnce } from '../internal/call.ts';
import { contextOf } from '../internal/exchange.ts';
import { vectorCount } from '../internal/protocol-error.ts';
import type { ResolvedOptions } from '../internal/resolve-options.ts';
import { requireModel } from '../internal/validate.ts';
import { count } from '../retry.ts';
import { queried, v1Exchange } from './internal/exchange.ts';
import { resolveV1 } from './internal/resolve.ts';
import type { Embedding, EmbeddingsRequest, EmbeddingsResponse, OpenAIOptions } from './types.ts';

/** Options of `embeddings`. */
export interface EmbeddingsOptions extends OpenAIOptions {
  /**
   * The most inputs sent in one request. A longer `input` is split into requests of this many,
   * and the vectors come back in input order, indexed as if it had been one request.
   * @default 512
   */
  batchSize?: number | undefined;
  /**
   * The most batch requests in flight at once, sent at once, for servers that work on several
   * (vLLM, hosted APIs). Ollama works on one at a time: there the second batch's wait for its
   * answer counts the first's work against `readTimeout`.
   * @default 2
   */
  concurrency?: number | undefined;
}

/**
 * POST {base}/embeddings: one vector per input, in input order. `data[].embedding` is always
 * `number[]` unless the request asks for `encoding_format: "base64"` (then it is the server's
 * base64 string). Floats travel as the server writes them (JSON numbers); a server that
 * answers base64 unasked is decoded to the same float32 values. An `input` longer than
 * `batchSize` goes out in several requests, as the native `embed` does.
 */
export function embeddings(
  request: EmbeddingsRequest & { encoding_format: 'base64' },
  options?: EmbeddingsOptions,
): Promise<EmbeddingsResponse<string>>;
export function embeddings(request: EmbeddingsRequest, options?: EmbeddingsOptions): Promise<EmbeddingsResponse>;
export async function embeddings(
  request: EmbeddingsRequest,
  options?: EmbeddingsOptions,
): Promise<EmbeddingsResponse | EmbeddingsResponse<string>> {
  const model = requireModel('embeddings', request);
  const { input } = request;
  if (typeof input !== 'string' && !(Array.isArray(input) && input.every((item) => typeof item === 'string'))) {
    throw new TypeError('embeddings: request.input must be a string or an array of strings');
  }
  const resolved = resolveV1(options);
  const batchSize = count(options?.batchSize ?? 512, 'embeddings: options.batchSize', 1);
  const concurrency = count(options?.concurrency ?? 2, 'embeddings: options.concurrency', 1);
  if (typeof input === 'string' || input.length <= batchSize) return embedOnce(request, model, resolved);

  const batches = Math.ceil(input.length / batchSize);
  const context = contextOf(
    queried(v1Exchange('embeddings', '/embeddings', request, model, false), resolved),
    resolved,
  );
  const parts = await inBatches(batches, concurrency, resolved, context, (index, batchOptions) =>
    embedOnce({ ...request, input: input.slice(index * batchSize, (index + 1) * batchSize) }, model, batchOptions),
  );
  const merged: EmbeddingsResponse = { ...parts[0]!, data: [] };
  let prompt = 0;
  let total = 0;
  let counted = false;
  parts.forEach((part, batch) => {
    for (const item of part.data) merged.data.push({ ...item, index: item.index + batch * batchSize });
    if (part.usage !== undefined) {
      counted = true;
      prompt += part.usage.prompt_tokens ?? 0;
      total += part.usage.total_tokens ?? 0;
    }
  });
  if (counted) merged.usage = { ...parts[0]!.usage, prompt_tokens: prompt, total_tokens: total };
  return merged;
}

async function embedOnce(
  request: EmbeddingsRequest,
  model: string,
  options: ResolvedOptions,
): Promise<EmbeddingsResponse> {
  const exchange = v1Exchange('embeddings', '/embeddings', request, model, false);
  const answer = await callOnce<EmbeddingsResponse>(queried(exchange, options), options, readJson);
  const sent = typeof request.input === 'string' ? 1 : request.input.length;
  const got = Array.isArray(answer?.data) ? answer.data.length : undefined;
  if (got !== sent) throw vectorCount(contextOf(exchange, options), sent, got);
  // Input order, whatever order the server listed them in.
  answer.data.sort((a, b) => a.index - b.index);
  if (request.encoding_format !== 'base64') {
    for (const item of answer.data) if (typeof item.embedding === 'string') item.embedding = floats(item.embedding);
  }
  return answer;
}

/** Base64 of little-endian float32 values, as numbers. */
function floats(text: string): Embedding['embedding'] {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  const out: number[] = new Array<number>(bytes.length >> 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
