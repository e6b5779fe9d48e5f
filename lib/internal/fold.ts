import type { ChatResponse, GenerateResponse, Logprob, Message, ToolCall } from '../types.ts';

/**
 * Folds streamed chunks into the one object Ollama itself answers for `stream: false`: text
 * and thinking concatenated, logprobs collected from every chunk, everything else (metrics,
 * `done_reason`, `context`, `created_at`) from the final chunk. Tool calls are collected from
 * every chunk, since they may arrive mid-stream or in the final chunk. (Ollama keeps
 * mid-stream calls only when the request listed tools; a model never calls a tool it was not
 * given, so collecting always loses nothing and changes nothing.)
 */
class Parts {
  text = '';
  thinking = '';
  toolCalls: ToolCall[] = [];
  logprobs: Logprob[] = [];

  add(text: unknown, thinking: unknown, toolCalls: unknown, logprobs: unknown): void {
    if (typeof text === 'string') this.text += text;
    if (typeof thinking === 'string') this.thinking += thinking;
    // A loop, not push(...x): a chunk with a huge array must not overflow the call stack.
    if (Array.isArray(toolCalls)) for (const call of toolCalls) this.toolCalls.push(call as ToolCall);
    if (Array.isArray(logprobs)) for (const entry of logprobs) this.logprobs.push(entry as Logprob);
  }

  /** Sets the collected field, or removes it when empty, as Go's `omitempty` does. */
  static place<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | undefined, keep: boolean): void {
    if (keep) target[key] = value as T[K];
    else delete target[key];
  }
}

export async function foldChat(chunks: AsyncIterable<ChatResponse>): Promise<ChatResponse> {
  const parts = new Parts();
  let last: ChatResponse | undefined;
  for await (const chunk of chunks) {
    const message: Partial<Message> = chunk.message ?? {};
    parts.add(message.content, message.thinking, message.tool_calls, chunk.logprobs);
    last = chunk;
  }
  // The stream layer only ends normally after a final chunk, so `last` is set.
  const result: ChatResponse = { ...last! };
  const message: Message = { ...(last!.message ?? { role: 'assistant' }), content: parts.text };
  Parts.place(message, 'thinking', parts.thinking, parts.thinking !== '');
  Parts.place(message, 'tool_calls', parts.toolCalls, parts.toolCalls.length > 0);
  result.message = message;
  Parts.place(result, 'logprobs', parts.logprobs, parts.logprobs.length > 0);
  return result;
}

export async function foldGenerate(chunks: AsyncIterable<GenerateResponse>): Promise<GenerateResponse> {
  const parts = new Parts();
  let last: GenerateResponse | undefined;
  for await (const chunk of chunks) {
    parts.add(chunk.response, chunk.thinking, chunk.tool_calls, chunk.logprobs);
    last = chunk;
  }
  const result: GenerateResponse = { ...last!, response: parts.text };
  Parts.place(result, 'thinking', parts.thinking, parts.thinking !== '');
  Parts.place(result, 'tool_calls', parts.toolCalls, parts.toolCalls.length > 0);
  Parts.place(result, 'logprobs', parts.logprobs, parts.logprobs.length > 0);
  return result;
}
