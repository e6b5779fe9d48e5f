// Type-level tests of ollama-fetch/compat: code written against ollama-js 0.6.4's types must
// compile against these, and the overloads must give the same answer types. Compiled by `npm
// test` (through tsconfig.json), never run; each `@ts-expect-error` must stay an error.
import ollama, {
  type AbortableAsyncIterator,
  type ChatRequest,
  type ChatResponse,
  type Config,
  type GenerateResponse,
  type Message,
  Ollama,
  type Options,
  type ProgressResponse,
  type StatusResponse,
  type Tool,
  type WebSearchResponse,
} from '../../lib/compat/index.ts';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function expectType<T extends true>(): T | undefined {
  return undefined;
}

export async function compatContracts(): Promise<void> {
  // ollama-js's constructor options, and this library's beside them.
  const config: Partial<Config> = { host: 'http://127.0.0.1:11434', headers: { 'X-Team': 'a' } };
  const client = new Ollama({ ...config, readTimeout: 600_000, retry: { retries: 3 }, apiKey: 'k' });
  // @ts-expect-error readTimeout is milliseconds, not a string
  new Ollama({ readTimeout: '10m' });

  // The options ollama-js names (mirostat and friends) are accepted; a string format too.
  const options: Partial<Options> = { mirostat: 1, temperature: 0, num_ctx: 4096 };
  const tools: Tool[] = [{ type: 'function', function: { name: 'f', parameters: { type: 'object' } } }];
  const messages: Message[] = [{ role: 'user', content: 'hi', images: [new Uint8Array(1)] }];
  const request: ChatRequest = { model: 'm', messages, options, tools, format: 'json', keep_alive: '5m' };

  // ollama-js's own tool example: a tool written without a type annotation (its `type` widens to
  // string), and arguments read as ollama-js types them (`any` per key).
  const addTwoNumbersTool = {
    type: 'function',
    function: {
      name: 'addTwoNumbers',
      description: 'Add two numbers together',
      parameters: {
        type: 'object',
        required: ['a', 'b'],
        properties: { a: { type: 'number', description: 'The first number' }, b: { type: 'number' } },
      },
    },
  };
  const answer = await client.chat({
    model: 'm',
    messages: [{ role: 'user', content: '3+1?' }],
    tools: [addTwoNumbersTool],
  });
  for (const call of answer.message.tool_calls ?? []) {
    const sum: number = call.function.arguments.a + call.function.arguments.b;
    const city: string = call.function.arguments.city;
    void [sum, city];
  }
  // The answer's message goes back into the history as it is.
  const history: Message[] = [{ role: 'user', content: '3+1?' }, answer.message];
  void history;

  // stream: false (or absent) answers one object; stream: true an AbortableAsyncIterator.
  const whole = await client.chat({ ...request, stream: false });
  expectType<Equal<typeof whole, ChatResponse>>();
  const plain = await client.chat({ model: 'm', messages });
  expectType<Equal<typeof plain, ChatResponse>>();
  // A request whose stream is a boolean known only at run time: either answer.
  const either = await client.chat(request);
  expectType<Equal<typeof either, ChatResponse | AbortableAsyncIterator<ChatResponse>>>();
  const stream = await client.chat({ ...request, stream: true });
  expectType<Equal<typeof stream, AbortableAsyncIterator<ChatResponse>>>();
  stream.abort();
  for await (const part of stream) {
    const text: string = part.message.content;
    void text;
  }
  const generated = await ollama.generate({ model: 'm', prompt: 'p' });
  expectType<Equal<typeof generated, GenerateResponse>>();
  const progress = await ollama.pull({ model: 'm', stream: true });
  for await (const line of progress) {
    const status: string = line.status;
    void status;
  }
  const created = await ollama.create({ model: 'm', from: 'n' });
  expectType<Equal<typeof created, ProgressResponse>>();
  const deleted: StatusResponse = await ollama.delete({ model: 'm' });
  void deleted;
  const found: WebSearchResponse = await ollama.webSearch({ query: 'q', maxResults: 3 });
  void found;

  // Each call may take options of its own: a signal, a timeout.
  await client.list({ signal: AbortSignal.timeout(1000), totalTimeout: 5000 });
  // @ts-expect-error a model is required
  await client.show({});
  // ResponseError's fields are typed on the error.
  try {
    await client.version();
  } catch (error) {
    if (error instanceof Error && 'status_code' in error) void error.status_code;
  }
}
