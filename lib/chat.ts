import { aggregateChat } from './aggregate.ts';
import { callOnce, callStream } from './call.ts';
import { resolveOptions, type CallOptions } from './options.ts';
import { encodeMessages, requireModel } from './request-body.ts';
import type { Exchange } from './request.ts';
import { DONE, streamObjects } from './stream.ts';
import type { ChatRequest, ChatResponse } from './types.ts';

/**
 * POST /api/chat, one chunk at a time, each exactly as Ollama sent it. Leaving the loop
 * early (`break`, `return`, a throw) closes the connection, so Ollama stops generating.
 * Options are checked at once; the request is sent when iteration starts.
 */
export function chatStream(request: ChatRequest, options?: CallOptions): AsyncGenerator<ChatResponse, void, undefined> {
  const exchange = chatExchange('chatStream', request);
  return callStream(exchange, resolveOptions(options), (attempt) =>
    streamObjects(exchange, attempt, DONE),
  ) as AsyncGenerator<ChatResponse, void, undefined>;
}

/**
 * POST /api/chat, answered as one object: exactly what Ollama answers for `stream: false`.
 * It streams on the wire all the same, so a long answer keeps bytes flowing.
 */
export async function chat(request: ChatRequest, options?: CallOptions): Promise<ChatResponse> {
  const exchange = chatExchange('chat', request);
  return callOnce(exchange, resolveOptions(options), (attempt) =>
    aggregateChat(streamObjects(exchange, attempt, DONE) as AsyncIterable<ChatResponse>),
  );
}

function chatExchange(call: string, request: ChatRequest): Exchange {
  const model = requireModel(call, request);
  const body: ChatRequest = { ...request, stream: true };
  const messages = encodeMessages(call, request.messages);
  if (messages !== undefined) body.messages = messages;
  return { method: 'POST', path: '/api/chat', body, model, accept: 'application/x-ndjson' };
}
