import { callOnce, callStream } from './internal/call.ts';
import { readChunks } from './internal/chunks.ts';
import type { Exchange } from './internal/exchange.ts';
import { foldChat, foldGenerate } from './internal/fold.ts';
import { encodeImages, encodeMessages } from './internal/images.ts';
import { resolveOptions } from './internal/resolve-options.ts';
import { requestJson } from './internal/serialise.ts';
import type { ResolvedOptions } from './internal/resolve-options.ts';
import { refuseStreamFlag, requireModel } from './internal/validate.ts';
import type { CallOptions } from './options.ts';
import type {
  ChatRequest,
  ChatResponse,
  ChatStreamRequest,
  GenerateRequest,
  GenerateResponse,
  GenerateStreamRequest,
} from './types.ts';

// Inference: /api/chat and /api/generate, each as a stream of chunks exactly as Ollama sent them
// and as the one object Ollama answers for `stream: false`. Both always stream on the wire, so a
// long answer keeps bytes flowing and `readTimeout` keeps meaning "the server went silent".

/**
 * POST /api/chat, one chunk at a time, each exactly as Ollama sent it. Leaving the loop
 * early (`break`, `return`, a throw) closes the connection, so Ollama stops generating.
 * Options are checked at once; the request is sent when iteration starts.
 */
export function chatStream(
  request: ChatStreamRequest,
  options?: CallOptions,
): AsyncGenerator<ChatResponse, void, undefined> {
  return chatStreamWith(request, resolveOptions(options));
}

/** `chatStream` with options already resolved: for a caller that runs it as one part of a larger
 * run (a round of the tool loop, which gives it the run's deadline). Not part of the package's API. */
export function chatStreamWith(
  request: ChatStreamRequest,
  options: ResolvedOptions,
): AsyncGenerator<ChatResponse, void, undefined> {
  return callStream<ChatResponse>(chatExchange('chatStream', request), options, readChunks);
}

/**
 * POST /api/chat, answered as one object: exactly what Ollama answers for `stream: false`.
 * It streams on the wire all the same, so a long answer keeps bytes flowing.
 */
export async function chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse> {
  refuseStreamFlag('chat', request, 'chatStream');
  return callOnce(chatExchange('chat', request), resolveOptions(options), readChatAnswer);
}

/** POST /api/generate, one chunk at a time, each exactly as Ollama sent it. Leaving the loop
 * early closes the connection, so Ollama stops generating. */
export function generateStream(
  request: GenerateStreamRequest,
  options?: CallOptions,
): AsyncGenerator<GenerateResponse, void, undefined> {
  return callStream<GenerateResponse>(generateExchange('generateStream', request), resolveOptions(options), readChunks);
}

/** POST /api/generate, answered as one object: exactly what Ollama answers for
 * `stream: false`, `context` included. It streams on the wire all the same. */
export async function generate(request: GenerateRequest, options?: CallOptions): Promise<GenerateResponse> {
  refuseStreamFlag('generate', request, 'generateStream');
  return callOnce(generateExchange('generate', request), resolveOptions(options), readGenerateAnswer);
}

async function readChatAnswer(exchange: Exchange, options: ResolvedOptions): Promise<ChatResponse> {
  return foldChat(await readChunks<ChatResponse>(exchange, options));
}

async function readGenerateAnswer(exchange: Exchange, options: ResolvedOptions): Promise<GenerateResponse> {
  return foldGenerate(await readChunks<GenerateResponse>(exchange, options));
}

function chatExchange(call: string, request: ChatStreamRequest): Exchange {
  const model = requireModel(call, request);
  const body: ChatStreamRequest = { ...request, stream: true };
  const messages = encodeMessages(call, request.messages);
  if (messages !== undefined) body.messages = messages;
  return { method: 'POST', path: '/api/chat', json: requestJson(call, body), model, accept: 'application/x-ndjson' };
}

function generateExchange(call: string, request: GenerateStreamRequest): Exchange {
  const model = requireModel(call, request);
  const body: GenerateStreamRequest = { ...request, stream: true };
  const images = encodeImages(call, request.images);
  if (images !== undefined) body.images = images;
  return {
    method: 'POST',
    path: '/api/generate',
    json: requestJson(call, body),
    model,
    accept: 'application/x-ndjson',
  };
}
