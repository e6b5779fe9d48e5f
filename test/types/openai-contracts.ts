// Type-level tests of ollama-fetch/openai: compiled by `npm test`, never run. Each
// `@ts-expect-error` line must stay an error; the other lines must keep compiling.
import {
  type ChatCompletion,
  type ChatCompletionChunk,
  type ChatCompletionRequest,
  chatCompletions,
  chatCompletionsStream,
  createOpenAI,
  type EmbeddingsResponse,
  type OpenAIOptions,
  type StreamPromise,
} from '../../lib/openai/index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | undefined {
  return undefined;
}

export async function openaiContracts(): Promise<void> {
  // The wire's own names, content parts with image_url, tool messages with tool_call_id.
  const request: ChatCompletionRequest = {
    model: 'llama3.2',
    max_tokens: 100,
    response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } },
    tool_choice: 'auto',
    stream_options: { include_usage: true },
    reasoning_effort: 'low',
    messages: [
      { role: 'system', content: 'Be brief.' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is this?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
        ],
      },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }],
      },
      { role: 'tool', content: '{"ok":true}', tool_call_id: 'c1' },
    ],
    // Open to fields a server adds (vLLM's sampling extras, OpenRouter's provider routing).
    top_k: 20,
  };
  // @ts-expect-error a tool message needs its tool_call_id
  const noId: ChatCompletionRequest = { model: 'm', messages: [{ role: 'tool', content: 'x' }] };
  // @ts-expect-error a known field keeps its wire type: max_tokens is a number
  const wrongType: ChatCompletionRequest = { model: 'm', messages: [], max_tokens: '5' };
  void noId;
  void wrongType;

  const answer = await chatCompletions(request);
  expectType<Equal<typeof answer, ChatCompletion>>();
  const content: string | null | undefined = answer.choices[0]?.message.content;
  void content;
  for await (const chunk of chatCompletionsStream(request)) {
    expectType<Equal<typeof chunk, ChatCompletionChunk>>();
    // `choices` may be empty (the usage chunk): indexing gives possibly undefined.
    // @ts-expect-error choices[0] may be undefined
    void chunk.choices[0].delta;
  }

  const client = createOpenAI({ baseURL: 'http://127.0.0.1:11434/v1' });
  const whole = await client.chat.completions.create({ model: 'm', messages: [] });
  expectType<Equal<typeof whole, ChatCompletion>>();
  const streamed = client.chat.completions.create({ model: 'm', messages: [], stream: true });
  expectType<Equal<typeof streamed, StreamPromise<ChatCompletionChunk>>>();
  const vectors = await client.embeddings.create({ model: 'e', input: ['a'] });
  expectType<Equal<typeof vectors, EmbeddingsResponse>>();
  // Numbers unless base64 was asked for, as openai-node code expects them.
  const first: number[] = vectors.data[0]!.embedding;
  const encoded = await client.embeddings.create({ model: 'e', input: 'a', encoding_format: 'base64' });
  const text: string = encoded.data[0]!.embedding;
  // @ts-expect-error base64 vectors are strings
  const notNumbers: number[] = encoded.data[0]!.embedding;
  void [first, text, notNumbers];
  // An answer's message goes back into the history as it is (its reasoning may be null).
  const history: ChatCompletionRequest['messages'] = [{ role: 'user', content: 'hi' }];
  const answered = await client.chat.completions.create({ model: 'm', messages: history });
  history.push(answered.choices[0]!.message);
  const options: OpenAIOptions = { baseURL: 'https://openrouter.ai/api/v1', apiKey: 'k', readTimeout: 0 };
  void options;
}
